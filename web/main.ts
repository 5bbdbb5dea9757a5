// The demo page: a WebGPU runtime on navigator.gpu, a model from a URL (?model=..., default
// models/ravdess-8/) or from two picked files, then an audio file or a microphone recording through
// decode -> prepare -> GPU features -> GPU inference, with the waveform, the feature heat map, the
// class probabilities and each stage's time. The last result (or error) is also left in
// window.__ser for automated checks.

import {
  CheckpointError, DecodeError, FeatureError, NoAdapterError, Recogniser, createBrowserGpu, loadModelFromBytes, loadModelFromUrl,
  type AudioPrediction, type Gpu,
} from '../src/browser';
import { drawFeatures, drawWaveform } from './draw';
import { MicrophoneRecorder } from './recorder';

interface PageState {
  state: 'starting' | 'ready' | 'model' | 'busy' | 'done' | 'error';
  adapter?: Record<string, unknown>;
  result?: { label: string; probabilities: Record<string, number>; timings: AudioPrediction['timings']; frames: number };
  error?: string;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const page: PageState = { state: 'starting' };
(window as unknown as { __ser: PageState }).__ser = page;
let gpu: Gpu | null = null;
let recogniser: Recogniser | null = null;
const recorder = new MicrophoneRecorder();

function status(text: string, kind: 'info' | 'ok' | 'error' = 'info'): void {
  const el = $('status');
  el.textContent = text;
  el.className = kind === 'info' ? '' : kind;
}

function explain(e: unknown): string {
  if (e instanceof NoAdapterError) return `No WebGPU: ${e.message}`;
  if (e instanceof CheckpointError) return `Invalid model files: ${e.message}`;
  if (e instanceof DecodeError) return `Cannot decode this audio: ${e.message}`;
  if (e instanceof FeatureError) return `No features from this audio: ${e.reason}`;
  if (e instanceof DOMException && (e.name === 'NotAllowedError' || e.name === 'SecurityError')) return 'Microphone refused: allow microphone access for this page, or choose an audio file instead.';
  if (e instanceof DOMException && e.name === 'NotFoundError') return 'No microphone found: choose an audio file instead.';
  return `Error: ${(e as Error)?.message ?? String(e)}`;
}

function fail(e: unknown): void {
  page.state = 'error';
  page.error = explain(e);
  status(page.error, 'error');
  console.error(e);
}

async function useModel(load: (g: Gpu) => Promise<Recogniser>): Promise<void> {
  if (!gpu) return;
  page.state = 'busy';
  status('Loading the model…');
  try {
    const next = await load(gpu);
    recogniser?.dispose();
    recogniser = next;
    const m = next.loaded.meta;
    $('model-info').textContent = `${m.classes.length} classes (${m.classes.join(', ')}); input ${m.modelConfig.inputRows} x ${m.featureConfig.frames} features at ${m.featureConfig.sampleRate} Hz`;
    page.state = 'model';
    status('Model loaded: choose an audio file or record.', 'ok');
  } catch (e) {
    fail(e);
  }
}

function show(p: AudioPrediction): void {
  const rows = p.rowNames.length;
  const stride = p.features.length / rows;
  drawWaveform($<HTMLCanvasElement>('wave'), p.audio.samples);
  $('wave-info').textContent = `${p.audio.durationS.toFixed(2)} s at ${p.audio.sampleRate} Hz, ${p.audio.channels} channel${p.audio.channels > 1 ? 's' : ''}`;
  drawFeatures($<HTMLCanvasElement>('features'), p.features, rows, stride, p.frames);
  $('feat-info').textContent = `${rows} x ${Math.min(p.frames, stride)} of ${stride} frames`;
  $('label').textContent = p.label;
  const bars = $('bars');
  bars.replaceChildren();
  for (const [name, v] of Object.entries(p.probabilities).sort((a, b) => b[1] - a[1])) {
    const bar = document.createElement('div');
    bar.className = name === p.label ? 'bar best' : 'bar';
    bar.innerHTML = `<span></span><div class="track"><div class="fill" style="width:${(100 * v).toFixed(1)}%"></div></div><span class="v">${(100 * v).toFixed(1)}%</span>`;
    bar.firstElementChild!.textContent = name;
    bars.append(bar);
  }
  const t = p.timings;
  const rowsHtml: [string, number][] = [['decode', t.decodeMs], ['resample + trim (CPU)', t.prepareMs], ['features (GPU)', t.featuresMs], ['inference (GPU)', t.inferenceMs], ['total', t.totalMs]];
  $('timings').innerHTML = rowsHtml.map(([k, v]) => `<tr><td>${k}</td><td>${v.toFixed(1)} ms</td></tr>`).join('');
}

async function predict(run: (r: Recogniser) => Promise<AudioPrediction>): Promise<void> {
  if (!recogniser) return fail(new Error('load a model first'));
  page.state = 'busy';
  status('Computing…');
  try {
    const p = await run(recogniser);
    show(p);
    page.result = { label: p.label, probabilities: p.probabilities, timings: p.timings, frames: p.frames };
    page.state = 'done';
    status(`Predicted: ${p.label} (${(100 * p.probabilities[p.label]!).toFixed(1)}%) in ${p.timings.totalMs.toFixed(0)} ms`, 'ok');
  } catch (e) {
    fail(e);
  }
}

async function defaultModelUrl(): Promise<string | null> {
  const fromQuery = new URLSearchParams(location.search).get('model');
  if (fromQuery) return fromQuery;
  const fallback = $<HTMLInputElement>('model-url').value;
  const head = await fetch(new URL('model.json', new URL(fallback, location.href)), { method: 'HEAD' }).catch(() => null);
  return head?.ok ? fallback : null;
}

async function main(): Promise<void> {
  try {
    gpu = await createBrowserGpu();
  } catch (e) {
    return fail(e);
  }
  page.adapter = { ...gpu.adapter };
  const a = gpu.adapter;
  $('adapter').textContent = `WebGPU adapter: ${[a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / ')}${a.isFallbackAdapter ? ' (software fallback)' : ''}`;
  page.state = 'ready';
  status('WebGPU ready: load a model.');

  $('load-url').onclick = () => void useModel(async (g) => new Recogniser(g, await loadModelFromUrl(g, $<HTMLInputElement>('model-url').value)));
  $<HTMLInputElement>('model-files').onchange = (ev) => {
    const files = Array.from((ev.target as HTMLInputElement).files ?? []);
    const json = files.find((f) => f.name.endsWith('.json'));
    const weights = files.find((f) => f.name.endsWith('.safetensors'));
    if (!json || !weights) return fail(new CheckpointError('pick both model.json and model.safetensors (select the two files together)'));
    void useModel(async (g) =>
      new Recogniser(g, await loadModelFromBytes(g, { json: await json.text(), safetensors: new Uint8Array(await weights.arrayBuffer()), from: { json: json.name, tensors: weights.name } })),
    );
  };
  $<HTMLInputElement>('audio-file').onchange = (ev) => {
    const file = (ev.target as HTMLInputElement).files?.[0];
    if (file) void predict(async (r) => r.predictAudio(new Uint8Array(await file.arrayBuffer()), { fileName: file.name }));
  };
  $('record').onclick = async () => {
    if (recorder.recording) return recorder.finish();
    if (!recogniser) return fail(new Error('load a model first'));
    try {
      $('record').textContent = '■ Stop';
      const rec = await recorder.start({ maxSeconds: 10, onTick: (s) => void ($('record-info').textContent = `recording… ${s.toFixed(1)} s`) });
      $('record-info').textContent = `recorded ${(rec.samples.length / rec.sampleRate).toFixed(1)} s`;
      await predict((r) => r.predictDecoded({ samples: rec.samples, sampleRate: rec.sampleRate, channels: 1, durationS: rec.samples.length / rec.sampleRate }, { fileName: 'recording' }));
    } catch (e) {
      fail(e);
    } finally {
      $('record').textContent = '● Record';
    }
  };

  const url = await defaultModelUrl();
  if (url) {
    $<HTMLInputElement>('model-url').value = url;
    await useModel(async (g) => new Recogniser(g, await loadModelFromUrl(g, url)));
  } else {
    status('WebGPU ready: no model at the default URL; enter a model folder URL or pick model.json + model.safetensors.');
  }
}

void main();

// The demo page: a WebGPU runtime on navigator.gpu, a model from a URL (?model=..., default the
// shipped models/general/ when the server has it) or from two picked files, then an audio file or
// a microphone recording through decode -> prepare -> GPU features -> GPU inference, with the
// waveform, the feature heat map, the class probabilities and each stage's time. Recordings are
// processed while they are made (live.ts: CPU preparation and per-frame GPU features as the audio
// arrives, live previews) and the stop-to-answer latency is shown. The last result
// (or error) is also left in window.__ser for automated checks.

import {
  CheckpointError, DecodeError, FeatureError, NoAdapterError, Recogniser, createBrowserGpu, useBrowserTuning, type BrowserTuning, loadModelFromBytes, loadModelFromUrl,
  type AudioPrediction, type Gpu,
} from '../src/browser';
import { LiveSession } from './live';
import { MicrophoneRecorder } from './recorder';
import { $, painted, showClasses, showFeatures, showPrediction, showTimings, showWaveform } from './view';

interface PageState {
  state: 'starting' | 'ready' | 'model' | 'busy' | 'recording' | 'done' | 'error';
  adapter?: Record<string, unknown>;
  /** The tuner's choices in use on this adapter (localStorage; ?tune=auto measures the missing ones first, ?tune=off ignores them). */
  tuning?: BrowserTuning;
  /** Why tuning failed (the built-in kernels are used then). */
  tuningError?: string;
  warmUpMs?: number;
  result?: { label: string; probabilities: Record<string, number>; timings: Record<string, number>; frames: number; source: 'file' | 'microphone' };
  /** Live previews shown during the last recording. */
  previews?: number;
  /** The last recording and its features, for automated checks (it never leaves the page). */
  recording?: { samples: Float32Array; sampleRate: number; features: Float32Array };
  error?: string;
}

const page: PageState = { state: 'starting' };
(window as unknown as { __ser: PageState }).__ser = page;
let gpu: Gpu | null = null;
let recogniser: Recogniser | null = null;
const recorder = new MicrophoneRecorder();
const MAX_SECONDS = 10;

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
    status('Model loaded; compiling the GPU pipelines…');
    page.warmUpMs = await next.warmUp();
    $('model-info').textContent = `${m.classes.length} classes (${m.classes.join(', ')}); input ${m.modelConfig.inputRows} x ${m.featureConfig.frames} features at ${m.featureConfig.sampleRate} Hz; GPU pipelines compiled in ${page.warmUpMs.toFixed(0)} ms`;
    page.state = 'model';
    status('Model loaded: choose an audio file or record.', 'ok');
  } catch (e) {
    fail(e);
  }
}

function fileTimings(t: AudioPrediction['timings']): [string, number][] {
  return [['decode', t.decodeMs], ['resample + trim (CPU)', t.prepareMs], ['features (GPU)', t.featuresMs], ['inference (GPU)', t.inferenceMs], ['total', t.totalMs]];
}

function finished(p: AudioPrediction, source: 'file' | 'microphone', timings: Record<string, number>, took: number): void {
  page.result = { label: p.label, probabilities: p.probabilities, timings, frames: p.frames, source };
  page.state = 'done';
  const what = source === 'file' ? 'in' : 'after stopping, in';
  status(`Predicted: ${p.label} (${(100 * p.probabilities[p.label]!).toFixed(1)}%) ${what} ${took.toFixed(0)} ms`, 'ok');
}

async function predictFile(file: File): Promise<void> {
  if (!recogniser) return fail(new Error('load a model first'));
  if (page.state === 'busy' || page.state === 'recording') return;
  page.state = 'busy';
  status('Computing…');
  try {
    const p = await recogniser.predictAudio(new Uint8Array(await file.arrayBuffer()), { fileName: file.name });
    showPrediction(p);
    showTimings(fileTimings(p.timings));
    finished(p, 'file', { ...p.timings }, p.timings.totalMs);
  } catch (e) {
    fail(e);
  }
}

async function record(): Promise<void> {
  if (recorder.recording) return recorder.finish();
  if (!recogniser) return fail(new Error('load a model first'));
  if (page.state === 'busy') return;
  const r = recogniser;
  let live: LiveSession | null = null;
  let drawnAt = 0;
  try {
    $('record').textContent = '■ Stop';
    const rec = await recorder.start({
      maxSeconds: MAX_SECONDS,
      onStart: (rate) => {
        live = new LiveSession(r, rate, (p) => {
          showFeatures(p.features, r.rowNames.length, p.frames, ` — live, ${p.seconds.toFixed(1)} s so far`);
          showClasses(p.label, p.probabilities, true);
          page.previews = (page.previews ?? 0) + 1;
        }, MAX_SECONDS);
        page.state = 'recording';
        page.previews = 0;
        status(`Recording… press Stop (at most ${MAX_SECONDS} s); the answer follows as you stop.`);
      },
      onChunk: (chunk) => live!.push(chunk),
      onTick: (s) => {
        $('record-info').textContent = `recording… ${s.toFixed(1)} s`;
        if (performance.now() - drawnAt > 250) {
          drawnAt = performance.now();
          showWaveform(live!.samples, live!.sampleRate, 1, ' — recording');
        }
      },
    });
    $('record').textContent = '● Record';
    $('record-info').textContent = `recorded ${(rec.length / rec.sampleRate).toFixed(1)} s`;
    page.state = 'busy';
    status('Stopped: computing…');
    const out = await live!.finish();
    const p = out.prediction;
    showPrediction(p, ' (microphone)');
    await painted();
    const stopToAnswerMs = performance.now() - rec.stoppedAt;
    const t = p.timings;
    showTimings([
      ['while recording (CPU: resample, RMS, GPU blocks)', out.streamedMs],
      ...(out.previewWaitMs >= 0.05 ? ([['at stop: end of a live preview', out.previewWaitMs]] as [string, number][]) : []),
      ['at stop: last samples + trim (CPU)', t.prepareMs],
      ['at stop: edge frames + clip features (GPU)', t.featuresMs],
      ['at stop: inference (GPU)', t.inferenceMs],
      ['stop → answer shown', stopToAnswerMs],
    ]);
    page.previews = out.previews;
    page.recording = { samples: p.audio.samples, sampleRate: p.audio.sampleRate, features: p.features };
    finished(p, 'microphone', { ...t, streamedMs: out.streamedMs, previewWaitMs: out.previewWaitMs, stopToAnswerMs }, stopToAnswerMs);
  } catch (e) {
    recorder.finish();
    (live as LiveSession | null)?.dispose();
    fail(e);
  } finally {
    $('record').textContent = '● Record';
  }
}

/** The model folder to load at start: ?model=..., else the default field's folder if it is served. */
async function defaultModelUrl(): Promise<string | null> {
  const fromQuery = new URLSearchParams(location.search).get('model');
  if (fromQuery) return fromQuery;
  const fallback = $<HTMLInputElement>('model-url').value;
  const head = await fetch(new URL('model.json', new URL(fallback, location.href)), { method: 'HEAD' }).catch(() => null);
  return head?.ok ? fallback : null;
}

/**
 * The tuner's choices for this adapter (?tune=cached, the default | auto | off). Inference runs the
 * forward convs and the feature STFT: those (at batch 1: the conv variants, the 1x1 shortcut GEMMs, the Winograd GEMM shapes,
 * the FFT workgroup size) and the device-wide switches are measured, within 60 s;
 * ?tune-filter=REGEX narrows the cases further and ?tune-budget=SECONDS changes the budget (tests). A
 * failure leaves the built-in kernels and is shown in page.tuningError; the page goes on.
 */
async function tune(g: Gpu): Promise<void> {
  const q = new URLSearchParams(location.search);
  const mode = q.get('tune') === 'auto' || q.get('tune') === 'off' ? (q.get('tune') as 'auto' | 'off') : 'cached';
  if (mode === 'auto') status('Measuring kernel variants on this GPU (once per adapter)…');
  try {
    const only = q.get('tune-filter');
    const filter = new RegExp(`^(conv2d\\.forward|conv1x1\\.forward|winograd\\.gemm|fft\\.workgroup|subgroups|image-textures) ${only ? `.*(?:${only})` : ''}`);
    const budgetS = Number(q.get('tune-budget') ?? 60);
    page.tuning = await useBrowserTuning(g, mode, { batch: 1, budgetMs: (budgetS > 0 ? budgetS : 60) * 1000, filter, log: (l) => console.log(l) });
  } catch (e) {
    page.tuningError = (e as Error)?.message ?? String(e);
    console.warn(`kernel tuning failed, using the built-in kernels: ${page.tuningError}`);
  }
}

async function main(): Promise<void> {
  try {
    gpu = await createBrowserGpu();
  } catch (e) {
    return fail(e);
  }
  page.adapter = { ...gpu.adapter };
  await tune(gpu);
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
    if (file) void predictFile(file);
  };
  $('record').onclick = () => void record();

  const url = await defaultModelUrl();
  if (url) {
    $<HTMLInputElement>('model-url').value = url;
    await useModel(async (g) => new Recogniser(g, await loadModelFromUrl(g, url)));
  } else {
    const fallback = $<HTMLInputElement>('model-url').value;
    status(`WebGPU ready, but no model: the pretrained model (${fallback}) is not served here. Pick model.json and model.safetensors (as \`ser train\` writes them) below, or enter a model folder URL.`);
  }
}

void main();

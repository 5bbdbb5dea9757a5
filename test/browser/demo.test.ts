// The demo page and the browser bundle against node, in headless Chromium (SwiftShader) with pages
// served from 127.0.0.1. One tiny model is trained here by the library; then
//  - the demo page loads it from a URL, takes a fixture clip through its file input and shows the
//    label node predicts (`ser predict`'s code path) with a bar per class and each stage's time;
//    without ?model it loads the pretrained models/general/ when served, and asks for model files
//    when not; model files that are missing, audio that is not audio and a browser without a WebGPU
//    adapter give clear messages;
//  - parity: the same clips through dist/ser-webgpu.browser.js in the page and through node
//    (Dawn on lavapipe) give the same 82 x 64 features (every one of the 82 rows within relative L2
//    1e-4, so the small-valued rows count as much as the centroid in Hz) and the same probabilities
//    (each within 1e-4 relative).

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBrowser, repoRoot } from '../../scripts/build-browser';
import { startStaticServer, type StaticServer } from '../../scripts/static-server';
import { GpuFeatureExtractor } from '../../src/dsp/gpu-features';
import type { Gpu } from '../../src/gpu';
import { createNodeGpu } from '../../src/gpu/node.node.ts';
import { predictFiles } from '../../src/train/inference/infer.node.ts';
import { Recogniser } from '../../src/train/inference/recogniser';
import { loadModel } from '../../src/train/model-files/saved-model.node.ts';
import { relL2 } from '../harness';
import { chromiumUnavailable, openBrowser, type Browser } from './chromium';
import { trainTinyModel } from './tiny-model';

const skip = chromiumUnavailable();
if (skip) console.warn(`[browser tests skipped] ${skip}`);

const AUDIO = join(repoRoot, 'test/fixtures/librosa/audio');
const CLIPS = ['speech_a_m3_22050_mono.wav', 'speech_c_m1_44100_stereo.flac'];

interface PageState {
  state: string;
  error?: string;
  warmUpMs?: number;
  result?: { label: string; probabilities: Record<string, number>; timings: Record<string, number> };
}

describe.skipIf(skip !== null)('the demo page and the browser bundle agree with node', () => {
  let gpu: Gpu;
  let modelDir: string;
  let server: StaticServer;
  /** The page and bundle only: no models/ folder. */
  let bare: StaticServer;
  let browser: Browser;

  beforeAll(async () => {
    gpu = await createNodeGpu();
    modelDir = await trainTinyModel(gpu);
    const dist = mkdtempSync(join(tmpdir(), 'ser-dist-'));
    await buildBrowser(dist);
    server = await startStaticServer({ '/': join(repoRoot, 'web'), '/dist/': dist, '/models/tiny/': modelDir, '/models/general/': modelDir, '/samples/': AUDIO });
    bare = await startStaticServer({ '/': join(repoRoot, 'web'), '/dist/': dist });
    browser = await openBrowser();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await bare?.close();
    gpu?.destroy();
  });

  const pageState = () => browser.page.evaluate(() => (window as unknown as { __ser: PageState }).__ser);
  const settled = (states: string[]) =>
    browser.page.waitForFunction((s) => s.includes((window as unknown as { __ser?: PageState }).__ser?.state ?? ''), states, { timeout: 120_000 });

  it('the demo page shows the label node predicts for a fixture clip, with probabilities and timings', async () => {
    const file = join(AUDIO, CLIPS[0]!);
    const loaded = await loadModel(gpu, modelDir);
    const { predictions } = await predictFiles(gpu, loaded, [file], (c) => new GpuFeatureExtractor(gpu, c));
    loaded.model.dispose();
    const expected = predictions[0]!;

    const { page, errors } = browser;
    await page.goto(`${server.url}?model=/models/tiny/`);
    await settled(['model', 'error']);
    expect((await pageState()).error, errors.join(' | ')).toBeUndefined();
    await page.setInputFiles('#audio-file', file);
    await settled(['done', 'error']);
    const state = await pageState();
    expect(state.error, errors.join(' | ')).toBeUndefined();
    expect(await page.textContent('#label')).toBe(expected.label);
    expect(await page.locator('#bars .bar').count()).toBe(4);
    expect(await page.locator('#timings tr').count()).toBe(5);
    const t = state.result!.timings;
    console.log(`[demo page] ${expected.label}; decode ${t.decodeMs!.toFixed(1)} ms, prepare ${t.prepareMs!.toFixed(1)} ms, features ${t.featuresMs!.toFixed(1)} ms, inference ${t.inferenceMs!.toFixed(1)} ms (pipelines compiled ahead by the warm-up at model load: ${(await pageState()).warmUpMs?.toFixed(0)} ms)`);
    for (const k of ['decodeMs', 'prepareMs', 'featuresMs', 'inferenceMs']) expect(t[k]).toBeGreaterThan(0);
  });

  it('the demo page says clearly when model files are missing and when a file is not audio', async () => {
    const { page } = browser;
    await page.goto(`${server.url}?model=/models/nowhere/`);
    await settled(['error']);
    expect(await page.textContent('#status')).toMatch(/^Invalid model files: .*nowhere\/model\.(json|safetensors): HTTP 404/);
    await page.goto(`${server.url}?model=/models/tiny/`);
    await settled(['model']);
    await page.setInputFiles('#audio-file', { name: 'notes.wav', mimeType: 'audio/wav', buffer: Buffer.from('these are not audio samples') });
    await settled(['error']);
    expect(await page.textContent('#status')).toMatch(/^Cannot decode this audio: notes\.wav: /);
  });

  it('without ?model the page loads the pretrained models/general/ when it is served, and asks for model files when not', async () => {
    const { page, errors } = browser;
    await page.goto(server.url);
    await settled(['model', 'error']);
    expect((await pageState()).error, errors.join(' | ')).toBeUndefined();
    expect(await page.inputValue('#model-url')).toBe('models/general/');
    expect(await page.textContent('#model-info')).toMatch(/^4 classes \(neutral, happy, sad, angry\)/);
    await page.goto(bare.url);
    await page.waitForFunction(() => /no model/.test(document.getElementById('status')!.textContent ?? ''), null, { timeout: 60_000 });
    expect(await page.textContent('#status')).toBe(
      'WebGPU ready, but no model: the pretrained model (models/general/) is not served here. Pick model.json and model.safetensors (as `ser train` writes them) below, or enter a model folder URL.',
    );
  });

  it('a browser whose WebGPU has no adapter gets a clear message', async () => {
    const plain = await openBrowser({ without: ['--enable-unsafe-webgpu'] });
    try {
      await plain.page.goto(bare.url);
      await plain.page.waitForFunction(() => (window as unknown as { __ser?: PageState }).__ser?.state === 'error', null, { timeout: 60_000 });
      expect(await plain.page.textContent('#status')).toMatch(/^No WebGPU: This browser has WebGPU but no adapter for it .*--enable-unsafe-webgpu/);
    } finally {
      await plain.close();
    }
  });

  it('parity: features (every row) and probabilities of the browser bundle (SwiftShader) match node (lavapipe)', async () => {
    const recogniser = new Recogniser(gpu, await loadModel(gpu, modelDir));
    const { page } = browser;
    await page.goto(`${server.url}?model=/models/nowhere/`);
    for (const clip of CLIPS) {
      const node = await recogniser.predictAudio(readFileSync(join(AUDIO, clip)), { fileName: clip });
      // A string, so that vitest does not rewrite the dynamic import meant for the page.
      const web = (await page.evaluate(`(async () => {
        const ser = await import('/dist/ser-webgpu.browser.js');
        window.__parity ??= await ser.createRecogniser({ model: '/models/tiny/' });
        const bytes = new Uint8Array(await (await fetch('/samples/${clip}')).arrayBuffer());
        const p = await window.__parity.predictAudio(bytes, { fileName: '${clip}' });
        return { features: Array.from(p.features), frames: p.frames, label: p.label, probabilities: p.probabilities, rows: p.rowNames };
      })()`)) as { features: number[]; frames: number; label: string; probabilities: Record<string, number>; rows: string[] };
      expect(web.frames, clip).toBe(node.frames);
      expect(web.rows).toEqual(node.rowNames);
      expect(web.features.length, clip).toBe(82 * 64);
      expect(node.features.length, clip).toBe(82 * 64);
      const perRow = node.rowNames.map((name, r) => ({ name, err: relL2(web.features.slice(r * 64, (r + 1) * 64), node.features.subarray(r * 64, (r + 1) * 64)) }));
      const worst = perRow.reduce((a, b) => (b.err > a.err ? b : a));
      console.log(`[parity] ${clip}: features relative L2 ${relL2(web.features, node.features).toExponential(2)} (worst row ${worst.name} ${worst.err.toExponential(2)}); probabilities node ${JSON.stringify(node.probabilities)} browser ${JSON.stringify(web.probabilities)}`);
      for (const { name, err } of perRow) expect(err, `${clip} row ${name}`).toBeLessThanOrEqual(1e-4);
      expect(web.label, clip).toBe(node.label);
      for (const [c, p] of Object.entries(node.probabilities)) {
        expect(Math.abs(web.probabilities[c]! - p), `${clip} P(${c})`).toBeLessThanOrEqual(1e-4 * p);
      }
    }
    recogniser.dispose();
  });
});

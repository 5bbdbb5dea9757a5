// Window training (`ser train --clip-frames S`): random window starts stay inside each clip and are a
// pure function of seed, epoch and example; evaluation windows are evenly spaced; examplesLogits with
// windows is the log of the mean softmax of the windows' logits (checked against a CPU-built batch);
// the scaler counts only frames before padding; a tiny run trains, records its windows, and the saved
// model reproduces its validation accuracy through the file-prediction path; other window settings are
// not resumed; bad settings fail clearly.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { featureConfig } from '../../src/dsp/config';
import { GpuFeatureExtractor } from '../../src/dsp/gpu-features';
import { modelConfig, SerModel } from '../../src/nn/model';
import { predictLogits as modelLogits } from '../../src/nn/train-step';
import { evalStarts, exampleMaps, examplesLogits, randomStarts } from '../../src/train/loop/batches';
import type { Emotion } from '../../src/train/data/labels';
import { trainRun, type TrainRunOptions } from '../../src/train/protocols/run.node.ts';
import { loadModel } from '../../src/train/model-files/saved-model.node.ts';
import { loadModelFromBytes } from '../../src/train/model-files/saved-model';
import { predictFiles } from '../../src/train/inference/infer.node.ts';
import { fitScaler } from '../../src/train/data/scaler';
import { synthCorpus } from '../../src/train/data/synth';
import { writeSynthCorpus } from '../../src/train/data/synth.node.ts';
import { rng, useGpu } from '../harness';
import { tinyRunOptions } from './tiny-run';

const gpu = useGpu();
const BIN = join(__dirname, '../../bin/ser.mjs');

describe('window starts', () => {
  it('random starts stay inside each clip, repeat for the same seed and epoch, and change between epochs', () => {
    const lengths = Uint32Array.from([128, 100, 64, 30, 300, 65]);
    const ids = [0, 1, 2, 3, 4, 5, 0, 1];
    const a = randomStarts(ids, lengths, 64, 128, 7, 3);
    ids.forEach((i, k) => expect(a[k]).toBeLessThanOrEqual(Math.max(0, Math.min(lengths[i]!, 128) - 64)));
    expect(a[2]).toBe(0); // exactly one window fits
    expect(a[3]).toBe(0); // shorter than the window: padding is seen, as without windows
    expect(randomStarts(ids, lengths, 64, 128, 7, 3)).toEqual(a);
    const many = Array.from({ length: 20 }, (_, e) => randomStarts([0], lengths, 64, 128, 7, e)[0]!);
    expect(new Set(many).size).toBeGreaterThan(5);
    expect(Math.max(...many)).toBeLessThanOrEqual(64);
  });

  it('evaluation starts are evenly spaced over the clip and collapse for short clips', () => {
    expect(evalStarts(128, 64, 128, 3)).toEqual([0, 32, 64]);
    expect(evalStarts(500, 64, 128, 5)).toEqual([0, 16, 32, 48, 64]);
    expect(evalStarts(66, 64, 128, 5)).toEqual([0, 1, 2]);
    expect(evalStarts(40, 64, 128, 3)).toEqual([0]);
    expect(evalStarts(100, 64, 128, 1)).toEqual([18]);
  });
});

describe('examplesLogits with windows', () => {
  it('is the log of the mean softmax over each clip\'s windows', async () => {
    const g = gpu();
    const [H, S, W, K] = [16, 20, 8, 5];
    const mc = modelConfig({ classes: K, inputRows: H, inputFrames: W, stem: { filters: 4, dropout: 0 }, blocks: [{ filters: 8, dropout: 0 }], dense: [{ units: 8, dropout: 0 }] });
    const model = new SerModel(g, mc, 3);
    const r = rng(11);
    const N = 3;
    const x = Float32Array.from({ length: N * H * S }, () => r() - 0.5);
    const lengths = Uint32Array.from([20, 13, 5]);
    const got = await examplesLogits(g, model, { x: exampleMaps(x, N), rows: H, frames: S, windows: { frames: W, evalWindows: 3, lengths } }, [2, 0, 1], 2);
    // CPU-built windows through the plain forward pass.
    const want: number[] = [];
    for (const i of [2, 0, 1]) {
      const starts = evalStarts(lengths[i]!, W, S, 3);
      const win = new Float32Array(starts.length * H * W);
      starts.forEach((s, k) => {
        for (let h = 0; h < H; h++) win.set(x.subarray((i * H + h) * S + s, (i * H + h) * S + s + W), (k * H + h) * W);
      });
      const z = (await modelLogits(model, g.upload(win, [starts.length, H, W, 1])).read()) as Float32Array;
      const mean = new Array(K).fill(0);
      starts.forEach((_, k) => {
        const row = Array.from(z.subarray(k * K, (k + 1) * K));
        const m = Math.max(...row);
        const e = row.map((v) => Math.exp(v - m));
        const sum = e.reduce((a, b) => a + b, 0);
        e.forEach((v, c) => (mean[c] += v / sum / starts.length));
      });
      want.push(...mean.map(Math.log));
    }
    got.forEach((v, j) => expect(v).toBeCloseTo(want[j]!, 5));
    model.dispose();
  });
});

describe('fitScaler with lengths', () => {
  it('counts only the frames before padding', () => {
    const frames = 6;
    const a = Float32Array.from([1, 2, 3, 0, 0, 0]);
    const b = Float32Array.from([5, 5, 5, 5, 5, 7]);
    const s = fitScaler([a, b], [0, 1], { rows: 1, frames, lengths: [3, 6] });
    const v = [1, 2, 3, 5, 5, 5, 5, 5, 7];
    const mean = v.reduce((x, y) => x + y, 0) / v.length;
    expect(s.mean[0]).toBeCloseTo(mean, 6);
    expect(s.std[0]).toBeCloseTo(Math.sqrt(v.reduce((x, y) => x + (y - mean) ** 2, 0) / v.length), 5);
    expect(fitScaler([a, b], [0, 1], { rows: 1, frames }).mean[0]).toBeCloseTo(38 / 12, 6);
  });
});

describe('ser train with windows on a tiny config', () => {
  const CLASSES: Emotion[] = ['neutral', 'happy', 'sad', 'angry'];
  const data = mkdtempSync(join(tmpdir(), 'ser-win-data-'));
  writeSynthCorpus(data, synthCorpus({ speakers: 3, clipsPerClassPerSpeaker: 2, seed: 8, classes: CLASSES }), { layout: 'ravdess' });
  const extractor = (c: ReturnType<typeof featureConfig>) => new GpuFeatureExtractor(gpu(), c);
  const options = (out: string, extra: Partial<TrainRunOptions> = {}): TrainRunOptions =>
    tinyRunOptions(data, out, { features: { frames: 24 }, windows: { frames: 12, evalWindows: 3 }, ...extra });

  it('trains on windows, records them, and the saved model reproduces the validation accuracy from the files', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ser-win-out-'));
    const r = await trainRun(gpu(), extractor, options(out));
    expect(r.state.history).toHaveLength(2);
    const meta = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    expect(meta.windows).toEqual({ frames: 12, evalWindows: 3 });
    expect(meta.featureConfig.frames).toBe(24);
    expect(meta.modelConfig.inputFrames).toBe(12);
    const loaded = await loadModel(gpu(), out);
    expect(loaded.meta.windows).toEqual({ frames: 12, evalWindows: 3 });
    const split = JSON.parse(readFileSync(join(out, 'split.json'), 'utf8'));
    const files = (split.valFiles as string[]).map((f) => join(data, f));
    const { predictions } = await predictFiles(gpu(), loaded, files, extractor);
    const labelOf = (f: string) => CLASSES[[1, 3, 4, 5].indexOf(Number(f.split('/').pop()!.split('-')[2]))];
    const correct = predictions.filter((p, i) => p!.label === labelOf(files[i]!)).length;
    expect(correct / files.length).toBeCloseTo(r.report.accuracy, 10);
    loaded.model.dispose();
    // A checkpoint made with other window settings is not resumed.
    await expect(trainRun(gpu(), extractor, options(out, { resume: true, windows: { frames: 12, evalWindows: 1 } }))).rejects.toThrow(/other window settings/);
    // A model.json whose windows training would refuse does not load either (one rule: windowsProblem).
    const json = readFileSync(join(out, 'model.json'), 'utf8');
    const safetensors = new Uint8Array(readFileSync(join(out, 'model.safetensors')));
    const edited = (windows: unknown) => ({ json: JSON.stringify({ ...JSON.parse(json), windows }), safetensors });
    await expect(loadModelFromBytes(gpu(), edited({ frames: 12, evalWindows: 40 }))).rejects.toThrow(/model.json: 'windows': evaluation windows must be a whole number in 1..32, got 40/);
    await expect(loadModelFromBytes(gpu(), edited({ frames: 10, evalWindows: 3 }))).rejects.toThrow(/'windows' must be \{frames: 12 \(the model's input\), evalWindows\}/);
    await expect(loadModelFromBytes(gpu(), edited(null))).rejects.toThrow(/the features have 24 frames but the model reads 12/);
    const ok = await loadModelFromBytes(gpu(), edited({ frames: 12, evalWindows: 5 }));
    expect(ok.meta.windows).toEqual({ frames: 12, evalWindows: 5 });
    ok.model.dispose();
  });

  it('refuses windows that do not fit', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ser-win-bad-'));
    await expect(trainRun(gpu(), extractor, options(out, { windows: { frames: 24, evalWindows: 3 } }))).rejects.toThrow(/more frames than the 24-frame window/);
    await expect(trainRun(gpu(), extractor, options(out, { windows: { frames: 12, evalWindows: 0 } }))).rejects.toThrow(/evaluation windows must be a whole number in 1..32/);
  });

  it('the CLI refuses --eval-windows without --clip-frames and a clip no longer than the window', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [BIN, 'train', ...args], { encoding: 'utf8' });
    const a = run('--eval-windows', '5');
    expect(a.status).not.toBe(0);
    expect(a.stderr).toMatch(/--eval-windows applies only with --clip-frames/);
    const b = run('--clip-frames', '64');
    expect(b.status).not.toBe(0);
    expect(b.stderr).toMatch(/--clip-frames.*expected an integer from 65 to 1024, got '64'/);
  });
});

// Stochastic weight averaging (src/train/loop/average.ts, `ser train --swa-from`): the running mean against
// a plain mean, its checkpoint form; the loop validates the mean of the raw weights of the epochs since
// swaFrom and trains on from the raw ones; a tiny run averaging from epoch 1 saves as its model the mean of
// the raw weights of the epochs up to its best one, checkpoints the raw weights with the average, and
// resumed after epoch 1 ends with exactly the uninterrupted run's tensors; bad settings are refused.

import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GpuFeatureExtractor } from '../../src/dsp/gpu-features';
import type { FeatureConfig } from '../../src/dsp/config';
import { accumulateAverage, averageFromTensors, averageTensors } from '../../src/train/loop/average';
import { exampleMaps } from '../../src/train/loop/batches';
import { readCheckpoint } from '../../src/train/model-files/checkpoint.node.ts';
import { modelConfig, SerModel } from '../../src/nn/model';
import { Trainer } from '../../src/nn/train-step';
import { defaultLoopOptions, trainLoop, type LoopOptions } from '../../src/train/loop/loop';
import { trainRun } from '../../src/train/protocols/run.node.ts';
import type { NamedTensors } from '../../src/train/model-files/safetensors';
import { synthCorpus } from '../../src/train/data/synth';
import { writeSynthCorpus } from '../../src/train/data/synth.node.ts';
import { randn, rng, useGpu } from '../harness';
import { tinyRunOptions } from './tiny-run';

const gpu = useGpu();
const BIN = join(__dirname, '../../bin/ser.mjs');

const named = (entries: [string, number[], ArrayLike<number>][]): NamedTensors => new Map(entries.map(([n, shape, d]) => [n, { shape, data: Float32Array.from(d) }]));

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('accumulateAverage', () => {
  it('is the plain mean of the tensors joined, over the names given only', () => {
    const r = rng(9);
    const steps = [0, 1, 2, 3].map(() => named([['w', [2, 3], randn(6, r)], ['b', [3], randn(3, r)], ['bn.mean', [3], randn(3, r)]]));
    let avg = null;
    for (const s of steps) avg = accumulateAverage(avg, s, ['w', 'b']);
    expect(avg!.count).toBe(4);
    expect([...avg!.tensors.keys()]).toEqual(['w', 'b']);
    for (const n of ['w', 'b']) {
      const plain = steps[0]!.get(n)!.data.map((_, i) => steps.reduce((a, s) => a + s.get(n)!.data[i]!, 0) / 4);
      expect(maxAbsDiff(avg!.tensors.get(n)!.data, plain)).toBeLessThan(1e-6);
      expect(avg!.tensors.get(n)!.shape).toEqual(steps[0]!.get(n)!.shape);
    }
    // The first step's tensors are copied, not aliased.
    const first = accumulateAverage(null, steps[1]!, ['w']).tensors.get('w')!.data;
    expect(first).not.toBe(steps[1]!.get('w')!.data);
    expect(Array.from(first)).toEqual(Array.from(steps[1]!.get('w')!.data));
  });

  it('refuses a missing tensor or a changed shape', () => {
    const a = accumulateAverage(null, named([['w', [2], [1, 2]]]), ['w']);
    expect(() => accumulateAverage(a, named([['v', [2], [1, 2]]]), ['w'])).toThrow(/no tensor 'w'/);
    expect(() => accumulateAverage(a, named([['w', [1, 2], [1, 2]]]), ['w'])).toThrow(/'w' is \[1,2\], averaged as \[2\]/);
    expect(() => accumulateAverage(a, named([['w', [2], [1, 2]], ['v', [1], [0]]]), ['w', 'v'])).toThrow(/'v' was not averaged before/);
  });

  it('round-trips through checkpoint tensors (swa.<name>); count 0 is no average', () => {
    const a = accumulateAverage(accumulateAverage(null, named([['w', [2], [1, 2]]]), ['w']), named([['w', [2], [3, 6]]]), ['w']);
    const stored = averageTensors(a);
    expect([...stored.keys()]).toEqual(['swa.w']);
    expect(Array.from(stored.get('swa.w')!.data)).toEqual([2, 4]);
    expect(averageFromTensors(stored, 2, ['w'])).toEqual(a);
    expect(averageFromTensors(new Map(), 0, ['w'])).toBeNull();
    expect(() => averageFromTensors(new Map(), 2, ['w'])).toThrow(/weight average of 'w' is missing/);
  });
});

describe('trainLoop with weight averaging', () => {
  it('validates the mean of the raw weights since swaFrom and trains on from the raw ones', async () => {
    const g = gpu();
    const mc = modelConfig({ classes: 3, inputRows: 6, inputFrames: 8, stem: { filters: 4, dropout: 0 }, blocks: [{ filters: 4, dropout: 0 }], dense: [{ units: 4, dropout: 0 }] });
    const model = new SerModel(g, mc, 3);
    const trainer = new Trainer(model, { learningRate: 1e-2, clipnorm: 1.0 });
    const r = rng(5);
    const n = 16;
    const labels = Uint32Array.from({ length: n }, (_, i) => i % 3);
    const x = exampleMaps(Float32Array.from(randn(n * 6 * 8, r)), n);
    const names = [...model.params.keys()];
    const params = async () => {
      const t = await model.exportTensors();
      return new Map(names.map((k) => [k, t.get(k)!.data]));
    };
    const validated: Map<string, Float32Array>[] = [];
    const raw: Map<string, Float32Array>[] = [];
    const counts: (number | null)[] = [];
    const handed: (Map<string, Float32Array> | null)[] = [];
    try {
      await trainLoop(g, trainer, { x, rows: 6, frames: 8, labels }, { train: [...Array(12).keys()], val: [12, 13, 14, 15] },
        { ...defaultLoopOptions, epochs: 3, batch: 4, patience: 0, readEvery: 1, bnRecalibration: 8, swaFrom: 2 },
        {
          onValidated: async () => void validated.push(await params()),
          onEpochEnd: async (_s, _improved, average, rawWeights) => {
            raw.push(await params());
            counts.push(average?.count ?? null);
            handed.push(rawWeights && new Map(names.map((k) => [k, rawWeights.get(k)!.data])));
          },
        });
    } finally {
      trainer.dispose();
      model.dispose();
    }
    expect(counts).toEqual([null, 1, 2]);
    // The raw weights handed to onEpochEnd (for the checkpoint) are those the model holds again.
    expect(handed[0]).toBeNull();
    for (const e of [1, 2]) for (const k of names) expect(maxAbsDiff(handed[e]!.get(k)!, raw[e]!.get(k)!), `${k} epoch ${e + 1}`).toBe(0);
    for (const k of names) {
      expect(maxAbsDiff(validated[0]!.get(k)!, raw[0]!.get(k)!), k).toBe(0); // before swaFrom: the raw weights
      expect(maxAbsDiff(validated[1]!.get(k)!, raw[1]!.get(k)!), k).toBe(0); // the first averaged epoch alone
      const mean = raw[1]!.get(k)!.map((v, i) => (v + raw[2]!.get(k)![i]!) / 2);
      expect(maxAbsDiff(validated[2]!.get(k)!, mean), k).toBeLessThan(1e-6);
    }
    // Training went on from the raw weights: epoch 3's raw weights are not the validated average.
    expect(Math.max(...names.map((k) => maxAbsDiff(validated[2]!.get(k)!, raw[2]!.get(k)!)))).toBeGreaterThan(1e-5);
  });
});

describe('a tiny run with weight averaging', () => {
  const data = mkdtempSync(join(tmpdir(), 'ser-swa-data-'));
  writeSynthCorpus(data, synthCorpus({ speakers: 2, clipsPerClassPerSpeaker: 3, seed: 6, classes: ['neutral', 'happy', 'sad', 'angry'] }), { layout: 'ravdess' });
  const extractor = (c: FeatureConfig) => new GpuFeatureExtractor(gpu(), c);
  const loop: Partial<LoopOptions> = { epochs: 2, swaFrom: 1, bnRecalibration: 8 };

  it('saves the mean of the raw weights up to its best epoch, checkpoints raw and mean, and resumes exactly', async () => {
    // Stopped after epoch 1: the checkpoint holds epoch 1's raw weights, which are also the average.
    const stoppedOut = mkdtempSync(join(tmpdir(), 'ser-swa-a-'));
    let epoch = 0;
    await trainRun(gpu(), extractor, tinyRunOptions(data, stoppedOut, { loop, onProgress: (p) => void (epoch = p.epoch), shouldStop: () => epoch === 2 }));
    const one = await readCheckpoint(stoppedOut, 'checkpoint');
    expect((one.meta.counters as { averaged: number }).averaged).toBe(1);
    expect(one.meta.training).toEqual({ schedule: 'plateau', balance: false, swaFrom: 1 });
    const r = await trainRun(gpu(), extractor, tinyRunOptions(data, stoppedOut, { loop, resume: true }));
    const resumed = await readCheckpoint(stoppedOut, 'checkpoint');

    const straightOut = mkdtempSync(join(tmpdir(), 'ser-swa-b-'));
    await trainRun(gpu(), extractor, tinyRunOptions(data, straightOut, { loop }));
    const straight = await readCheckpoint(straightOut, 'checkpoint');
    expect([...resumed.tensors.keys()].sort()).toEqual([...straight.tensors.keys()].sort());
    for (const [n, t] of straight.tensors) expect(maxAbsDiff(resumed.tensors.get(n)!.data, t.data), n).toBe(0);

    const params = [...straight.tensors.keys()].filter((k) => k.startsWith('swa.')).map((k) => k.slice(4));
    expect(params.length).toBeGreaterThan(4);
    expect((straight.meta.counters as { averaged: number }).averaged).toBe(2);
    for (const n of params) {
      // The average after epoch 2 is the mean of epoch 1's and epoch 2's raw weights, and differs from both.
      const raw1 = one.tensors.get(n)!.data;
      const raw2 = straight.tensors.get(n)!.data;
      const mean = raw1.map((v, i) => (v + raw2[i]!) / 2);
      expect(maxAbsDiff(straight.tensors.get(`swa.${n}`)!.data, mean), n).toBeLessThan(1e-6);
      expect(maxAbsDiff(one.tensors.get(`swa.${n}`)!.data, raw1), n).toBe(0);
    }
    expect(maxAbsDiff(straight.tensors.get(`swa.${params[0]}`)!.data, straight.tensors.get(params[0]!)!.data)).toBeGreaterThan(1e-6);
    // The saved model is the average at the best epoch (epoch 1: raw1; epoch 2: the mean).
    const model = await readCheckpoint(stoppedOut, 'model');
    for (const n of params) {
      const expected = r.state.bestEpoch === 1 ? one.tensors.get(n)!.data : straight.tensors.get(`swa.${n}`)!.data;
      expect(maxAbsDiff(model.tensors.get(n)!.data, expected), n).toBeLessThan(1e-6);
    }
    await expect(trainRun(gpu(), extractor, tinyRunOptions(data, straightOut, { loop: { epochs: 3 }, resume: true }))).rejects.toThrow(/another schedule or sampling/);
  });

  it('the loop and the CLI refuse averaging without BN recalibration or after the last epoch', async () => {
    await expect(trainRun(gpu(), extractor, tinyRunOptions(data, mkdtempSync(join(tmpdir(), 'ser-swa-c-')), { loop: { swaFrom: 1, bnRecalibration: 0 } }))).rejects.toThrow(/weight averaging needs BN recalibration/);
    const late = spawnSync(process.execPath, [BIN, 'train', '--epochs', '5', '--swa-from', '6'], { encoding: 'utf8' });
    expect(late.status).not.toBe(0);
    expect(late.stderr).toMatch(/--swa-from 6 is after the last epoch \(--epochs 5\)/);
    const noBn = spawnSync(process.execPath, [BIN, 'train', '--swa-from', '2', '--bn-recalibrate', '0'], { encoding: 'utf8' });
    expect(noBn.status).not.toBe(0);
    expect(noBn.stderr).toMatch(/--swa-from needs BN recalibration/);
  });
});

// Mixup (src/train/loop/mixup.ts, `ser train --mixup`): the Gamma and Beta samplers against their moments;
// the per-step draw is a pure function of (seed, epoch, step) with the own label's share >= 0.5 and a
// permutation of partners; the loop hands the trainer exactly w * x_i + (1 - w) * x_partner with the
// partners' labels (checked on the CPU against the epoch order); a tiny run records mixup in its
// checkpoint, differs from the unmixed run, resumes exactly and refuses to resume without it; bad
// settings are refused by the loop and the CLI.

import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/common/random';
import { GpuFeatureExtractor } from '../../src/dsp/gpu-features';
import type { FeatureConfig } from '../../src/dsp/config';
import type { Tensor } from '../../src/gpu';
import type { LossMix } from '../../src/nn/layers';
import { modelConfig, SerModel } from '../../src/nn/model';
import { Trainer } from '../../src/nn/train-step';
import { exampleMaps } from '../../src/train/loop/batches';
import { readCheckpoint } from '../../src/train/model-files/checkpoint.node.ts';
import { defaultLoopOptions, epochOrder, trainLoop } from '../../src/train/loop/loop';
import { checkMixup, drawMixup, sampleBeta, sampleGamma } from '../../src/train/loop/mixup';
import { trainRun } from '../../src/train/protocols/run.node.ts';
import { synthCorpus } from '../../src/train/data/synth';
import { writeSynthCorpus } from '../../src/train/data/synth.node.ts';
import { randn, relL2, rng, useGpu } from '../harness';
import { tinyRunOptions } from './tiny-run';

const gpu = useGpu();
const BIN = join(__dirname, '../../bin/ser.mjs');

function moments(xs: number[]): [number, number] {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return [m, xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length];
}

describe('mixup draws', () => {
  it('Gamma(k) has mean and variance k, for k below and above 1', () => {
    for (const k of [0.3, 3]) {
      const r = createRng(11);
      const [m, v] = moments(Array.from({ length: 40_000 }, () => sampleGamma(r, k)));
      expect(Math.abs(m - k) / k).toBeLessThan(0.03);
      expect(Math.abs(v - k) / k).toBeLessThan(0.08);
    }
  });

  it('Beta(a, b) has mean a / (a + b) and variance ab / ((a + b)^2 (a + b + 1))', () => {
    for (const [a, b] of [[0.4, 0.4], [2, 2], [2, 5]] as const) {
      const r = createRng(12);
      const xs = Array.from({ length: 40_000 }, () => sampleBeta(r, a, b));
      expect(xs.every((x) => x >= 0 && x <= 1)).toBe(true);
      const [m, v] = moments(xs);
      expect(Math.abs(m - a / (a + b))).toBeLessThan(0.01);
      const want = (a * b) / ((a + b) ** 2 * (a + b + 1));
      expect(Math.abs(v - want) / want).toBeLessThan(0.05);
    }
  });

  it('is a pure function of (seed, epoch, step): own share in [0.5, 1], partners a permutation', () => {
    const m = { alpha: 0.4 };
    const a = drawMixup(32, m, 3, 5, 7);
    expect(drawMixup(32, m, 3, 5, 7)).toEqual(a);
    expect(drawMixup(32, m, 3, 5, 8).partners).not.toEqual(a.partners);
    expect(drawMixup(32, m, 3, 6, 7).weight).not.toBe(a.weight);
    expect([...a.partners].sort((x, y) => x - y)).toEqual([...Array(32).keys()]);
    const shares = Array.from({ length: 500 }, (_, s) => drawMixup(8, m, 1, 0, s).weight);
    expect(shares.every((w) => w >= 0.5 && w <= 1)).toBe(true);
    // Beta(0.4, 0.4) folded onto [0.5, 1]: mean 0.5 + E|l - 0.5|, clearly inside the interval.
    const mean = shares.reduce((x, y) => x + y, 0) / shares.length;
    expect(mean).toBeGreaterThan(0.7);
    expect(mean).toBeLessThan(0.9);
  });

  it('refuses an alpha outside 0.05..10', () => {
    expect(() => checkMixup({ alpha: 0 })).toThrow(/alpha must lie in 0.05..10, got 0/);
    expect(() => checkMixup({ alpha: Number.NaN })).toThrow(/alpha must lie/);
    expect(() => checkMixup({ alpha: 0.2 })).not.toThrow();
  });
});

/** A Trainer that keeps a copy of what each step was given. */
class RecordingTrainer extends Trainer {
  seen: { x: Tensor; labels: Tensor; partners: Tensor; weight: Tensor }[] = [];
  override step(x: Tensor, labels: Tensor, classWeights?: Tensor, mix?: LossMix): Tensor {
    const g = this.model.gpu;
    const keep = (t: Tensor) => {
      const c = g.empty(t.shape, t.dtype, 'kept');
      g.copy(t, c);
      return c;
    };
    expect(mix).toBeDefined();
    this.seen.push({ x: keep(x), labels: keep(labels), partners: keep(mix!.partners), weight: keep(mix!.weight) });
    return super.step(x, labels, classWeights, mix);
  }
}

describe('trainLoop with mixup', () => {
  it('trains on w * x_i + (1 - w) * x_partner against the partners\' labels', async () => {
    const g = gpu();
    const mc = modelConfig({ classes: 3, inputRows: 6, inputFrames: 8, stem: { filters: 4, dropout: 0 }, blocks: [{ filters: 4, dropout: 0 }], dense: [{ units: 4, dropout: 0 }] });
    const model = new SerModel(g, mc, 3);
    const trainer = new RecordingTrainer(model, { learningRate: 1e-2, clipnorm: 1.0 });
    const n = 16;
    const D = 6 * 8;
    const labels = Uint32Array.from({ length: n }, (_, i) => i % 3);
    const xs = Float32Array.from(randn(n * D, rng(8)));
    const train = [...Array(12).keys()];
    const opts = { ...defaultLoopOptions, epochs: 2, batch: 5, seed: 9, patience: 0, readEvery: 1, bnRecalibration: 0, mixup: { alpha: 0.4 } };
    try {
      await trainLoop(g, trainer, { x: exampleMaps(xs, n), rows: 6, frames: 8, labels }, { train, val: [12, 13, 14, 15] }, opts);
      expect(trainer.seen.length).toBe(2 * 3); // 12 clips in batches of 5: 5, 5, 2
      for (const [k, seen] of trainer.seen.entries()) {
        const epoch = Math.floor(k / 3);
        const s = k % 3;
        const ids = epochOrder(train, opts.seed, epoch).slice(s * 5, (s + 1) * 5);
        const d = drawMixup(ids.length, opts.mixup, opts.seed, epoch, s);
        const [gx, gl, gp, gw] = await g.readMany([seen.x, seen.labels, seen.partners, seen.weight]);
        expect(gw![0]).toBeCloseTo(d.weight, 6);
        expect(Array.from(gl!)).toEqual(ids.map((i) => labels[i]!));
        expect(Array.from(gp!)).toEqual(Array.from(d.partners, (p) => labels[ids[p]!]!));
        const want = new Float64Array(ids.length * D);
        ids.forEach((id, b) => {
          const other = ids[d.partners[b]!]!;
          for (let j = 0; j < D; j++) want[b * D + j] = d.weight * xs[id * D + j]! + (1 - d.weight) * xs[other * D + j]!;
        });
        expect(relL2(gx!, want)).toBeLessThan(1e-6);
      }
    } finally {
      for (const t of [...trainer.seen.flatMap((r) => [r.x, r.labels, r.partners, r.weight])]) t.dispose();
      trainer.dispose();
      model.dispose();
    }
  });
});

describe('a tiny run with mixup', () => {
  const data = mkdtempSync(join(tmpdir(), 'ser-mixup-data-'));
  writeSynthCorpus(data, synthCorpus({ speakers: 2, clipsPerClassPerSpeaker: 3, seed: 6, classes: ['neutral', 'happy', 'sad', 'angry'] }), { layout: 'ravdess' });
  const extractor = (c: FeatureConfig) => new GpuFeatureExtractor(gpu(), c);
  const loop = { epochs: 2, mixup: { alpha: 0.4 } };

  it('records mixup, changes training, resumes exactly and refuses to resume without it', async () => {
    const stoppedOut = mkdtempSync(join(tmpdir(), 'ser-mixup-a-'));
    let epoch = 0;
    await trainRun(gpu(), extractor, tinyRunOptions(data, stoppedOut, { loop, onProgress: (p) => void (epoch = p.epoch), shouldStop: () => epoch === 2 }));
    expect((await readCheckpoint(stoppedOut, 'checkpoint')).meta.training).toEqual({ schedule: 'plateau', balance: false, mixup: 0.4 });
    await expect(trainRun(gpu(), extractor, tinyRunOptions(data, stoppedOut, { loop: { epochs: 2 }, resume: true }))).rejects.toThrow(/another schedule or sampling.*--mixup/);
    await trainRun(gpu(), extractor, tinyRunOptions(data, stoppedOut, { loop, resume: true }));
    const resumed = await readCheckpoint(stoppedOut, 'checkpoint');

    const straightOut = mkdtempSync(join(tmpdir(), 'ser-mixup-b-'));
    await trainRun(gpu(), extractor, tinyRunOptions(data, straightOut, { loop }));
    const straight = await readCheckpoint(straightOut, 'checkpoint');
    for (const [n, t] of straight.tensors) expect(relL2(resumed.tensors.get(n)!.data, t.data), n).toBe(0);

    const plainOut = mkdtempSync(join(tmpdir(), 'ser-mixup-c-'));
    await trainRun(gpu(), extractor, tinyRunOptions(data, plainOut, { loop: { epochs: 2 } }));
    const plain = await readCheckpoint(plainOut, 'checkpoint');
    const w = [...plain.tensors.keys()].find((k) => !k.startsWith('adam.') && plain.tensors.get(k)!.data.length > 8)!;
    expect(relL2(straight.tensors.get(w)!.data, plain.tensors.get(w)!.data)).toBeGreaterThan(1e-4);
  });

  it('the loop and the CLI refuse mixup with class weights or a bad alpha', async () => {
    await expect(trainRun(gpu(), extractor, tinyRunOptions(data, mkdtempSync(join(tmpdir(), 'ser-mixup-d-')), { loop: { mixup: { alpha: 0.4 }, classWeights: 'balanced' } }))).rejects.toThrow(/mixup targets and a class-weighted loss/);
    const both = spawnSync(process.execPath, [BIN, 'train', '--mixup', '0.4', '--class-weights', 'balanced'], { encoding: 'utf8' });
    expect(both.status).not.toBe(0);
    expect(both.stderr).toMatch(/--mixup and --class-weights are not combined/);
    const big = spawnSync(process.execPath, [BIN, 'train', '--mixup', '20'], { encoding: 'utf8' });
    expect(big.status).not.toBe(0);
    expect(big.stderr).toMatch(/--mixup/);
  });
});

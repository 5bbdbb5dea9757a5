// Fused softmax cross-entropy with label smoothing: mean and gradient against test/ref/loss.ts (checked
// there against finite differences), per-example loss and hits against test/ref/nnk-extra.ts; large
// logits stay finite; bad labels and options are refused.

import { describe, expect, it } from 'vitest';
import { softmaxCrossEntropy } from '../../src/kernels/loss';
import { ShapeError } from '../../src/gpu';
import { TOL_F32, expectClose, randint, randn, rng, useGpu } from '../harness';
import { crossEntropyPerExampleRef } from '../ref/nnk-extra';
import { softmaxCrossEntropy as crossEntropyRef } from '../ref/loss';
import { tensor } from '../ref/tensor';

function reference(z: ArrayLike<number>, labels: number[], N: number, K: number, s: number, classWeights?: number[], mix?: { partners: number[]; weight: number }) {
  const batch = crossEntropyRef(tensor([N, K], z), labels, { labelSmoothing: s, classWeights, mix });
  return { mean: batch.loss, dz: batch.dlogits.data, ...crossEntropyPerExampleRef(z, labels, N, K, s, classWeights) };
}

const gpu = useGpu();

describe('softmax cross-entropy matches the float64 reference', () => {
  const cases: [number, number, number, 'u32' | 'i32', number][] = [
    [1, 8, 0, 'u32', 1], [7, 8, 0.1, 'i32', 1], [33, 13, 0.2, 'u32', 5], [300, 8, 0.1, 'u32', 30], [5000, 3, 0, 'i32', 3], [20, 1, 0.1, 'u32', 1],
  ];
  for (const [N, K, s, dtype, scale] of cases) {
    it(`N=${N} K=${K} smoothing=${s} ${dtype} labels, logits of scale ${scale}`, async () => {
      const r = rng(N * 31 + K);
      const z = Float32Array.from(randn(N * K, r), (v) => v * scale);
      const labels = Array.from({ length: N }, () => randint(0, K - 1, r));
      const g = gpu();
      const out = softmaxCrossEntropy(g, g.upload(z, [N, K]), g.upload(labels, [N], dtype), { labelSmoothing: s });
      const [loss, dz, correct, stats] = await g.readMany([out.loss, out.dlogits, out.correct, out.stats]);
      const ref = reference(z, labels, N, K, s);
      expectClose(loss!, ref.loss, TOL_F32, 'per-example loss');
      expectClose(dz!, ref.dz, TOL_F32, 'dlogits');
      expect(Array.from(correct!)).toEqual(ref.correct);
      expect(Math.abs(stats![0]! - ref.mean) / Math.max(ref.mean, 1e-30)).toBeLessThan(TOL_F32);
      expect(stats![1]).toBe(ref.correct.reduce((a, b) => a + b, 0));
    });
  }

  for (const [N, K, s] of [[37, 8, 0.1], [300, 5, 0]] as const) {
    it(`with class weights: N=${N} K=${K} smoothing=${s}`, async () => {
      const r = rng(N * 17 + K);
      const z = Float32Array.from(randn(N * K, r), (v) => v * 3);
      const labels = Array.from({ length: N }, () => randint(0, K - 1, r));
      const w = Array.from({ length: K }, () => 0.2 + 2 * r());
      const g = gpu();
      const out = softmaxCrossEntropy(g, g.upload(z, [N, K]), g.upload(labels, [N], 'u32'), { labelSmoothing: s, classWeights: g.upload(w, [K]) });
      const [loss, dz, correct, stats] = await g.readMany([out.loss, out.dlogits, out.correct, out.stats]);
      const ref = reference(z, labels, N, K, s, w);
      expectClose(loss!, ref.loss, TOL_F32, 'weighted per-example loss');
      expectClose(dz!, ref.dz, TOL_F32, 'weighted dlogits');
      expect(Array.from(correct!)).toEqual(ref.correct);
      expect(Math.abs(stats![0]! - ref.mean) / ref.mean).toBeLessThan(TOL_F32);
      // The weights matter: unweighted, the same batch has another mean loss.
      expect(Math.abs(reference(z, labels, N, K, s).mean - ref.mean) / ref.mean).toBeGreaterThan(1e-2);
    });
  }

  for (const [N, K, s, dtype, share] of [[32, 8, 0.1, 'u32', 0.73], [301, 5, 0, 'i32', 0.5], [9, 3, 0.2, 'u32', 1]] as const) {
    it(`with mixup targets: N=${N} K=${K} smoothing=${s} share ${share}`, async () => {
      const r = rng(N * 13 + K);
      const z = Float32Array.from(randn(N * K, r), (v) => v * 3);
      const labels = Array.from({ length: N }, () => randint(0, K - 1, r));
      const partners = Array.from({ length: N }, () => randint(0, K - 1, r));
      const g = gpu();
      const mix = { partners: g.upload(partners, [N], dtype), weight: g.upload([share], [1]) };
      const out = softmaxCrossEntropy(g, g.upload(z, [N, K]), g.upload(labels, [N], dtype), { labelSmoothing: s, mix });
      const [loss, dz, correct, stats] = await g.readMany([out.loss, out.dlogits, out.correct, out.stats]);
      const ref = crossEntropyRef(tensor([N, K], z), labels, { labelSmoothing: s, mix: { partners, weight: share } });
      const own = crossEntropyPerExampleRef(z, labels, N, K, s);
      const other = crossEntropyPerExampleRef(z, partners, N, K, s);
      expectClose(loss!, own.loss.map((l, n) => share * l + (1 - share) * other.loss[n]!), TOL_F32, 'mixed per-example loss');
      expectClose(dz!, ref.dlogits.data, TOL_F32, 'mixed dlogits');
      expect(Array.from(correct!)).toEqual(own.correct);
      expect(Math.abs(stats![0]! - ref.loss) / ref.loss).toBeLessThan(TOL_F32);
    });
  }

  for (const [N, K, s, withMix, withWeights] of [[37, 8, 0.1, false, false], [300, 5, 0, false, true], [33, 6, 0.2, true, false]] as const) {
    it(`with a class mask: N=${N} K=${K} smoothing=${s}${withMix ? ', mixup' : ''}${withWeights ? ', class weights' : ''}`, async () => {
      const r = rng(N * 19 + K);
      const z = Float32Array.from(randn(N * K, r), (v) => v * 3);
      // Random allowed sets of 2..K classes; the labels (and partners) drawn among them.
      const mask = new Array<number>(N * K).fill(0);
      const labels: number[] = [];
      const partners: number[] = [];
      for (let n = 0; n < N; n++) {
        const ks = Array.from({ length: K }, (_, k) => k).sort(() => r() - 0.5).slice(0, 2 + randint(0, K - 2, r));
        for (const k of ks) mask[n * K + k] = 1;
        labels.push(ks[randint(0, ks.length - 1, r)]!);
        partners.push(ks[randint(0, ks.length - 1, r)]!);
      }
      const w = Array.from({ length: K }, () => 0.2 + 2 * r());
      const g = gpu();
      const mix = withMix ? { partners: g.upload(partners, [N], 'u32'), weight: g.upload([0.7], [1]) } : undefined;
      const out = softmaxCrossEntropy(g, g.upload(z, [N, K]), g.upload(labels, [N], 'u32'), { labelSmoothing: s, classMask: g.upload(mask, [N, K], 'u32'), ...(mix ? { mix } : {}), ...(withWeights ? { classWeights: g.upload(w, [K]) } : {}) });
      const [dz, correct, stats] = await g.readMany([out.dlogits, out.correct, out.stats]);
      const ref = crossEntropyRef(tensor([N, K], z), labels, { labelSmoothing: s, classMask: mask, ...(withMix ? { mix: { partners, weight: 0.7 } } : {}), ...(withWeights ? { classWeights: w } : {}) });
      expectClose(dz!, ref.dlogits.data, TOL_F32, 'masked dlogits');
      expect(Math.abs(stats![0]! - ref.loss) / ref.loss).toBeLessThan(TOL_F32);
      // A hit is the argmax over the allowed classes.
      const hits = labels.map((l, n) => {
        let best = -1;
        for (let k = 0; k < K; k++) if (mask[n * K + k] && (best < 0 || z[n * K + k]! > z[n * K + best]!)) best = k;
        return best === l ? 1 : 0;
      });
      expect(Array.from(correct!)).toEqual(hits);
      // The mask matters: unmasked, the same batch has another loss.
      expect(Math.abs(crossEntropyRef(tensor([N, K], z), labels, { labelSmoothing: s, ...(withMix ? { mix: { partners, weight: 0.7 } } : {}), ...(withWeights ? { classWeights: w } : {}) }).loss - ref.loss) / ref.loss).toBeGreaterThan(1e-2);
    });
  }

  it('marks a label outside its class mask with a NaN loss and gradient', async () => {
    const g = gpu();
    const out = softmaxCrossEntropy(g, g.upload([1, 2, 3, 4, 5, 6], [2, 3]), g.upload([0, 1], [2], 'u32'), { classMask: g.upload([1, 0, 1, 1, 0, 1], [2, 3], 'u32') });
    const [loss, dz] = await g.readMany([out.loss, out.dlogits]);
    expect(Number.isFinite(loss![0]!)).toBe(true);
    expect(dz![1]).toBe(0);
    expect(loss![1]).toBeNaN();
    expect(dz![4]).toBeNaN();
    expect(() => softmaxCrossEntropy(g, g.zeros([2, 3]), g.zeros([2], 'u32'), { classMask: g.zeros([2, 2], 'u32') })).toThrow(/classMask .*\[2, 2\] should be \[2, 3\]/);
  });

  it('marks an out-of-range partner label with a NaN loss and gradient', async () => {
    const g = gpu();
    const mix = { partners: g.upload([1, 7], [2], 'u32'), weight: g.upload([0.6], [1]) };
    const out = softmaxCrossEntropy(g, g.upload([1, 2, 3, 4], [2, 2]), g.upload([0, 1], [2], 'u32'), { mix });
    const [loss, dz] = await g.readMany([out.loss, out.dlogits]);
    expect(Number.isFinite(loss![0]!)).toBe(true);
    expect(loss![1]).toBeNaN();
    expect(dz![3]).toBeNaN();
  });

  it('stays finite and exact for logits of magnitude 1e4', async () => {
    const g = gpu();
    const z = [1e4, -1e4, 0, 5e3, 1e4 - 1, 2];
    const out = softmaxCrossEntropy(g, g.upload(z, [2, 3]), g.upload([1, 0], [2], 'u32'), { labelSmoothing: 0.1 });
    const [loss, dz] = await g.readMany([out.loss, out.dlogits]);
    const ref = reference(z, [1, 0], 2, 3, 0.1);
    expectClose(loss!, ref.loss, TOL_F32, 'loss');
    expectClose(dz!, ref.dz, TOL_F32, 'dlogits');
  });

  it('marks an out-of-range label with a NaN loss and gradient', async () => {
    const g = gpu();
    const out = softmaxCrossEntropy(g, g.upload([1, 2, 3, 4], [2, 2]), g.upload([0, -1], [2], 'i32'));
    const [loss, dz, correct] = await g.readMany([out.loss, out.dlogits, out.correct]);
    expect(Number.isFinite(loss![0]!)).toBe(true);
    expect(loss![1]).toBeNaN();
    expect(dz![2]).toBeNaN();
    expect(correct![1]).toBe(0);
  });

  it('refuses mismatched labels, float labels and a smoothing outside [0, 1]', () => {
    const g = gpu();
    const z = g.zeros([4, 3]);
    expect(() => softmaxCrossEntropy(g, z, g.zeros([5], 'u32'))).toThrow(ShapeError);
    expect(() => softmaxCrossEntropy(g, z, g.zeros([5], 'u32'))).toThrow(/labels .*\[5\] should be \[4\]/);
    expect(() => softmaxCrossEntropy(g, z, g.zeros([4]))).toThrow(/expected u32 or i32/);
    expect(() => softmaxCrossEntropy(g, z, g.zeros([4], 'u32'), { labelSmoothing: 1.5 })).toThrow(/labelSmoothing must lie in \[0, 1\]/);
    expect(() => softmaxCrossEntropy(g, z, g.zeros([4], 'u32'), { classWeights: g.zeros([4]) })).toThrow(/classWeights .*\[4\] should be \[3\]/);
    expect(() => softmaxCrossEntropy(g, z, g.zeros([4], 'u32'), { classWeights: g.zeros([3], 'u32') })).toThrow(/expected f32/);
    const mix = (partners = g.zeros([4], 'u32'), weight = g.zeros([1])) => ({ partners, weight });
    expect(() => softmaxCrossEntropy(g, z, g.zeros([4], 'u32'), { mix: mix(g.zeros([3], 'u32')) })).toThrow(/partner labels .*\[3\] should be \[4\]/);
    expect(() => softmaxCrossEntropy(g, z, g.zeros([4], 'u32'), { mix: mix(g.zeros([4], 'i32')) })).toThrow(/expected u32/);
    expect(() => softmaxCrossEntropy(g, z, g.zeros([4], 'u32'), { mix: mix(undefined, g.zeros([2])) })).toThrow(/should hold one value/);
    expect(() => softmaxCrossEntropy(g, z, g.zeros([4], 'u32'), { mix: mix(), classWeights: g.zeros([3]) })).toThrow(/not combined/);
  });
});

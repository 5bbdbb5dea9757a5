// Fused softmax cross-entropy with label smoothing: per-example loss, mean, gradient and hits against
// the float64 reference; the reference gradient against finite differences; large logits stay finite.

import { describe, expect, it } from 'vitest';
import { softmaxCrossEntropy } from '../../src/kernels/loss';
import { ShapeError } from '../../src/gpu';
import { TOL_F32, expectClose, randint, randn, rng, useGpu } from '../harness';
import { softmaxCrossEntropyRef } from '../ref/nnk-extra';

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
      const ref = softmaxCrossEntropyRef(z, labels, N, K, s);
      expectClose(loss!, ref.loss, TOL_F32, 'per-example loss');
      expectClose(dz!, ref.dz, TOL_F32, 'dlogits');
      expect(Array.from(correct!)).toEqual(ref.correct);
      expect(Math.abs(stats![0]! - ref.mean) / Math.max(ref.mean, 1e-30)).toBeLessThan(TOL_F32);
      expect(stats![1]).toBe(ref.correct.reduce((a, b) => a + b, 0));
    });
  }

  it('stays finite and exact for logits of magnitude 1e4', async () => {
    const g = gpu();
    const z = [1e4, -1e4, 0, 5e3, 1e4 - 1, 2];
    const out = softmaxCrossEntropy(g, g.upload(z, [2, 3]), g.upload([1, 0], [2], 'u32'), { labelSmoothing: 0.1 });
    const [loss, dz] = await g.readMany([out.loss, out.dlogits]);
    const ref = softmaxCrossEntropyRef(z, [1, 0], 2, 3, 0.1);
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
  });
});

describe('the softmax cross-entropy reference gradient', () => {
  it('matches central finite differences of the mean loss', () => {
    const r = rng(3);
    const [N, K, s] = [3, 5, 0.1];
    const z = randn(N * K, r);
    const labels = [4, 0, 2];
    const ref = softmaxCrossEntropyRef(z, labels, N, K, s);
    const h = 1e-6;
    const fd = Array.from(z, (_, i) => {
      const p = Float64Array.from(z);
      const m = Float64Array.from(z);
      p[i]! += h;
      m[i]! -= h;
      return (softmaxCrossEntropyRef(p, labels, N, K, s).mean - softmaxCrossEntropyRef(m, labels, N, K, s).mean) / (2 * h);
    });
    expectClose(ref.dz, fd, 1e-7, 'dz');
  });
});

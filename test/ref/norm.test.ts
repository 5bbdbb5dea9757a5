// Batch-norm reference: training-mode statistics (biased variance) and Keras moving-average update on a
// hand-computed case, inference with moving statistics, and backward against finite differences.

import { describe, expect, it } from 'vitest';
import { gradCheck } from './gradcheck';
import { batchNormInference, batchNormMovingUpdate, batchNormTrainBackward, batchNormTrainForward } from './norm';
import { dot, mulberry32, randn, tensor } from './tensor';

describe('batch norm reference', () => {
  it('normalises each channel over N, H, W with the biased variance and updates moving stats Keras-style', () => {
    // Two channels interleaved (NHWC, N=1, H=2, W=2): channel 0 = 1, 2, 3, 4; channel 1 = 10, 10, 10, 14.
    const x = tensor([1, 2, 2, 2], [1, 10, 2, 10, 3, 10, 4, 14]);
    const gamma = tensor([2], [2, 1]);
    const beta = tensor([2], [0.5, -1]);
    const f = batchNormTrainForward(x, gamma, beta, { epsilon: 1e-3 });
    expect(Array.from(f.mean)).toEqual([2.5, 11]);
    expect(f.variance[0]).toBeCloseTo(1.25, 14); // biased: 5 / 4, not 5 / 3
    expect(f.variance[1]).toBeCloseTo(3, 14);
    expect(f.y.data[0]).toBeCloseTo(2 * (1 - 2.5) / Math.sqrt(1.25 + 1e-3) + 0.5, 12);
    expect(f.y.data[7]).toBeCloseTo((14 - 11) / Math.sqrt(3 + 1e-3) - 1, 12);
    const moving = batchNormMovingUpdate(Float64Array.from([0, 1]), Float64Array.from([1, 1]), f, { momentum: 0.99 });
    expect(moving.movingMean[0]).toBeCloseTo(0.025, 14);
    expect(moving.movingMean[1]).toBeCloseTo(0.99 + 0.11, 14);
    expect(moving.movingVariance[0]).toBeCloseTo(0.99 + 0.0125, 14);
    expect(moving.movingVariance[1]).toBeCloseTo(0.99 + 0.03, 14);
  });

  it('uses momentum 0.99 and epsilon 1e-3 by default', () => {
    const x = tensor([1, 1, 2, 1], [0, 2]);
    const f = batchNormTrainForward(x, tensor([1], [1]), tensor([1], [0]));
    expect(f.y.data[1]).toBeCloseTo(1 / Math.sqrt(1 + 1e-3), 14);
    expect(batchNormMovingUpdate(Float64Array.from([0]), Float64Array.from([0]), f).movingVariance[0]).toBeCloseTo(0.01, 14);
  });

  it('inference mode uses the moving statistics, not the batch', () => {
    const x = tensor([2, 1, 1, 2], [1, 2, 3, 4]);
    const y = batchNormInference(x, tensor([2], [2, 3]), tensor([2], [1, 0]), Float64Array.from([1, 0]), Float64Array.from([1, 9]), { epsilon: 0 });
    expect(Array.from(y.data)).toEqual([1, 2, 5, 4]);
  });

  it('training-mode backward matches finite differences for dx, dgamma, dbeta (N=2, H=5, W=7, C=3)', () => {
    const rand = mulberry32(5);
    const x = randn([2, 5, 7, 3], rand, 2);
    const gamma = randn([3], rand);
    const beta = randn([3], rand);
    const r = randn(x.shape, rand);
    const f = batchNormTrainForward(x, gamma, beta);
    const { dx, dgamma, dbeta } = batchNormTrainBackward(r, f, gamma);
    const loss = ([xd, gd, bd]: Float64Array[]) =>
      dot(batchNormTrainForward({ data: xd!, shape: x.shape }, { data: gd!, shape: [3] }, { data: bd!, shape: [3] }).y.data, r.data);
    const report = gradCheck(loss, [x.data, gamma.data, beta.data], [dx.data, dgamma.data, dbeta.data], { maxCoordsPerInput: 100 });
    expect(report.failures).toEqual([]);
    expect(report.checked).toBe(106);
  });

  it('dx sums to zero per channel (the mean is subtracted), so a constant shift of x has no effect', () => {
    const rand = mulberry32(6);
    const x = randn([3, 2, 3, 4], rand);
    const gamma = randn([4], rand);
    const f = batchNormTrainForward(x, gamma, randn([4], rand));
    const { dx } = batchNormTrainBackward(randn(x.shape, rand), f, gamma);
    const sums = new Float64Array(4);
    dx.data.forEach((v, p) => { sums[p % 4] += v; });
    for (const s of sums) expect(Math.abs(s)).toBeLessThan(1e-12);
  });
});

// Max pooling (2x2 stride 2, floor), global average pooling (references: test/ref/layers.ts) and the
// per-channel sum (test/ref/nnk-extra.ts), forward and backward, on odd NHWC shapes.

import { describe, expect, it } from 'vitest';
import { globalAvgPool, globalAvgPoolBackward, maxPool2x2, maxPool2x2Backward } from '../../src/kernels/pool';
import { sumToLastAxis } from '../../src/kernels/reduce-axes';
import { ShapeError } from '../../src/gpu';
import { TOL_F32, expectClose, randn, rng, useGpu } from '../harness';
import { sumToLastAxisRef } from '../ref/nnk-extra';
import { globalAvgPoolBackward as gapBackwardRef, globalAvgPoolForward, maxPool2x2Backward as maxPoolBackwardRef, maxPool2x2Forward } from '../ref/layers';
import { tensor } from '../ref/tensor';

const gpu = useGpu();
const f32 = (x: ArrayLike<number>) => Float32Array.from(x);
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

const shapes: [number, number, number, number][] = [[1, 2, 2, 1], [2, 5, 7, 3], [3, 8, 6, 4], [2, 9, 9, 33], [4, 41, 32, 16], [2, 7, 5, 8]];

describe('max pooling matches the float64 reference', () => {
  for (const shape of shapes) {
    it(`forward, argmax and backward on ${JSON.stringify(shape)}`, async () => {
      const [N, H, W, C] = shape;
      const r = rng(size(shape));
      // Values on a coarse grid so windows contain ties.
      const x = f32(Array.from({ length: size(shape) }, () => Math.round(r() * 6)));
      const g = gpu();
      const { y, argmax } = maxPool2x2(g, g.upload(x, shape));
      expect(y.shape).toEqual([N, Math.floor(H / 2), Math.floor(W / 2), C]);
      const dy = f32(randn(y.size, r));
      const dx = maxPool2x2Backward(g, g.upload(dy, y.shape), argmax, shape);
      const [yv, av, dxv] = await g.readMany([y, argmax, dx]);
      const ref = maxPool2x2Forward(tensor(shape, x));
      expect(Array.from(yv!)).toEqual(Array.from(ref.y.data));
      expect(Array.from(av!)).toEqual(Array.from(ref.argmax));
      expectClose(dxv!, maxPoolBackwardRef(tensor(y.shape as number[], dy), ref, shape).data, 0, 'dx');
    });
  }

  it('skips NaN inside a window', async () => {
    const g = gpu();
    const { y, argmax } = maxPool2x2(g, g.upload([NaN, 1, 3, NaN], [1, 2, 2, 1]));
    const [yv, av] = await g.readMany([y, argmax]);
    expect(Array.from(yv!)).toEqual([3]);
    expect(Array.from(av!)).toEqual([2]);
  });

  it('refuses inputs too small to pool and mismatched gradients', () => {
    const g = gpu();
    expect(() => maxPool2x2(g, g.zeros([1, 1, 4, 2]))).toThrow(/maxPool2x2: .* needs H >= 2 and W >= 2/);
    expect(() => maxPool2x2(g, g.zeros([4, 4, 2]))).toThrow(ShapeError);
    expect(() => maxPool2x2Backward(g, g.zeros([1, 2, 2, 3]), g.zeros([1, 2, 2, 3], 'u32'), [1, 5, 4, 3])).not.toThrow();
    expect(() => maxPool2x2Backward(g, g.zeros([1, 2, 3, 3]), g.zeros([1, 2, 2, 3], 'u32'), [1, 5, 4, 3])).toThrow(
      /maxPool2x2Backward: .*\[1, 2, 3, 3\] should be \[1, 2, 2, 3\]/,
    );
  });
});

describe('global average pooling matches the float64 reference', () => {
  for (const shape of [...shapes, [3, 1, 1, 5] as [number, number, number, number]]) {
    it(`forward and backward on ${JSON.stringify(shape)}`, async () => {
      const [N, , , C] = shape;
      const r = rng(7 + size(shape));
      const x = f32(randn(size(shape), r));
      const dy = f32(randn(N * C, r));
      const g = gpu();
      const y = globalAvgPool(g, g.upload(x, shape));
      const dx = globalAvgPoolBackward(g, g.upload(dy, [N, C]), shape);
      const [yv, dxv] = await g.readMany([y, dx]);
      expect(y.shape).toEqual([N, C]);
      expectClose(yv!, globalAvgPoolForward(tensor(shape, x)).data, TOL_F32, 'y');
      expectClose(dxv!, gapBackwardRef(tensor([N, C], dy), shape).data, TOL_F32, 'dx');
    });
  }

  it('refuses dy of the wrong shape', () => {
    const g = gpu();
    expect(() => globalAvgPoolBackward(g, g.zeros([2, 4]), [2, 3, 3, 5])).toThrow(/globalAvgPoolBackward: .*\[2, 4\] should be \[2, 5\]/);
  });
});

describe('sumToLastAxis matches the float64 reference', () => {
  for (const shape of [[1], [7], [3, 5], [1000, 1], [4, 17, 9, 33], [32, 41, 32, 12], [20_001, 3], [5, 3, 7, 68], [6_001, 4]]) {
    it(`sums ${JSON.stringify(shape)} to its last axis`, async () => {
      const C = shape[shape.length - 1]!;
      const x = f32(randn(size(shape), rng(size(shape) + 3)));
      const g = gpu();
      const s = sumToLastAxis(g, g.upload(x, shape));
      expect(s.shape).toEqual([C]);
      // A signed sum may cancel: bound its error by the sum of magnitudes per channel.
      const ref = sumToLastAxisRef(x, x.length / C, C);
      const mag = sumToLastAxisRef(x.map(Math.abs), x.length / C, C);
      const got = await s.read();
      for (let c = 0; c < C; c++) expect(Math.abs(got[c]! - ref[c]!) / mag[c]!).toBeLessThan(1e-6);
    });
  }

  it('gives bit-identical results on repeated runs (no atomics)', async () => {
    const g = gpu();
    const x = g.upload(f32(randn(50_000 * 3, rng(1))), [50_000, 3]);
    const [a, b] = await g.readMany([sumToLastAxis(g, x), sumToLastAxis(g, x)]);
    expect(Array.from(a!)).toEqual(Array.from(b!));
  });
});

// ReLU, 2x2 max pooling, residual add, global average pooling and dense references: shapes, hand cases,
// the tie rule of max pooling, and every backward against finite differences on odd shapes.

import { describe, expect, it } from 'vitest';
import { gradCheck } from './gradcheck';
import {
  addBackward, addForward, denseBackward, denseForward, globalAvgPoolBackward, globalAvgPoolForward,
  maxPool2x2Backward, maxPool2x2Forward, reluBackward, reluForward,
} from './layers';
import { dot, mulberry32, randn, tensor } from './tensor';

const SHAPE = [2, 5, 7, 3];

describe('layer references', () => {
  it('relu forward clamps negatives; backward passes dy only where x > 0 (0 at x = 0)', () => {
    const x = tensor([4], [-1, 0, 2, -0.5]);
    expect(Array.from(reluForward(x).data)).toEqual([0, 0, 2, 0]);
    expect(Array.from(reluBackward(tensor([4], [1, 2, 3, 4]), x).data)).toEqual([0, 0, 3, 0]);
  });

  it('relu backward matches finite differences', () => {
    const rand = mulberry32(1);
    const x = randn(SHAPE, rand);
    const r = randn(SHAPE, rand);
    const report = gradCheck(([xd]) => dot(reluForward({ data: xd!, shape: SHAPE }).data, r.data), [x.data], [reluBackward(r, x).data]);
    expect(report.failures).toEqual([]);
  });

  it('max pool 2x2/2 floors odd sizes and routes ties to the first maximum in row-major window order', () => {
    // N=1, H=3, W=5, C=1: the last row and column are dropped.
    const x = tensor([1, 3, 5, 1], [
      7, 7, 1, 9, 100,
      7, 7, 9, 2, 100,
      100, 100, 100, 100, 100,
    ]);
    const f = maxPool2x2Forward(x);
    expect(f.y.shape).toEqual([1, 1, 2, 1]);
    expect(Array.from(f.y.data)).toEqual([7, 9]);
    const dx = maxPool2x2Backward(tensor([1, 1, 2, 1], [1, 2]), f, x.shape);
    expect(Array.from(dx.data)).toEqual([1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('max pool backward matches finite differences (N=2, H=5, W=7, C=3)', () => {
    const rand = mulberry32(2);
    const x = randn(SHAPE, rand);
    const f = maxPool2x2Forward(x);
    expect(f.y.shape).toEqual([2, 2, 3, 3]);
    const r = randn(f.y.shape, rand);
    const report = gradCheck(
      ([xd]) => dot(maxPool2x2Forward({ data: xd!, shape: SHAPE }).y.data, r.data),
      [x.data], [maxPool2x2Backward(r, f, SHAPE).data], { maxCoordsPerInput: 210 },
    );
    expect(report.failures).toEqual([]);
  });

  it('residual add: forward sums, backward gives dy to both inputs', () => {
    const rand = mulberry32(3);
    const a = randn(SHAPE, rand);
    const b = randn(SHAPE, rand);
    const r = randn(SHAPE, rand);
    const { da, db } = addBackward(r);
    const report = gradCheck(([ad, bd]) => dot(addForward({ data: ad!, shape: SHAPE }, { data: bd!, shape: SHAPE }).data, r.data),
      [a.data, b.data], [da.data, db.data]);
    expect(report.failures).toEqual([]);
    expect(() => addForward(a, randn([2, 5, 7, 2], rand))).toThrow(/differ/);
  });

  it('global average pooling averages over H and W per image and channel', () => {
    const x = tensor([2, 1, 2, 2], [1, 10, 3, 20, 5, 0, 7, 0]);
    expect(Array.from(globalAvgPoolForward(x).data)).toEqual([2, 15, 6, 0]);
    const rand = mulberry32(4);
    const xr = randn(SHAPE, rand);
    const r = randn([2, 3], rand);
    const report = gradCheck(([xd]) => dot(globalAvgPoolForward({ data: xd!, shape: SHAPE }).data, r.data),
      [xr.data], [globalAvgPoolBackward(r, SHAPE).data]);
    expect(report.failures).toEqual([]);
  });

  it('dense computes x W + b and its backward matches finite differences', () => {
    const y = denseForward(tensor([1, 2], [1, 2]), tensor([2, 3], [1, 2, 3, 4, 5, 6]), tensor([3], [0.5, 0, -1]));
    expect(Array.from(y.data)).toEqual([9.5, 12, 14]);
    const rand = mulberry32(5);
    const x = randn([3, 7], rand);
    const w = randn([7, 5], rand);
    const b = randn([5], rand);
    const r = randn([3, 5], rand);
    const { dx, dw, db } = denseBackward(r, x, w);
    const report = gradCheck(
      ([xd, wd, bd]) => dot(denseForward({ data: xd!, shape: x.shape }, { data: wd!, shape: w.shape }, { data: bd!, shape: b.shape }).data, r.data),
      [x.data, w.data, b.data], [dx.data, dw.data, db.data],
    );
    expect(report.failures).toEqual([]);
  });
});

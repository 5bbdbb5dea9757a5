// conv2d reference: Keras 'same' padding arithmetic, forward against an im2col + matmul computation,
// backward against central finite differences on odd shapes, strides and asymmetric padding.

import { describe, expect, it } from 'vitest';
import { type Conv2dOptions, conv2dBackward, conv2dForward, convGeometry, samePadding } from './conv';
import { gradCheck } from './gradcheck';
import { matmulRef } from './linalg';
import { type Tensor, dot, mulberry32, randn, relL2, tensor } from './tensor';

/** Patches as rows [N*OH*OW, kh*kw*C] (zeros where the window hangs over the padding), times w. */
function conv2dByIm2col(x: Tensor, w: Tensor, b: Tensor, options: Conv2dOptions): Float64Array {
  const g = convGeometry(x.shape, w.shape, options);
  const rows = g.N * g.OH * g.OW;
  const K = g.kh * g.kw * g.C;
  const cols = new Float64Array(rows * K);
  let r = 0;
  for (let n = 0; n < g.N; n++) for (let oh = 0; oh < g.OH; oh++) for (let ow = 0; ow < g.OW; ow++, r++) {
    let k = 0;
    for (let i = 0; i < g.kh; i++) for (let j = 0; j < g.kw; j++) for (let c = 0; c < g.C; c++, k++) {
      const ih = oh * g.sh + i - g.pad.top;
      const iw = ow * g.sw + j - g.pad.left;
      const inside = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W;
      cols[r * K + k] = inside ? x.data[((n * g.H + ih) * g.W + iw) * g.C + c]! : 0;
    }
  }
  return matmulRef(cols, w.data, rows, g.cout, K, false, false, b.data);
}

const cases: { name: string; x: number[]; w: number[]; options: Conv2dOptions; out: number[] }[] = [
  { name: '3x3 same stride 1', x: [2, 5, 7, 3], w: [3, 3, 3, 4], options: { padding: 'same' }, out: [2, 5, 7, 4] },
  { name: '3x3 same stride 2 on odd sizes', x: [2, 5, 7, 3], w: [3, 3, 3, 2], options: { padding: 'same', stride: [2, 2] }, out: [2, 3, 4, 2] },
  { name: '3x3 same stride 2 on even sizes', x: [1, 6, 4, 2], w: [3, 3, 2, 3], options: { padding: 'same', stride: [2, 2] }, out: [1, 3, 2, 3] },
  { name: '1x1 valid', x: [2, 5, 7, 3], w: [1, 1, 3, 5], options: { padding: 'valid' }, out: [2, 5, 7, 5] },
  { name: '1x1 stride 2', x: [2, 5, 7, 3], w: [1, 1, 3, 2], options: { padding: 'same', stride: [2, 2] }, out: [2, 3, 4, 2] },
  {
    name: '3x2 kernel, stride (2,1), asymmetric padding', x: [2, 5, 6, 3], w: [3, 2, 3, 2],
    options: { stride: [2, 1], padding: { top: 2, bottom: 0, left: 1, right: 3 } }, out: [2, 3, 9, 2],
  },
];

describe('conv2d reference', () => {
  it('samePadding matches Keras: ceil(in/stride) outputs, odd padding pixel at the bottom/right', () => {
    expect(samePadding(7, 8, 3, 3, 2, 2)).toEqual({ top: 1, bottom: 1, left: 0, right: 1 });
    expect(samePadding(5, 5, 3, 3, 1, 1)).toEqual({ top: 1, bottom: 1, left: 1, right: 1 });
    expect(samePadding(5, 6, 1, 1, 2, 2)).toEqual({ top: 0, bottom: 0, left: 0, right: 0 });
    expect(samePadding(4, 4, 4, 2, 1, 1)).toEqual({ top: 1, bottom: 2, left: 0, right: 1 });
  });

  it('computes a hand-checked 1-channel 3x3 case with zero padding', () => {
    const x = tensor([1, 2, 2, 1], [1, 2, 3, 4]);
    const w = tensor([3, 3, 1, 1], [0, 0, 0, 0, 1, 10, 0, 100, 0]);
    // y[h,w] = x[h,w] + 10 x[h,w+1] + 100 x[h+1,w] (out of range reads are zero)
    expect(Array.from(conv2dForward(x, w, tensor([1], [0.5])).data)).toEqual([321.5, 402.5, 43.5, 4.5]);
  });

  for (const c of cases) {
    it(`forward (${c.name}) matches im2col + matmul to 1e-13`, () => {
      const rand = mulberry32(11);
      const x = randn(c.x, rand);
      const w = randn(c.w, rand);
      const b = randn([c.w[3]!], rand);
      const y = conv2dForward(x, w, b, c.options);
      expect(y.shape).toEqual(c.out);
      expect(relL2(y.data, conv2dByIm2col(x, w, b, c.options))).toBeLessThan(1e-13);
    });

    it(`backward (${c.name}) matches finite differences for dx, dw, db`, () => {
      const rand = mulberry32(23);
      const x = randn(c.x, rand);
      const w = randn(c.w, rand);
      const b = randn([c.w[3]!], rand);
      const r = randn(c.out, rand);
      const { dx, dw, db } = conv2dBackward(r, x, w, c.options);
      const loss = ([xd, wd, bd]: Float64Array[]) =>
        dot(conv2dForward({ data: xd!, shape: x.shape }, { data: wd!, shape: w.shape }, { data: bd!, shape: b.shape }, c.options).data, r.data);
      const report = gradCheck(loss, [x.data, w.data, b.data], [dx.data, dw.data, db.data], { maxCoordsPerInput: 80 });
      expect(report.failures).toEqual([]);
      expect(report.checked).toBeGreaterThan(80);
    });
  }

  it('rejects channel mismatches and empty outputs', () => {
    const rand = mulberry32(1);
    expect(() => conv2dForward(randn([1, 4, 4, 3], rand), randn([3, 3, 2, 1], rand), null)).toThrow(/do not fit/);
    expect(() => conv2dForward(randn([1, 2, 2, 1], rand), randn([3, 3, 1, 1], rand), null, { padding: 'valid' })).toThrow(/empty output/);
  });
});

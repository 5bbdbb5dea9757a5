// conv2d forward and its three gradients against float64 direct-loop references, on random shapes that
// include odd ones (H, W, C not multiples of 4: the scalar paths; Cin = 1: the model's first layer),
// stride 1 and 2, 'same', 'valid' and explicit padding, 1x1 and 3x3 filters; plus fused bias + ReLU and
// argument errors. These run the direct (gather) kernels; test/kernels/winograd.test.ts covers Winograd.
// The references are test/ref/conv.ts (float64, checked there against finite differences).
// Tolerance: relative L2 1e-5 (TOL_F32) for every comparison.

import { describe, expect, it } from 'vitest';
import { conv2d, type Conv2dPadding } from '../../src/kernels/conv2d';
import { conv2dBackwardBias, conv2dBackwardFilter, conv2dBackwardInput } from '../../src/kernels/conv2d-grad';
import { ShapeError } from '../../src/gpu';
import { createNodeGpu } from '../../src/gpu/node.node';
import { TOL_F32, expectClose, randint, randn, rng, useGpu } from '../harness';
import { conv2dBackward, conv2dForward, convGeometry } from '../ref/conv';
import { tensor } from '../ref/tensor';

const gpu = useGpu();

interface Case {
  x: [number, number, number, number];
  k: [number, number];
  cout: number;
  stride: [number, number];
  padding: Conv2dPadding;
}

const fmt = (c: Case) =>
  `x[${c.x.join(',')}] k${c.k.join('x')} ->${c.cout} s${c.stride.join(',')} ${typeof c.padding === 'string' ? c.padding : JSON.stringify(c.padding)}`;

function cases(): Case[] {
  const fixed: Case[] = [
    { x: [2, 9, 7, 1], k: [3, 3], cout: 8, stride: [1, 1], padding: 'same' },
    { x: [1, 8, 8, 4], k: [3, 3], cout: 4, stride: [1, 1], padding: 'valid' },
    { x: [2, 11, 6, 8], k: [3, 3], cout: 12, stride: [2, 2], padding: 'same' },
    { x: [1, 10, 9, 8], k: [1, 1], cout: 16, stride: [1, 1], padding: 'same' },
    { x: [2, 7, 5, 3], k: [3, 3], cout: 5, stride: [1, 1], padding: 'same' },
    { x: [1, 9, 10, 6], k: [3, 3], cout: 7, stride: [2, 1], padding: 'valid' },
    { x: [1, 6, 7, 4], k: [3, 2], cout: 4, stride: [1, 2], padding: { top: 2, bottom: 0, left: 1, right: 3 } },
    { x: [1, 5, 6, 5], k: [1, 1], cout: 3, stride: [2, 2], padding: 'valid' },
    { x: [2, 5, 1, 4], k: [3, 3], cout: 4, stride: [1, 1], padding: 'same' },
  ];
  const r = rng(7);
  for (let i = 0; i < 6; i++) {
    const kk = r() < 0.5 ? 1 : 3;
    fixed.push({
      x: [randint(1, 3, r), randint(kk, 13, r), randint(kk, 13, r), randint(1, 10, r)],
      k: [kk, kk],
      cout: randint(1, 13, r),
      stride: r() < 0.5 ? [1, 1] : [2, 2],
      padding: r() < 0.5 ? 'same' : 'valid',
    });
  }
  return fixed;
}

function inputs(c: Case, seed: number) {
  const r = rng(seed);
  const [KH, KW] = c.k;
  const cin = c.x[3];
  const x = Float32Array.from(randn(c.x.reduce((a, b) => a * b, 1), r));
  const w = Float32Array.from(randn(KH * KW * cin * c.cout, r));
  const wShape = [KH, KW, cin, c.cout];
  const opts = { stride: c.stride, padding: c.padding };
  const geo = convGeometry(c.x, wShape, opts);
  const yShape = [geo.N, geo.OH, geo.OW, geo.cout];
  const dy = Float32Array.from(randn(yShape.reduce((a, b) => a * b, 1), r));
  const forwardRef = (bias?: Float32Array, relu = false) => {
    const y = conv2dForward(tensor(c.x, x), tensor(wShape, w), bias ? tensor([c.cout], bias) : null, opts).data;
    return relu ? y.map((v) => Math.max(v, 0)) : y;
  };
  const backwardRef = () => conv2dBackward(tensor(yShape, dy), tensor(c.x, x), tensor(wShape, w), opts);
  return { x, w, wShape, yShape, dy, forwardRef, backwardRef };
}

describe('conv2d forward matches the float64 reference', () => {
  cases().forEach((c, i) => {
    it(fmt(c), async () => {
      const { x, w, wShape, yShape, forwardRef } = inputs(c, 100 + i);
      const gg = gpu();
      const y = conv2d(gg, gg.upload(x, c.x), gg.upload(w, wShape), { stride: c.stride, padding: c.padding, algorithm: 'direct' });
      expect(y.shape).toEqual(yShape);
      expectClose(await y.read(), forwardRef(), TOL_F32, 'conv2d');
    });
  });

  it('fuses a bias and ReLU', async () => {
    const c: Case = { x: [2, 9, 6, 3], k: [3, 3], cout: 6, stride: [1, 1], padding: 'same' };
    const { x, w, wShape, forwardRef } = inputs(c, 5);
    const bias = Float32Array.from(randn(c.cout, rng(6)));
    const gg = gpu();
    const y = conv2d(gg, gg.upload(x, c.x), gg.upload(w, wShape), { padding: 'same', bias: gg.upload(bias, [c.cout]), activation: 'relu', algorithm: 'direct' });
    const expected = forwardRef(bias, true);
    expect(expected.some((v) => v === 0) && expected.some((v) => v > 0)).toBe(true);
    expectClose(await y.read(), expected, TOL_F32, 'conv2d+bias+relu');
  });
});

describe('conv2d gradients match the float64 reference backward', () => {
  // The forward cases' odd shapes minus the duplicates of a path, to keep pipeline compiles few.
  const gradCases = cases().filter((_, i) => i !== 3 && i !== 9 && i !== 11);
  gradCases.forEach((c, i) => {
    it(fmt(c), async () => {
      const { x, w, wShape, yShape, dy, backwardRef } = inputs(c, 200 + i);
      const gg = gpu();
      const opts = { stride: c.stride, padding: c.padding, algorithm: 'direct' as const };
      const dyT = gg.upload(dy, yShape);
      const dx = conv2dBackwardInput(gg, dyT, gg.upload(w, wShape), c.x, opts);
      const dw = conv2dBackwardFilter(gg, gg.upload(x, c.x), dyT, wShape, opts);
      const db = conv2dBackwardBias(gg, dyT);
      expect(dx.shape).toEqual(c.x);
      expect(dw.shape).toEqual(wShape);
      const [dxv, dwv, dbv] = await gg.readMany([dx, dw, db]);
      const ref = backwardRef();
      expectClose(dxv!, ref.dx.data, TOL_F32, 'dx');
      expectClose(dwv!, ref.dw.data, TOL_F32, 'dw');
      expectClose(dbv!, ref.db.data, TOL_F32, 'db');
    });
  });

  it('splits the filter-gradient reduction over many chunks on a large batch (Cin = 1, the first layer)', async () => {
    const c: Case = { x: [8, 41, 32, 1], k: [3, 3], cout: 32, stride: [1, 1], padding: 'same' };
    const { x, wShape, yShape, dy, backwardRef } = inputs(c, 9);
    const gg = gpu();
    const dyT = gg.upload(dy, yShape);
    const [dwv, dbv] = await gg.readMany([conv2dBackwardFilter(gg, gg.upload(x, c.x), dyT, wShape, { padding: 'same' }), conv2dBackwardBias(gg, dyT)]);
    const ref = backwardRef();
    expectClose(dwv!, ref.dw.data, TOL_F32, 'dw');
    expectClose(dbv!, ref.db.data, TOL_F32, 'db');
  });

  it('one bias-gradient pipeline and one chunk-sum pipeline serve layers of any channel and chunk count', async () => {
    // A runtime of its own (counts from zero). The layers differ in Cout, Cin, size and batch, so in
    // chunk counts and chunk-sum lengths; references checked on poisoned outputs each time.
    const g = await createNodeGpu({ poison: true });
    try {
      const layers: Case[] = [
        { x: [8, 41, 32, 1], k: [3, 3], cout: 32, stride: [1, 1], padding: 'same' },
        { x: [2, 9, 7, 4], k: [1, 1], cout: 12, stride: [1, 1], padding: 'valid' },
        { x: [3, 6, 5, 2], k: [3, 3], cout: 6, stride: [1, 1], padding: 'same' },
      ];
      for (const [i, c] of layers.entries()) {
        const { x, wShape, yShape, dy, backwardRef } = inputs(c, 300 + i);
        const dyT = g.upload(dy, yShape);
        const opts = { stride: c.stride, padding: c.padding, algorithm: 'direct' as const };
        const [dwv, dbv] = await g.readMany([conv2dBackwardFilter(g, g.upload(x, c.x), dyT, wShape, opts), conv2dBackwardBias(g, dyT)]);
        const ref = backwardRef();
        expectClose(dwv!, ref.dw.data, TOL_F32, `dw ${fmt(c)}`);
        expectClose(dbv!, ref.db.data, TOL_F32, `db ${fmt(c)}`);
      }
      const f = g.pipelines.statistics().byFamily;
      // The two chunk sums are the same WGSL (counted under whichever family compiled it first).
      expect({ bias: f['conv2dBackwardBias'], chunkSums: (f['conv2dBackwardBias.sumChunks'] ?? 0) + (f['conv2dBackwardFilter.sumChunks'] ?? 0) }).toEqual({ bias: 1, chunkSums: 1 });
    } finally {
      g.destroy();
    }
  });

  it('refuses an output gradient whose shape does not match the conv output', () => {
    const g = gpu();
    const w = g.zeros([3, 3, 2, 4]);
    expect(() => conv2dBackwardInput(g, g.zeros([1, 5, 5, 4]), w, [1, 5, 5, 2])).toThrow(/output gradient \[1, 5, 5, 4\] does not match the conv output \[1, 3, 3, 4\]/);
    expect(() => conv2dBackwardFilter(g, g.zeros([1, 5, 5, 3]), g.zeros([1, 3, 3, 4]), [3, 3, 2, 4])).toThrow(/has 3 channels, filter \[3, 3, 2, 4\] expects 2/);
    expect(() => conv2dBackwardBias(g, g.zeros([4, 4]))).toThrow(/rank 4/);
  });
});

describe('conv2d refuses bad arguments before any GPU work', () => {
  it('names channel mismatches, ranks, dtypes, oversized filters and bad bias', () => {
    const g = gpu();
    const x = g.zeros([1, 5, 5, 3]);
    expect(() => conv2d(g, x, g.zeros([3, 3, 4, 8]))).toThrow(/conv2d: input \[1, 5, 5, 3\] has 3 channels, filter \[3, 3, 4, 8\] expects 4/);
    expect(() => conv2d(g, g.zeros([5, 5, 3]), g.zeros([3, 3, 3, 8]))).toThrow(/rank 4/);
    expect(() => conv2d(g, x, g.zeros([3, 3, 3, 8], 'i32'))).toThrow(/is i32\[3, 3, 3, 8\], expected f32/);
    expect(() => conv2d(g, x, g.zeros([7, 3, 3, 8]), { padding: 'valid' })).toThrow(/filter 7x3 is larger than the padded input 5x5/);
    expect(() => conv2d(g, x, g.zeros([3, 3, 3, 8]), { bias: g.zeros([4]) })).toThrow(/bias \[4\] does not match 8 output channels/);
    expect(() => conv2d(g, x, g.zeros([3, 3, 3, 8]), { stride: [0, 1] })).toThrow(ShapeError);
  });
});

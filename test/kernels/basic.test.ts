// Elementwise, reduction and transpose kernels against float64 references on random odd shapes.

import { describe, expect, it } from 'vitest';
import { add, mul, relu, scale } from '../../src/kernels/elementwise';
import { rowMaxArgmax, sum, sumSquares } from '../../src/kernels/reduce';
import { transpose } from '../../src/kernels/transpose';
import { ShapeError } from '../../src/gpu';
import { TOL_F32, expectClose, randn, rng, useGpu } from '../harness';
import { rowMaxArgmaxRef, transposeRef } from '../ref/linalg';

const gpu = useGpu();
const f32 = (x: Float64Array) => Float32Array.from(x);

describe('elementwise kernels match float64 references', () => {
  // Each size is a pipeline per op (sizes are baked into the WGSL), so each covers its own path: the
  // scalar path on one element, on a tail (7) and one past a workgroup of 256 (257); the vec4 path
  // (multiples of 4) in one workgroup (12) and over five with a partial last one (4100: 1025 vec4s).
  const sizes = [1, 7, 12, 257, 4100];
  for (const n of sizes) {
    it(`add, mul, scale and relu on ${n} elements`, async () => {
      const r = rng(n);
      const a = f32(randn(n, r));
      const b = f32(randn(n, r));
      const g = gpu();
      const ta = g.upload(a, [n]);
      const tb = g.upload(b, [n]);
      const [s, p, k, q] = await g.readMany([add(g, ta, tb), mul(g, ta, tb), scale(g, ta, -2.5), relu(g, ta)]);
      expectClose(s!, Array.from(a, (v, i) => v + b[i]!), TOL_F32, 'add');
      expectClose(p!, Array.from(a, (v, i) => v * b[i]!), TOL_F32, 'mul');
      expectClose(k!, Array.from(a, (v) => v * -2.5), TOL_F32, 'scale');
      expectClose(q!, Array.from(a, (v) => Math.max(0, v)), TOL_F32, 'relu');
    });
  }

  it('refuses mismatched shapes, naming the op and both shapes', () => {
    const g = gpu();
    const a = g.zeros([3, 4]);
    const b = g.zeros([4, 3]);
    expect(() => add(g, a, b)).toThrow(ShapeError);
    expect(() => add(g, a, b)).toThrow(/add: shapes \[3, 4\] and \[4, 3\] differ/);
  });

  it('refuses integer tensors and a non-finite scale', () => {
    const g = gpu();
    const i = g.zeros([5], 'i32');
    const f = g.zeros([5]);
    expect(() => relu(g, i)).toThrow(/relu: .* is i32\[5\], expected f32/);
    expect(() => scale(g, f, NaN)).toThrow(/scale: the factor must be a finite number/);
  });
});

describe('reductions match float64 references', () => {
  for (const n of [1, 5, 255, 256, 257, 10_007, 300_001]) {
    it(`sum and sum of squares of ${n} elements`, async () => {
      const r = rng(100 + n);
      const x = f32(randn(n, r));
      const g = gpu();
      const t = g.upload(x, [n]);
      const [s, q] = await g.readMany([sum(g, t), sumSquares(g, t)]);
      let rs = 0;
      let rq = 0;
      let l1 = 0;
      for (const v of x) {
        rs += v;
        rq += v * v;
        l1 += Math.abs(v);
      }
      // A signed sum may cancel: measure its error against the sum of magnitudes.
      expect(Math.abs(s![0]! - rs) / l1).toBeLessThan(1e-6);
      expect(Math.abs(q![0]! - rq) / rq).toBeLessThan(1e-6);
    });
  }

  for (const [rows, cols] of [[1, 1], [3, 7], [17, 300], [70_000, 3]] as const) {
    it(`row max and argmax of [${rows}, ${cols}] with ties resolved to the first column`, async () => {
      const r = rng(rows * 31 + cols);
      // Values on a coarse grid so ties happen.
      const x = Float32Array.from({ length: rows * cols }, () => Math.round(r() * 8) / 2);
      const g = gpu();
      const { max, argmax } = rowMaxArgmax(g, g.upload(x, [rows, cols]));
      const [m, a] = await g.readMany([max, argmax]);
      const ref = rowMaxArgmaxRef(x, rows, cols);
      expect(Array.from(m!)).toEqual(ref.max);
      expect(Array.from(a!)).toEqual(ref.argmax);
    });
  }

  it('row max skips NaN entries', async () => {
    const g = gpu();
    const { max, argmax } = rowMaxArgmax(g, g.upload([NaN, 2, 5, NaN, 1, 0], [2, 3]));
    const [m, a] = await g.readMany([max, argmax]);
    expect(Array.from(m!)).toEqual([5, 1]);
    expect(Array.from(a!)).toEqual([2, 1]);
  });
});

describe('transpose matches the float64 reference', () => {
  // 16x16 tiles; each shape is a pipeline of its own. Partial tiles ([1,1], [5,3]), one whole tile
  // ([16,16]), several with tails in both axes, more rows than columns ([33,17]) and more columns
  // than rows ([9,70]), and batches ([3,40,9], [2,2,129,5]).
  const shapes: number[][] = [[1, 1], [5, 3], [16, 16], [33, 17], [9, 70], [3, 40, 9], [2, 2, 129, 5]];
  for (const shape of shapes) {
    it(`transposes ${JSON.stringify(shape)}`, async () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = f32(randn(n, rng(n)));
      const g = gpu();
      const y = transpose(g, g.upload(x, shape));
      const R = shape[shape.length - 2]!;
      const C = shape[shape.length - 1]!;
      expect(y.shape).toEqual([...shape.slice(0, -2), C, R]);
      expectClose(await y.read(), transposeRef(x, n / (R * C), R, C), 0, 'transpose');
    });
  }

  it('transposes integer tensors exactly', async () => {
    const g = gpu();
    const y = transpose(g, g.upload([1, 2, 3, 4, 5, 6], [2, 3], 'u32'));
    expect(Array.from(await y.read())).toEqual([1, 4, 2, 5, 3, 6]);
  });
});

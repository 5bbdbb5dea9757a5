// 1x1 stride-1 convs under 'auto' (usePointwiseGemm in src/kernels/conv2d.ts): the forward as conv1x1's
// GEMM and dx as the GEMM dy · wᵀ (dw, on the direct kernel, is checked beside them) — against the
// float64 references, on NaN-poisoned outputs, with subgroups (where the adapter offers them) and
// without. Channel counts give shared and plain GEMMs (16 and 32 lanes share on subgroups of 8; 3 and 1
// do not). Also which convs take the path: not with ReLU, stride 2 or padding.

import { beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../src/gpu';
import { conv2d, conv2dGeometry, usePointwiseGemm } from '../../src/kernels/conv2d';
import { conv2dBackwardFilter, conv2dBackwardInput } from '../../src/kernels/conv2d-grad';
import { TOL_F32, expectClose, randn, rng, useGpus } from '../harness';
import { conv2dBackward, conv2dForward } from '../ref/conv';
import { tensor } from '../ref/tensor';

const gpus = useGpus({ subgroups: false }, {});
let plain: Gpu;
let shared: Gpu;
beforeAll(() => {
  [plain, shared] = gpus() as [Gpu, Gpu];
});

const CASES: [number[], number][] = [[[2, 9, 7, 32], 64], [[3, 4, 5, 64], 128], [[1, 5, 6, 8], 12], [[2, 3, 3, 16], 4]];

describe('1x1 convs on the GEMM path', () => {
  CASES.forEach(([xShape, cout], i) => {
    it(`x[${xShape.join(',')}] 1x1 ->${cout}: y, dx, dw, with and without subgroups`, async () => {
      const r = rng(700 + i);
      const wShape = [1, 1, xShape[3]!, cout];
      const x = randn(xShape.reduce((p, q) => p * q, 1), r);
      const w = randn(wShape.reduce((p, q) => p * q, 1), r);
      const bias = randn(cout, r);
      const yShape = [...xShape.slice(0, 3), cout];
      const dy = randn(yShape.reduce((p, q) => p * q, 1), r);
      const yRef = conv2dForward(tensor(xShape, x), tensor(wShape, w), tensor([cout], bias)).data;
      const ref = conv2dBackward(tensor(yShape, dy), tensor(xShape, x), tensor(wShape, w));
      for (const g of [plain, shared]) {
        expect(usePointwiseGemm(g, conv2dGeometry('t', xShape, wShape, {}))).toBe(true);
        const xT = g.upload(Float32Array.from(x), xShape);
        const wT = g.upload(Float32Array.from(w), wShape);
        const dyT = g.upload(Float32Array.from(dy), yShape);
        const y = conv2d(g, xT, wT, { bias: g.upload(Float32Array.from(bias), [cout]) });
        const dx = conv2dBackwardInput(g, dyT, wT, xShape);
        const dw = conv2dBackwardFilter(g, xT, dyT, wShape);
        expect([y.shape, dx.shape, dw.shape]).toEqual([yShape, xShape, wShape]);
        const [yv, dxv, dwv] = await g.readMany([y, dx, dw]);
        const what = `subgroups ${g.subgroups !== null}`;
        expectClose(yv!, yRef, TOL_F32, `y, ${what}`);
        expectClose(dxv!, ref.dx.data, TOL_F32, `dx, ${what}`);
        expectClose(dwv!, ref.dw.data, TOL_F32, `dw, ${what}`);
      }
    });
  });

  it('is taken only by 1x1 stride-1 unpadded convs without ReLU under auto', () => {
    const geo = (x: number[], w: number[], o: Parameters<typeof conv2dGeometry>[3] = {}) => conv2dGeometry('t', x, w, o);
    expect(usePointwiseGemm(shared, geo([32, 41, 32, 32], [1, 1, 32, 64], { padding: 'same' }))).toBe(true);
    expect(usePointwiseGemm(shared, geo([32, 41, 32, 32], [1, 1, 32, 64]), 'direct')).toBe(false);
    expect(usePointwiseGemm(shared, geo([4, 9, 9, 8], [1, 1, 8, 8], { stride: [2, 2] }))).toBe(false);
    expect(usePointwiseGemm(shared, geo([4, 9, 9, 8], [1, 1, 8, 8], { padding: { top: 1, bottom: 0, left: 0, right: 0 } }))).toBe(false);
    expect(usePointwiseGemm(shared, geo([4, 9, 9, 8], [3, 3, 8, 8], { padding: 'same' }))).toBe(false);
    expect(usePointwiseGemm(shared, geo([4, 9, 9, 6], [1, 1, 6, 8]))).toBe(false); // Cin % 4
    // With ReLU the forward stays on the gather kernel (conv1x1 has no activation); the result is checked there.
    const before = shared.pipelines.keys().filter((k) => k.startsWith('conv2d:')).length;
    conv2d(shared, shared.zeros([1, 4, 4, 8]), shared.zeros([1, 1, 8, 8]), { activation: 'relu' }).dispose();
    expect(shared.pipelines.keys().filter((k) => k.startsWith('conv2d:')).length).toBe(before + 1);
  });
});

// The subgroup paths (src/kernels/subgroups.ts): the Winograd GEMM sharing its V rows and the filter
// gradient's reduction sharing its Z vectors by subgroup broadcast. Each runs on a runtime with the
// feature (where the adapter offers it: lavapipe does, subgroup size 8) and on one without
// (`subgroups: false`), against the float64 references, on NaN-poisoned outputs, with 8, 16 and 32 rows
// per workgroup; tile counts that are not multiples of the rows exercise the clamped last rows. The key of every compiled kernel
// says which path it took, so a silent fallback to the plain path fails here.

import { beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../src/gpu';
import { conv2dBackwardFilter } from '../../src/kernels/conv2d-grad';
import { compilesAtFirstDispatch } from '../../src/gpu/compile-ahead';
import { canShareRows } from '../../src/kernels/subgroups';
import { type GemmRows, LARGE_T, batchedGemm } from '../../src/kernels/winograd';
import { TOL_F32, expectClose, randn, rng, useGpus } from '../harness';
import { conv2dBackward, conv2dForward } from '../ref/conv';
import { matmulRef } from '../ref/linalg';
import { tensor } from '../ref/tensor';

const gpus = useGpus({ subgroups: false }, {});
let plain: Gpu;
let shared: Gpu;
beforeAll(() => {
  [plain, shared] = gpus() as [Gpu, Gpu];
});

const offersSubgroups = () => shared.adapter.features.includes('subgroups');

describe('the runtime', () => {
  it('enables subgroups where the adapter offers them, and not when told not to', () => {
    expect(plain.subgroups).toBeNull();
    if (!offersSubgroups()) return; // nothing more to check on such an adapter
    expect(shared.subgroups).not.toBeNull();
    expect(shared.subgroups!.minSize).toBeGreaterThan(0);
    expect(shared.subgroups!.maxSize).toBeGreaterThanOrEqual(shared.subgroups!.minSize);
  });

  it('runs on subgroups of 8 on lavapipe at its native width, so that the shared paths below are taken', () => {
    if (!compilesAtFirstDispatch(shared.adapter)) return; // lavapipe only
    // vitest.config.ts runs this file without the narrower vectors (4-wide subgroups) of most files.
    expect(process.env.LP_NATIVE_VECTOR_WIDTH, 'LP_NATIVE_VECTOR_WIDTH in this file').toBeUndefined();
    if (process.arch === 'x64') expect([shared.subgroups?.minSize, shared.subgroups?.maxSize]).toEqual([8, 8]); // AVX2
  });

  it('shares rows only with full subgroups holding every shared row', () => {
    const fake = (minSize: number, maxSize: number) => ({ subgroups: { minSize, maxSize } }) as Gpu;
    expect(canShareRows(fake(8, 8), 16, 8)).toBe(true);
    expect(canShareRows(fake(8, 8), 8, 8)).toBe(true);
    expect(canShareRows(fake(8, 8), 12, 8)).toBe(false); // a partial subgroup
    expect(canShareRows(fake(4, 4), 16, 8)).toBe(false); // rows 4..7 live in no lane of the subgroup
    expect(canShareRows(fake(8, 32), 16, 8)).toBe(false); // a subgroup of 32 would be half empty
    expect(canShareRows(fake(8, 32), 64, 8)).toBe(true);
    expect(canShareRows({ subgroups: null } as Gpu, 64, 8)).toBe(false);
  });
});

// [positions, tiles, source channels, destination channels]: D = 32, 64, 128 give 8, 16, 32 lanes.
// T >= LARGE_T (512) takes 32 rows per workgroup by default; 150, 301 and 530 leave a partial last workgroup.
const GEMMS: [number, number, number, number][] = [[3, 37, 16, 32], [2, 29, 64, 64], [1, 13, 128, 128], [4, 8, 8, 64], [2, 150, 16, 32], [1, 301, 32, 128], [1, 530, 16, 32]];

describe('the Winograd GEMM', () => {
  GEMMS.forEach(([XI, T, S, D], i) => {
    it(`[${XI}, ${T}, ${S}] x [${XI}, ${S}, ${D}] (+ bias), with and without subgroups`, async () => {
      const r = rng(900 + i);
      const a = randn(XI * T * S, r);
      const b = randn(XI * S * D, r);
      const bias = randn(D, r);
      const ref = new Float64Array(XI * T * D);
      for (let xi = 0; xi < XI; xi++) {
        const m = matmulRef(a.subarray(xi * T * S, (xi + 1) * T * S), b.subarray(xi * S * D, (xi + 1) * S * D), T, D, S, false, false, bias);
        ref.set(m, xi * T * D);
      }
      const runs: [Gpu, GemmRows | undefined][] = [[plain, undefined], [shared, undefined], [shared, 8], [shared, 16], [shared, 32]];
      for (const [g, rows] of runs) {
        const out = batchedGemm(g, g.upload(Float32Array.from(a), [XI, T, S]), g.upload(Float32Array.from(b), [XI, S, D]), g.upload(Float32Array.from(bias), [D]), 'gemm', rows);
        expectClose(await out.read(), ref, TOL_F32, `gemm, subgroups ${g.subgroups !== null}, rows ${rows ?? 'default'}`);
      }
      const key = `winograd.gemm:${XI}:${T}:${S}:${D}:true`;
      expect(plain.pipelines.keys()).toContain(`${key}:false:8`);
      if (offersSubgroups() && shared.subgroups!.maxSize === 8) {
        // D/4 lanes are whole subgroups of 8 for every case here: the shared path, 32 rows from T = LARGE_T.
        expect(shared.pipelines.keys()).toContain(`${key}:true:${T >= LARGE_T ? 32 : 8}`);
        expect(shared.pipelines.keys()).toContain(`${key}:true:16`);
      }
    });
  });
});

describe('the Winograd filter gradient', () => {
  // [N, H, W, Cin] -> Cout: Cin/4 = 8, 16, 32 lanes; Cout/4 = 4 shared vectors (Cout % 16 = 0), 2, 1.
  const CASES: [number[], number][] = [[[2, 9, 7, 32], 64], [[1, 6, 5, 64], 32], [[1, 5, 4, 128], 24], [[2, 7, 6, 32], 4]];
  CASES.forEach(([xShape, cout], i) => {
    it(`x[${xShape.join(',')}] 3x3 ->${cout}, with and without subgroups`, async () => {
      const r = rng(950 + i);
      const wShape = [3, 3, xShape[3]!, cout];
      const x = randn(xShape.reduce((p, q) => p * q, 1), r);
      const w = randn(wShape.reduce((p, q) => p * q, 1), r);
      const yShape = conv2dForward(tensor(xShape, x), tensor(wShape, w), null, { padding: 'same' }).shape;
      const dy = randn(yShape.reduce((p, q) => p * q, 1), r);
      const ref = conv2dBackward(tensor(yShape, dy), tensor(xShape, x), tensor(wShape, w), { padding: 'same' }).dw.data;
      for (const g of [plain, shared]) {
        const dw = conv2dBackwardFilter(g, g.upload(Float32Array.from(x), xShape), g.upload(Float32Array.from(dy), yShape), wShape, { padding: 'same', algorithm: 'winograd' });
        expectClose(await dw.read(), ref, TOL_F32, `dw, subgroups ${g.subgroups !== null}`);
      }
      expect(plain.pipelines.keys().some((k) => k.startsWith('winograd.reduce:') && k.endsWith(':true'))).toBe(false);
    });
  });

  it('takes the shared path where it applies', () => {
    if (!offersSubgroups() || shared.subgroups!.maxSize !== 8) return; // the cases above are sized for subgroups of 8
    const reduces = shared.pipelines.keys().filter((k) => k.startsWith('winograd.reduce:'));
    expect(reduces.filter((k) => k.endsWith(':true')).length).toBeGreaterThanOrEqual(3);
    expect(reduces.some((k) => k.endsWith(':1:false'))).toBe(true); // one vector: nothing to share
  });
});

// The tiled variants of the Winograd GEMM and filter-gradient reduction (winograd-gemm-tiled.ts on
// matmul-tiled.ts batched over positions and split over tiles), both lane counts, against float64
// references on fresh random inputs with NaN-poisoned outputs (relative L2 TOL_F32 = 1e-5): tile counts
// T that are not multiples of the 32/64-row tile nor of the k step (ragged blocks and chunks), every
// channel count the model uses (32, 64, 128, as source and destination) and channels that are not a
// multiple of the tile (12, 20); then the conv's forward, input gradient and filter gradient with each
// variant forced through the choice table (withVariant, as the tuner installs it) against the float64
// conv references, at the model's block shapes, checking by pipeline key that the tiled kernels ran.

import { describe, expect, it, vi } from 'vitest';
import { withVariant } from '../../src/gpu/choices';
import { conv2d } from '../../src/kernels/conv2d';
import { conv2dBackwardFilter, conv2dBackwardInput } from '../../src/kernels/conv2d-grad';
import { type TiledLanes } from '../../src/kernels/matmul-tiled';
import { WINOGRAD_GEMM_FAMILY, WINOGRAD_REDUCE_FAMILY, reduceChunkTiles, tiledBatchedGemm, tiledTileReduction, winogradGemmShapeKey } from '../../src/kernels/winograd-gemm-tiled';
import { TOL_F32, expectClose, randn, rng, useGpu } from '../harness';
import { conv2dBackward, conv2dForward } from '../ref/conv';
import { matmulRef } from '../ref/linalg';
import { tensor } from '../ref/tensor';

const gpu = useGpu();
const LANES: TiledLanes[] = [8, 16];

/** [P, T, S, D]: positions, tiles, source and destination channels. */
const SHAPES: [number, number, number, number][] = [
  [2, 37, 32, 128],
  [3, 70, 128, 64],
  [2, 9, 12, 20],
];

/** Σ over the batch's slices: out[p] = op(a[p]) · b[p] in float64. */
function batchedRef(a: Float32Array, b: Float32Array, P: number, M: number, N: number, K: number, transA: boolean): Float64Array {
  const out = new Float64Array(P * M * N);
  for (let p = 0; p < P; p++) out.set(matmulRef(a.subarray(p * M * K, (p + 1) * M * K), b.subarray(p * K * N, (p + 1) * K * N), M, N, K, transA, false), p * M * N);
  return out;
}

describe('tiled Winograd GEMM and reduction match float64 references', () => {
  for (const lanes of LANES) {
    for (const [P, T, S, D] of SHAPES) {
      it(`GEMM tiled${lanes}: V[${P},${T},${S}] · U[${P},${S},${D}]`, async () => {
        const r = rng(P * 7919 + T * 31 + S + D + lanes);
        const v = Float32Array.from(randn(P * T * S, r));
        const u = Float32Array.from(randn(P * S * D, r));
        const g = gpu();
        const out = tiledBatchedGemm(g, g.upload(v, [P, T, S]), g.upload(u, [P, S, D]), lanes);
        expect(out.shape).toEqual([P, T, D]);
        expectClose(await out.read(), batchedRef(v, u, P, T, D, S, false), TOL_F32, `gemm tiled${lanes}`);
      });

      it(`reduction tiled${lanes}: Σ_t V[${P},${T},${S}]ᵀ Z[${P},${T},${D}]`, async () => {
        const r = rng(P * 104729 + T * 17 + S + D + lanes);
        const v = Float32Array.from(randn(P * T * S, r));
        const z = Float32Array.from(randn(P * T * D, r));
        const g = gpu();
        const partials = tiledTileReduction(g, g.upload(v, [P, T, S]), g.upload(z, [P, T, D]), lanes);
        const chunks = Math.ceil(T / reduceChunkTiles(P, T, S, D, lanes));
        expect(partials.shape).toEqual([chunks, P, S, D]);
        const got = await partials.read();
        const sum = new Float64Array(P * S * D);
        for (let c = 0; c < chunks; c++) for (let i = 0; i < sum.length; i++) sum[i]! += got[c * sum.length + i]!;
        expectClose(sum, batchedRef(v, z, P, S, D, T, true), TOL_F32, `reduce tiled${lanes} (${chunks} chunks)`);
      });
    }
  }

  it('splits the reduction into chunks of whole k steps, the last one ragged', () => {
    expect(reduceChunkTiles(2, 37, 32, 128, 8)).toBe(16); // 3 chunks: 16 + 16 + 5 tiles
    expect(reduceChunkTiles(36, 640, 128, 128, 16)).toBe(640); // enough workgroups: one chunk
  });
});

describe('the conv passes with the tiled variants forced', () => {
  // The model's block convs (32 -> 64 at 41x32, 64 -> 128 at 20x16) at a small size and batch.
  // Few cases: each compiles every pass's pipelines, slow on lavapipe; the kernels' own tests above cover both lane counts at every channel count.
  const CASES: { variant: 'tiled8' | 'tiled16'; x: [number, number, number, number]; cout: number }[] = [
    { variant: 'tiled8', x: [2, 11, 8, 32], cout: 64 },
    { variant: 'tiled16', x: [1, 10, 9, 64], cout: 128 },
  ];
  for (const { variant, ...c } of CASES) {
    it(`${variant}: x[${c.x.join(',')}] 3x3 -> ${c.cout}, forward + both gradients`, async () => {
      const g = gpu();
      const [N, H, W, cin] = c.x;
      const wShape = [3, 3, cin, c.cout];
      const yShape = [N, H, W, c.cout];
      const r = rng(N * 1000 + H * 10 + cin + variant.length);
      const x = Float32Array.from(randn(N * H * W * cin, r));
      const w = Float32Array.from(randn(9 * cin * c.cout, r));
      const bias = Float32Array.from(randn(c.cout, r));
      const dy = Float32Array.from(randn(N * H * W * c.cout, r));
      const used: string[] = [];
      const get = g.pipelines.get.bind(g.pipelines);
      const spy = vi.spyOn(g.pipelines, 'get').mockImplementation((key, source, entry) => (used.push(key), get(key, source, entry)));
      try {
        const opts = { padding: 'same' as const };
        const [xT, wT, dyT] = [g.upload(x, c.x), g.upload(w, wShape), g.upload(dy, yShape)];
        const forced = <T>(fn: () => T): T =>
          withVariant(g, WINOGRAD_GEMM_FAMILY, winogradGemmShapeKey(4, H, W, cin, c.cout), variant, () =>
            withVariant(g, WINOGRAD_GEMM_FAMILY, winogradGemmShapeKey(4, H, W, c.cout, cin), variant, () =>
              withVariant(g, WINOGRAD_REDUCE_FAMILY, winogradGemmShapeKey(4, H, W, cin, c.cout), variant, fn)));
        const [y, dx, dw] = forced(() => [
          conv2d(g, xT, wT, { ...opts, bias: g.upload(bias, [c.cout]), algorithm: 'winograd' }),
          conv2dBackwardInput(g, dyT, wT, c.x, { ...opts, algorithm: 'winograd' }),
          conv2dBackwardFilter(g, xT, dyT, wShape, { ...opts, algorithm: 'winograd' }),
        ]);
        const [yv, dxv, dwv] = await g.readMany([y!, dx!, dw!]);
        const ref = conv2dBackward(tensor(yShape, dy), tensor(c.x, x), tensor(wShape, w), opts);
        expectClose(yv!, conv2dForward(tensor(c.x, x), tensor(wShape, w), tensor([c.cout], bias), opts).data, TOL_F32, 'y');
        expectClose(dxv!, ref.dx.data, TOL_F32, 'dx');
        expectClose(dwv!, ref.dw.data, TOL_F32, 'dw');
      } finally {
        spy.mockRestore();
      }
      // Both GEMMs (forward, input grad) and the reduction ran tiled, and the default kernels did not.
      expect(used.filter((k) => k.startsWith(`winograd.gemm.${variant}:`)).length, used.join(' ')).toBe(2);
      expect(used.filter((k) => k.startsWith(`winograd.reduce.${variant}:`)).length, used.join(' ')).toBe(1);
      expect(used.some((k) => /^winograd\.(gemm|reduce):/.test(k)), used.join(' ')).toBe(false);
    });
  }
});

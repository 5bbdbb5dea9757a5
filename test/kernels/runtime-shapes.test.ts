// One pipeline serves every batch size (src/kernels/shape-params.ts): each family that reads N (or a
// count derived from it) at run time is run at batch 3, then at batch 5 on the same runtime, and must
// (a) match its float64 reference both times, on NaN-poisoned outputs (a bound still baked for batch 3
// would leave batch 5's last images unwritten), and (b) compile no new pipeline the second time, the
// Winograd GEMM (tile count), the direct conv (pixel count) and the inference stem conv + pool
// included. Shapes are chosen so the chunk counts (Winograd tile reduction, direct filter and bias
// gradients) and the GEMM's rows per workgroup (8 below LARGE_T tiles, 32 from it) are the same at
// both batches.

import { describe, expect, it } from 'vitest';
import type { Gpu } from '../../src/gpu';
import { batchNormBackward, batchNormTrain } from '../../src/kernels/batchnorm';
import { conv2d, conv2dGeometry } from '../../src/kernels/conv2d';
import { stemConvPool } from '../../src/kernels/stem-conv';
import { LARGE_T, batchedGemm } from '../../src/kernels/winograd';
import { conv2dBackwardBias, conv2dBackwardFilter, conv2dBackwardInput } from '../../src/kernels/conv2d-grad';
import { add, relu, reluBackward } from '../../src/kernels/elementwise';
import { matmul } from '../../src/kernels/matmul';
import { globalAvgPool, globalAvgPoolBackward, maxPool2x2, maxPool2x2Backward } from '../../src/kernels/pool';
import { TOL_F32, expectClose, randn, rng, useGpu } from '../harness';
import { conv2dBackward, conv2dForward, convGeometry } from '../ref/conv';
import { matmulRef } from '../ref/linalg';
import { globalAvgPoolBackward as gapBackwardRef, globalAvgPoolForward, maxPool2x2Backward as poolBackwardRef, maxPool2x2Forward } from '../ref/layers';
import { batchNormTrainBackward, batchNormTrainForward } from '../ref/norm';
import { tensor } from '../ref/tensor';

const gpu = useGpu();
const BATCHES = [3, 5];
const f32 = (n: number, seed: number) => Float32Array.from(randn(n, rng(seed)));
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/**
 * Run `check(gpu, N)` (which compares with references) at each batch; the later batches may compile
 * new pipelines (distinct WGSL: the cache's per-family compile counts) only in `allowed` families.
 */
async function oneSetOfPipelines(check: (g: Gpu, N: number) => Promise<void>, allowed: string[] = []): Promise<void> {
  const g = gpu();
  await check(g, BATCHES[0]!);
  const before = g.pipelines.statistics().byFamily;
  for (const N of BATCHES.slice(1)) await check(g, N);
  const after = g.pipelines.statistics().byFamily;
  const added = Object.keys(after).filter((f) => after[f] !== before[f] && !allowed.includes(f));
  expect(added.map((f) => `${f}: ${before[f] ?? 0} -> ${after[f]}`)).toEqual([]);
}

describe('kernels with a runtime batch size: one pipeline for batches 3 and 5, float64 references', () => {
  it('Winograd conv: forward (bias, ReLU), input gradient, filter gradient', () =>
    // 9 x 7 images: 3 x 2 tiles of 4 x 4 each; 32 -> 64 channels: the tile reduction takes 15 chunks
    // whenever there are at least 15 tiles (18 and 30 here).
    oneSetOfPipelines(async (g, N) => {
      const xs = [N, 9, 7, 32];
      const ws = [3, 3, 32, 64];
      const [x, w, b] = [f32(size(xs), N), f32(size(ws), 10 + N), f32(64, 20 + N)];
      const geo = convGeometry(xs, ws, { padding: 'same' });
      const ys = [N, geo.OH, geo.OW, 64];
      const dy = f32(size(ys), 30 + N);
      const opts = { padding: 'same' as const, algorithm: 'winograd' as const, winogradTile: 4 as const };
      const xT = g.upload(x, xs);
      const wT = g.upload(w, ws);
      const dyT = g.upload(dy, ys);
      const y = conv2d(g, xT, wT, { ...opts, bias: g.upload(b, [64]), activation: 'relu' });
      const dx = conv2dBackwardInput(g, dyT, wT, xs, opts);
      const dw = conv2dBackwardFilter(g, xT, dyT, ws, opts);
      const [yv, dxv, dwv] = await g.readMany([y, dx, dw]);
      const yRef = conv2dForward(tensor(xs, x), tensor(ws, w), tensor([64], b), { padding: 'same' }).data.map((v) => Math.max(v, 0));
      const ref = conv2dBackward(tensor(ys, dy), tensor(xs, x), tensor(ws, w), { padding: 'same' });
      expectClose(yv!, yRef, TOL_F32, `y at batch ${N}`);
      expectClose(dxv!, ref.dx.data, TOL_F32, `dx at batch ${N}`);
      expectClose(dwv!, ref.dw.data, TOL_F32, `dw at batch ${N}`);
    }), 900_000); // a dozen large kernels to compile: minutes on a loaded 2-core lavapipe

  it('direct filter and bias gradients (the stem conv: 3x3, 1 -> 32 channels)', () =>
    // 240 rows per image: at least the 683 chunks of this filter at both batches.
    oneSetOfPipelines(async (g, N) => {
      const xs = [N, 240, 5, 1];
      const ws = [3, 3, 1, 32];
      const ys = [N, 240, 5, 32];
      const [x, dy] = [f32(size(xs), 40 + N), f32(size(ys), 50 + N)];
      const dyT = g.upload(dy, ys);
      const dw = conv2dBackwardFilter(g, g.upload(x, xs), dyT, ws, { padding: 'same' });
      const db = conv2dBackwardBias(g, dyT);
      const [dwv, dbv] = await g.readMany([dw, db]);
      const ref = conv2dBackward(tensor(ys, dy), tensor(xs, x), tensor(ws, new Float64Array(size(ws))), { padding: 'same' });
      expectClose(dwv!, ref.dw.data, TOL_F32, `dw at batch ${N}`);
      expectClose(dbv!, ref.db.data, TOL_F32, `db at batch ${N}`);
    }));

  it('batch norm: training forward with ReLU and backward', () =>
    // 45 and 75 rows: one and two row slices in the statistics passes.
    oneSetOfPipelines(async (g, N) => {
      const xs = [N, 5, 3, 8];
      const x = Float32Array.from(f32(size(xs), 60 + N), (v, i) => 2 * v + 5 + (i % 8));
      const [gamma, beta, dy] = [f32(8, 70 + N).map((v) => 1 + 0.3 * v), f32(8, 80 + N), f32(size(xs), 90 + N)];
      const p = { gamma: g.upload(gamma, [8]), beta: g.upload(beta, [8]), movingMean: g.zeros([8]), movingVar: g.upload(new Float32Array(8).fill(1), [8]) };
      const xT = g.upload(x, xs);
      const { y, mean, invstd } = batchNormTrain(g, xT, p, { relu: true });
      const back = batchNormBackward(g, g.upload(dy, xs), xT, p.gamma, { mean, invstd }, { reluOutput: y });
      const [yv, dxv, dgv, dbv] = await g.readMany([y, back.dx, back.dgamma, back.dbeta]);
      const ref = batchNormTrainForward(tensor(xs, x), tensor([8], gamma), tensor([8], beta));
      const yRef = ref.y.data.map((v) => Math.max(v, 0));
      const grads = batchNormTrainBackward(tensor(xs, Array.from(dy, (v, i) => (yRef[i]! > 0 ? v : 0))), ref, tensor([8], gamma));
      expectClose(yv!, yRef, TOL_F32, `y at batch ${N}`);
      expectClose(dxv!, grads.dx.data, TOL_F32, `dx at batch ${N}`);
      expectClose(dgv!, grads.dgamma.data, TOL_F32, `dgamma at batch ${N}`);
      expectClose(dbv!, grads.dbeta.data, TOL_F32, `dbeta at batch ${N}`);
    }));

  it('max pool, global average pool and their gradients', () =>
    oneSetOfPipelines(async (g, N) => {
      const xs = [N, 5, 7, 8];
      const x = f32(size(xs), 100 + N);
      const xT = g.upload(x, xs);
      const pool = maxPool2x2(g, xT);
      const pys = [N, 2, 3, 8];
      const dyPool = f32(size(pys), 110 + N);
      const dxPool = maxPool2x2Backward(g, g.upload(dyPool, pys), pool.argmax, xs);
      const gap = globalAvgPool(g, xT);
      const dyGap = f32(N * 8, 120 + N);
      const dxGap = globalAvgPoolBackward(g, g.upload(dyGap, [N, 8]), xs);
      const [pv, dpv, gv, dgv] = await g.readMany([pool.y, dxPool, gap, dxGap]);
      const poolRef = maxPool2x2Forward(tensor(xs, x));
      expectClose(pv!, poolRef.y.data, TOL_F32, `max pool at batch ${N}`);
      expectClose(dpv!, poolBackwardRef(tensor(pys, dyPool), poolRef, xs).data, TOL_F32, `max pool gradient at batch ${N}`);
      expectClose(gv!, globalAvgPoolForward(tensor(xs, x)).data, TOL_F32, `global average pool at batch ${N}`);
      expectClose(dgv!, gapBackwardRef(tensor([N, 8], dyGap), xs).data, TOL_F32, `global average pool gradient at batch ${N}`);
    }));

  it('dense layer products (forward with bias and ReLU, dx, dw) and elementwise ops', () =>
    oneSetOfPipelines(async (g, N) => {
      const [x, w, b, dy] = [f32(N * 12, 130 + N), f32(12 * 8, 140 + N), f32(8, 150 + N), f32(N * 8, 160 + N)];
      const xT = g.upload(x, [N, 12]);
      const wT = g.upload(w, [12, 8]);
      const dyT = g.upload(dy, [N, 8]);
      const y = matmul(g, xT, wT, { bias: g.upload(b, [8]), activation: 'relu' });
      const dx = matmul(g, dyT, wT, { transB: true });
      const dw = matmul(g, xT, dyT, { transA: true });
      const sum = add(g, dyT, dyT);
      const r = relu(g, dyT);
      const rb = reluBackward(g, dyT, y);
      const [yv, dxv, dwv, sv, rv, rbv] = await g.readMany([y, dx, dw, sum, r, rb]);
      const yRef = matmulRef(x, w, N, 8, 12, false, false, b, true);
      expectClose(yv!, yRef, TOL_F32, `y at batch ${N}`);
      expectClose(dxv!, matmulRef(dy, w, N, 12, 8, false, true), TOL_F32, `dx at batch ${N}`);
      expectClose(dwv!, matmulRef(x, dy, 12, 8, N, true, false), TOL_F32, `dw at batch ${N}`);
      expectClose(sv!, Array.from(dy, (v) => 2 * v), TOL_F32, `add at batch ${N}`);
      expectClose(rv!, Array.from(dy, (v) => Math.max(v, 0)), TOL_F32, `relu at batch ${N}`);
      expectClose(rbv!, Array.from(dy, (v, i) => (yRef[i]! > 0 ? v : 0)), TOL_F32, `relu gradient at batch ${N}`);
    }));
  it('Winograd GEMM alone: 32 rows per workgroup at 530 and 730 tiles (partial last workgroups), with bias', () =>
    oneSetOfPipelines(async (g, N) => {
      const [XI, T, S, D] = [2, 100 * N + 230, 16, 32];
      expect(T).toBeGreaterThanOrEqual(LARGE_T);
      const [a, b, bias] = [f32(XI * T * S, 170 + N), f32(XI * S * D, 180 + N), f32(D, 190 + N)];
      const out = await batchedGemm(g, g.upload(a, [XI, T, S]), g.upload(b, [XI, S, D]), g.upload(bias, [D])).read();
      const ref = new Float64Array(XI * T * D);
      for (let xi = 0; xi < XI; xi++) ref.set(matmulRef(a.subarray(xi * T * S, (xi + 1) * T * S), b.subarray(xi * S * D, (xi + 1) * S * D), T, D, S, false, false, bias), xi * T * D);
      expectClose(out, ref, TOL_F32, `gemm at ${T} tiles`);
    }));

  it('direct conv (the stem: 1 -> 32 channels) forward with bias and ReLU, input gradient, inference stem conv + pool', () =>
    oneSetOfPipelines(async (g, N) => {
      const xs = [N, 11, 9, 1];
      const ws = [3, 3, 1, 32];
      const [x, w, b] = [f32(size(xs), 200 + N), f32(size(ws), 210 + N), f32(32, 220 + N)];
      const ys = [N, 11, 9, 32];
      const dy = f32(size(ys), 230 + N);
      const [xT, wT, bT] = [g.upload(x, xs), g.upload(w, ws), g.upload(b, [32])];
      const y = conv2d(g, xT, wT, { padding: 'same', algorithm: 'direct', bias: bT, activation: 'relu' });
      const dx = conv2dBackwardInput(g, g.upload(dy, ys), wT, xs, { padding: 'same', algorithm: 'direct' });
      const pooled = stemConvPool(g, conv2dGeometry('stem', xs, ws, { padding: 'same' }), xT, wT, bT);
      const [yv, dxv, pv] = await g.readMany([y, dx, pooled]);
      const yRef = conv2dForward(tensor(xs, x), tensor(ws, w), tensor([32], b), { padding: 'same' }).data.map((v) => Math.max(v, 0));
      const ref = conv2dBackward(tensor(ys, dy), tensor(xs, x), tensor(ws, w), { padding: 'same' });
      expectClose(yv!, yRef, TOL_F32, `y at batch ${N}`);
      expectClose(dxv!, ref.dx.data, TOL_F32, `dx at batch ${N}`);
      expectClose(pv!, maxPool2x2Forward(tensor(ys, yRef)).y.data, TOL_F32, `stem conv + pool at batch ${N}`);
    }), 900_000); // four unrolled kernels to compile: minutes on a loaded 2-core lavapipe
});

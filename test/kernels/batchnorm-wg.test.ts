// The GPU-shaped batch-norm training reductions (src/kernels/batchnorm-wg.ts, variant 'tree', forced
// through the choice table as the tuner would install it) against the float64 references of
// test/ref/norm.ts: statistics, moving update and backward sums on shapes that are not multiples of the
// 256-invocation workgroup or of a slice (scalar and vec4 channels, more channel groups than one
// workgroup holds, a partial last slice), the model's block-1 shape at batch 32 (41,984 rows per
// channel), the fused-ReLU backward, and central finite differences of the reference forward against
// the variant's gradients. Every runtime is poisoned (outputs start as NaN).
// Tolerance: TOL_F32 (1e-5). Measured on lavapipe: relative L2 <= 7.3e-7 for mean, invstd, y, moving
// statistics, dgamma, dbeta and dx at every shape here but dx on [3, 1100] (3 rows: 2.2e-6); at
// 32x41x32x64 (41,984 rows per channel, means 20..35 with std 3): mean 4.5e-8, invstd 5.2e-8,
// dbeta 1.5e-7, dgamma 3.1e-7 (per-lane shifted sums of 16 rows, then Chan merges / sums as trees).
import { describe, expect, it } from 'vitest';
import { batchNormBackward, batchNormTrain } from '../../src/kernels/batchnorm';
import { BN_GRAD_FAMILY, BN_STATS_FAMILY, bnShapeKey } from '../../src/kernels/batchnorm-wg';
import { withVariant } from '../../src/gpu/choices';
import type { Gpu } from '../../src/gpu';
import { TOL_F32, expectClose, randn, rng, useGpu } from '../harness';
import { batchNormTrainForward } from '../ref/norm';
import { bnInputs, bnParams, expectTrainingStepMatches } from './batchnorm-cases';
import { gradCheck } from '../ref/gradcheck';
import { dot, tensor } from '../ref/tensor';

const gpu = useGpu();
const f32 = (x: ArrayLike<number>) => Float32Array.from(x);

/** Run fn with the tree variant forced for both families at this shape. */
function tree<T>(g: Gpu, shape: number[], fn: () => T): T {
  const k = bnShapeKey(shape);
  return withVariant(g, BN_STATS_FAMILY, k, 'tree', () => withVariant(g, BN_GRAD_FAMILY, k, 'tree', fn));
}

// Offset per channel (mean 20..35, std 3): a naive E[x^2] - E[x]^2 in f32 would lose digits.
const inputs = (shape: number[], seed: number) => bnInputs(shape, seed, (c) => 20 + (c % 16));

// [N, H, W, C]: C = 1, 7 (scalar, 8 channel lanes, 32 row lanes), 12 with 3219 rows (vec4, 4 slices of
// 1024 rows, the last partial), 33, 68, 1100 (vec4: 275 groups, more than one workgroup's 256),
// 10x3 rows (fewer rows than row lanes), and the model's block-1 BN at batch 32.
const shapes: number[][] = [[1, 1, 1, 1], [2, 3, 5, 7], [3, 37, 29, 12], [4, 9, 7, 33], [2, 5, 3, 68], [3, 1100], [10, 3], [32, 41, 32, 64]];
const reluShapes = new Set(['2,3,5,7', '3,37,29,12', '2,5,3,68']);

describe("batch norm 'tree' reductions match float64 references", () => {
  for (const shape of shapes) {
    for (const relu of reluShapes.has(shape.join(',')) ? [false, true] : [false]) {
      it(`statistics, moving update and backward on ${JSON.stringify(shape)}${relu ? ' with fused ReLU' : ''}`, async () => {
        const d = inputs(shape, shape.reduce((a, b) => a * 7 + b, relu ? 3 : 2));
        const g = gpu();
        await expectTrainingStepMatches(g, shape, d, relu, (fn) => tree(g, shape, fn));
      });
    }
  }

  it('the choice table routes training and backward to the tree kernels, and only when chosen', async () => {
    const shape = [2, 3, 4, 20];
    const d = inputs(shape, 23);
    const g = gpu();
    const p = bnParams(g, d, true);
    const x = g.upload(d.x, shape);
    const pass = () => {
      const f = batchNormTrain(g, x, p);
      return batchNormBackward(g, x, x, p.gamma, f).dx;
    };
    const treeKeys = () => g.pipelines.keys().filter((k) => /^batchNorm(Train|Backward)\.tree[12]:24:5:/.test(k));
    await g.read(withVariant(g, BN_STATS_FAMILY, bnShapeKey(shape), 'lanes', pass));
    expect(treeKeys()).toEqual([]);
    await g.read(tree(g, shape, pass));
    expect(treeKeys().length).toBe(4);
  });

  it('keeps the variance when the mean is 1000 times the standard deviation', async () => {
    const shape = [16, 33, 20];
    const r = rng(29);
    const x = f32(randn(16 * 33 * 20, r).map((v) => 1000 + v));
    const g = gpu();
    const p = { gamma: g.upload(new Float32Array(20).fill(1), [20]), beta: g.zeros([20]), movingMean: g.zeros([20]), movingVar: g.zeros([20]) };
    const f = tree(g, shape, () => batchNormTrain(g, g.upload(x, shape), p));
    const ref = batchNormTrainForward(tensor(shape, x), tensor([20], new Float64Array(20).fill(1)), tensor([20], new Float64Array(20)));
    const [iv, yv] = await g.readMany([f.invstd, f.y]);
    expectClose(iv!, ref.invStd, TOL_F32, 'invstd');
    expectClose(yv!, ref.y.data, 1e-4, 'y (x - mean loses ~1e-4 of x\'s digits in f32)');
  });

  it('is deterministic: two runs give identical bits', async () => {
    const shape = [3, 37, 29, 12];
    const d = inputs(shape, 11);
    const g = gpu();
    const p = bnParams(g, d, true);
    const x = g.upload(d.x, shape);
    const dy = g.upload(d.dy, shape);
    const run = () => tree(g, shape, () => {
      const f = batchNormTrain(g, x, p);
      const b = batchNormBackward(g, dy, x, p.gamma, f);
      return [f.mean, f.invstd, b.dgamma, b.dbeta];
    });
    const [a, b] = [await g.readMany(run()), await g.readMany(run())];
    a.forEach((v, i) => expect(Array.from(v!)).toEqual(Array.from(b[i]!)));
  });
});

describe("batch norm 'tree' gradients", () => {
  // The reference's finite-difference check (test/ref/norm.test.ts) with the analytic side from the GPU:
  // central differences of the float64 forward (of the same f32 inputs) against the variant's dx, dgamma,
  // dbeta; rtol 1e-4 allows the f32 rounding of the GPU's gradients (measured worst ratio ~0.1 at 1e-4).
  for (const shape of [[2, 5, 7, 3], [2, 5, 7, 8]]) {
    it(`dx, dgamma, dbeta match central finite differences on ${JSON.stringify(shape)}`, async () => {
      const d = inputs(shape, 17);
      const x = Float64Array.from(d.x);
      const gamma = Float64Array.from(d.gamma);
      const beta = Float64Array.from(d.beta);
      const r = Float64Array.from(d.dy);
      const g = gpu();
      const p = bnParams(g, d, true);
      const xt = g.upload(d.x, shape);
      const b = tree(g, shape, () => batchNormBackward(g, g.upload(d.dy, shape), xt, p.gamma, batchNormTrain(g, xt, p)));
      const grads = (await g.readMany([b.dx, b.dgamma, b.dbeta])).map((v) => Float64Array.from(v!));
      const loss = ([xd, gd, bd]: Float64Array[]) =>
        dot(batchNormTrainForward({ data: xd!, shape }, { data: gd!, shape: [d.C] }, { data: bd!, shape: [d.C] }).y.data, r);
      const report = gradCheck(loss, [x, gamma, beta], grads, { maxCoordsPerInput: 100, rtol: 1e-4, atol: 1e-6 });
      expect(report.failures).toEqual([]);
      expect(report.checked).toBe(Math.min(100, x.length) + 2 * d.C);
    });
  }
});

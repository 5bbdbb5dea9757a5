// Shared by the batch-norm kernel tests (batchnorm.test.ts: the default kernels; batchnorm-wg.test.ts:
// the 'tree' variant): offset random inputs, and one training step (forward statistics, moving update,
// fused ReLU, backward sums and dx) run on the GPU and compared with the float64 references of
// test/ref/norm.ts.

import type { Gpu, Tensor } from '../../src/gpu';
import { batchNormBackward, batchNormTrain } from '../../src/kernels/batchnorm';
import { TOL_F32, expectClose, randn, rng } from '../harness';
import { batchNormMovingUpdate, batchNormTrainBackward, batchNormTrainForward } from '../ref/norm';
import { reluForward } from '../ref/layers';
import { tensor } from '../ref/tensor';

const f32 = (x: ArrayLike<number>) => Float32Array.from(x);

export type BnInputs = ReturnType<typeof bnInputs>;

/**
 * Inputs for an [..., C] activation: x offset per channel by `offset(c)` (std 3), so a naive
 * E[x^2] - E[x]^2 in float32 would lose digits; gamma near 1, moving variance positive.
 */
export function bnInputs(shape: number[], seed: number, offset: (c: number) => number) {
  const r = rng(seed);
  const C = shape[shape.length - 1]!;
  const R = shape.reduce((a, b) => a * b, 1) / C;
  const x = f32(randn(R * C, r).map((v, i) => 3 * v + offset(i % C)));
  const gamma = f32(randn(C, r).map((v) => 1 + 0.3 * v));
  const beta = f32(randn(C, r));
  const movingMean = f32(randn(C, r));
  const movingVar = f32(randn(C, r).map((v) => 1 + 0.5 * Math.abs(v)));
  const dy = f32(randn(R * C, r));
  return { R, C, x, gamma, beta, movingMean, movingVar, dy };
}

/** gamma and beta of `d` on the GPU, with the moving statistics of `d` (or zeros with `zeroMoving`). */
export function bnParams(g: Gpu, d: BnInputs, zeroMoving = false): { gamma: Tensor; beta: Tensor; movingMean: Tensor; movingVar: Tensor } {
  return {
    gamma: g.upload(d.gamma, [d.C]),
    beta: g.upload(d.beta, [d.C]),
    movingMean: zeroMoving ? g.zeros([d.C]) : g.upload(d.movingMean, [d.C]),
    movingVar: zeroMoving ? g.zeros([d.C]) : g.upload(d.movingVar, [d.C]),
  };
}

/**
 * One training forward and backward of batch norm on the GPU (`wrap` runs the dispatches, e.g. under a
 * forced variant), every output checked against the float64 references with TOL_F32.
 */
export async function expectTrainingStepMatches(
  g: Gpu, shape: number[], d: BnInputs, relu: boolean, wrap: <T>(fn: () => T) => T = (fn) => fn(),
): Promise<{ y: Tensor }> {
  const p = bnParams(g, d);
  const x = g.upload(d.x, shape);
  const out = wrap(() => {
    const f = batchNormTrain(g, x, p, { relu });
    return { ...f, ...batchNormBackward(g, g.upload(d.dy, shape), x, p.gamma, f, relu ? { reluOutput: f.y } : {}) };
  });
  const [yv, mv, iv, mm, mvar, dx, dgamma, dbeta] = await g.readMany([out.y, out.mean, out.invstd, p.movingMean, p.movingVar, out.dx, out.dgamma, out.dbeta]);
  const gammaT = tensor([d.C], d.gamma);
  const ref = batchNormTrainForward(tensor(shape, d.x), gammaT, tensor([d.C], d.beta));
  const yRef = relu ? reluForward(ref.y) : ref.y;
  const moving = batchNormMovingUpdate(Float64Array.from(d.movingMean), Float64Array.from(d.movingVar), ref);
  expectClose(yv!, yRef.data, TOL_F32, 'y');
  expectClose(mv!, ref.mean, TOL_F32, 'batch mean');
  expectClose(iv!, ref.invStd, TOL_F32, 'invstd');
  expectClose(mm!, moving.movingMean, TOL_F32, 'moving mean');
  expectClose(mvar!, moving.movingVariance, TOL_F32, 'moving variance (biased)');
  // With fused ReLU the backward sees dy masked where the output is not positive.
  const dyRef = tensor(shape, Array.from(d.dy, (v, i) => (relu && yRef.data[i]! <= 0 ? 0 : v)));
  const bref = batchNormTrainBackward(dyRef, ref, gammaT);
  expectClose(dbeta!, bref.dbeta.data, TOL_F32, 'dbeta');
  expectClose(dgamma!, bref.dgamma.data, TOL_F32, 'dgamma');
  expectClose(dx!, bref.dx.data, TOL_F32, 'dx');
  return { y: out.y };
}

// Batch norm (training, inference, backward, fused ReLU, moving statistics) against float64
// references on odd NHWC shapes, and the reference backward against finite differences.

import { describe, expect, it } from 'vitest';
import { batchNormBackward, batchNormInference, batchNormTrain } from '../../src/kernels/batchnorm';
import { ShapeError } from '../../src/gpu';
import { TOL_F32, expectClose, randn, rng, useGpu } from '../harness';
import { batchNormApplyRef, batchNormBackwardRef, batchNormTrainRef } from '../ref/nnk-extra';

const gpu = useGpu();
const f32 = (x: ArrayLike<number>) => Float32Array.from(x);

// [N, H, W, C]: odd sizes, C both a multiple of 4 (vec4 path) and not, one with many rows.
const shapes: number[][] = [[1, 1, 1, 1], [2, 3, 5, 7], [3, 5, 4, 8], [4, 9, 7, 33], [8, 41, 32, 12], [5, 3]];

function inputs(shape: number[], seed: number) {
  const r = rng(seed);
  const C = shape[shape.length - 1]!;
  const R = shape.reduce((a, b) => a * b, 1) / C;
  // Offset and scaled per channel so a naive E[x^2] - E[x]^2 would lose digits.
  const x = f32(randn(R * C, r).map((v, i) => 3 * v + 20 + (i % C)));
  const gamma = f32(randn(C, r).map((v) => 1 + 0.3 * v));
  const beta = f32(randn(C, r));
  const movingMean = f32(randn(C, r));
  const movingVar = f32(randn(C, r).map((v) => 1 + 0.5 * Math.abs(v)));
  const dy = f32(randn(R * C, r));
  return { R, C, x, gamma, beta, movingMean, movingVar, dy };
}

describe('batch norm matches float64 references', () => {
  for (const shape of shapes) {
    for (const relu of [false, true]) {
      it(`training forward, moving statistics and backward on ${JSON.stringify(shape)}${relu ? ' with fused ReLU' : ''}`, async () => {
        const d = inputs(shape, shape.reduce((a, b) => a * 7 + b, relu ? 1 : 0));
        const g = gpu();
        const p = { gamma: g.upload(d.gamma, [d.C]), beta: g.upload(d.beta, [d.C]), movingMean: g.upload(d.movingMean, [d.C]), movingVar: g.upload(d.movingVar, [d.C]) };
        const x = g.upload(d.x, shape);
        const { y, mean, invstd } = batchNormTrain(g, x, p, { relu });
        const back = batchNormBackward(g, g.upload(d.dy, shape), x, p.gamma, { mean, invstd }, relu ? { reluOutput: y } : {});
        const [yv, mv, iv, mm, mvar, dx, dgamma, dbeta] = await g.readMany([y, mean, invstd, p.movingMean, p.movingVar, back.dx, back.dgamma, back.dbeta]);
        const ref = batchNormTrainRef(d.x, d.R, d.C, d.gamma, d.beta, 1e-3, relu);
        expect(y.shape).toEqual(shape);
        expectClose(yv!, ref.y, TOL_F32, 'y');
        expectClose(mv!, ref.mean, TOL_F32, 'batch mean');
        expectClose(iv!, ref.invstd, d.R === 1 ? TOL_F32 : 1e-4, 'invstd');
        expectClose(mm!, Array.from(d.movingMean, (v, c) => 0.99 * v + 0.01 * ref.mean[c]!), TOL_F32, 'moving mean');
        expectClose(mvar!, Array.from(d.movingVar, (v, c) => 0.99 * v + 0.01 * ref.variance[c]!), TOL_F32, 'moving variance (biased)');
        const bref = batchNormBackwardRef(d.dy, d.x, d.R, d.C, d.gamma, 1e-3, relu ? ref.y : undefined);
        expectClose(dbeta!, bref.dbeta, TOL_F32, 'dbeta');
        expectClose(dgamma!, bref.dgamma, 1e-4, 'dgamma');
        expectClose(dx!, bref.dx, 1e-4, 'dx');
      });
    }
  }

  it('inference normalises with the moving statistics and leaves them alone', async () => {
    const shape = [3, 5, 7, 6];
    const d = inputs(shape, 99);
    const g = gpu();
    const p = { gamma: g.upload(d.gamma, [d.C]), beta: g.upload(d.beta, [d.C]), movingMean: g.upload(d.movingMean, [d.C]), movingVar: g.upload(d.movingVar, [d.C]) };
    const y = batchNormInference(g, g.upload(d.x, shape), p, { relu: true });
    const [yv, mm] = await g.readMany([y, p.movingMean]);
    const invstd = Array.from(d.movingVar, (v) => 1 / Math.sqrt(v + 1e-3));
    expectClose(yv!, batchNormApplyRef(d.x, d.R, d.C, d.movingMean, invstd, d.gamma, d.beta, true), TOL_F32, 'y');
    expect(Array.from(mm!)).toEqual(Array.from(d.movingMean));
  });

  it('moving statistics follow several training steps with a custom momentum', async () => {
    const shape = [2, 4, 3, 5];
    const g = gpu();
    const d0 = inputs(shape, 5);
    const p = { gamma: g.upload(d0.gamma, [5]), beta: g.upload(d0.beta, [5]), movingMean: g.zeros([5]), movingVar: g.upload(new Float32Array(5).fill(1), [5]) };
    const mm = new Float64Array(5);
    const mv = new Float64Array(5).fill(1);
    for (let step = 0; step < 4; step++) {
      const d = inputs(shape, 50 + step);
      g.scope(() => batchNormTrain(g, g.upload(d.x, shape), p, { momentum: 0.9 }));
      const ref = batchNormTrainRef(d.x, d.R, d.C, d.gamma, d.beta, 1e-3, false);
      for (let c = 0; c < 5; c++) {
        mm[c] = 0.9 * mm[c]! + 0.1 * ref.mean[c]!;
        mv[c] = 0.9 * mv[c]! + 0.1 * ref.variance[c]!;
      }
    }
    const [a, b] = await g.readMany([p.movingMean, p.movingVar]);
    expectClose(a!, mm, TOL_F32, 'moving mean after 4 steps');
    expectClose(b!, mv, TOL_F32, 'moving variance after 4 steps');
  });
});

describe('the batch norm reference backward', () => {
  it('matches central finite differences of sum(dy * y)', () => {
    const d = inputs([2, 3, 2, 3], 11);
    const x = Float64Array.from(d.x, (v) => v / 10);
    const loss = (xx: ArrayLike<number>, gm: ArrayLike<number>, bt: ArrayLike<number>) =>
      batchNormTrainRef(xx, d.R, d.C, gm, bt, 1e-3, false).y.reduce((a, v, i) => a + v * d.dy[i]!, 0);
    const ref = batchNormBackwardRef(d.dy, x, d.R, d.C, d.gamma, 1e-3);
    const h = 1e-6;
    const fd = (arr: Float64Array, f: (a: Float64Array) => number) =>
      Array.from(arr, (_, i) => {
        const p = Float64Array.from(arr);
        const m = Float64Array.from(arr);
        p[i]! += h;
        m[i]! -= h;
        return (f(p) - f(m)) / (2 * h);
      });
    const gm = Float64Array.from(d.gamma);
    const bt = Float64Array.from(d.beta);
    expectClose(ref.dx, fd(x, (a) => loss(a, gm, bt)), 1e-6, 'dx');
    expectClose(ref.dgamma, fd(gm, (a) => loss(x, a, bt)), 1e-6, 'dgamma');
    expectClose(ref.dbeta, fd(bt, (a) => loss(x, gm, a)), 1e-6, 'dbeta');
  });
});

describe('batch norm refuses bad inputs', () => {
  it('names the op and the mismatched channel parameter', () => {
    const g = gpu();
    const p = { gamma: g.zeros([4]), beta: g.zeros([4]), movingMean: g.zeros([5]), movingVar: g.zeros([4]) };
    expect(() => batchNormTrain(g, g.zeros([2, 3, 4]), p)).toThrow(ShapeError);
    expect(() => batchNormTrain(g, g.zeros([2, 3, 4]), p)).toThrow(/batchNormTrain: movingMean .* has shape \[5\], expected \[4\]/);
  });

  it('refuses a non-positive epsilon and a momentum outside [0, 1]', () => {
    const g = gpu();
    const p = { gamma: g.zeros([4]), beta: g.zeros([4]), movingMean: g.zeros([4]), movingVar: g.zeros([4]) };
    expect(() => batchNormTrain(g, g.zeros([2, 4]), p, { epsilon: 0 })).toThrow(/epsilon must be positive/);
    expect(() => batchNormTrain(g, g.zeros([2, 4]), p, { momentum: 1.5 })).toThrow(/momentum must lie in \[0, 1\]/);
    expect(() => batchNormInference(g, g.zeros([2, 4]), p, { epsilon: NaN })).toThrow(/epsilon must be a finite number/);
  });

  it('refuses dy of another shape than x', () => {
    const g = gpu();
    const s = { mean: g.zeros([4]), invstd: g.zeros([4]) };
    expect(() => batchNormBackward(g, g.zeros([3, 4]), g.zeros([2, 4]), g.zeros([4]), s)).toThrow(/batchNormBackward: shapes \[3, 4\] and \[2, 4\] differ/);
  });
});

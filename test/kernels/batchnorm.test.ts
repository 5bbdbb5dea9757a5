// Batch norm (training, inference, backward, fused ReLU, moving statistics) against the float64
// references of test/ref/norm.ts (checked there against finite differences) on odd NHWC shapes.

import { describe, expect, it } from 'vitest';
import { batchNormBackward, batchNormInference, batchNormTrain } from '../../src/kernels/batchnorm';
import { ShapeError } from '../../src/gpu';
import { createNodeGpu } from '../../src/gpu/node.node';
import { TOL_F32, expectClose, useGpu } from '../harness';
import { bnInputs, bnParams, expectTrainingStepMatches } from './batchnorm-cases';
import { batchNormInference as inferenceRef, batchNormMovingUpdate, batchNormTrainForward } from '../ref/norm';
import { reluForward } from '../ref/layers';
import { tensor } from '../ref/tensor';

const gpu = useGpu();

// [N, H, W, C]: odd sizes, C both a multiple of 4 (vec4 path) and not, one with many rows, one wider
// than a workgroup's 32 channels.
const shapes: number[][] = [[1, 1, 1, 1], [2, 3, 5, 7], [3, 5, 4, 8], [4, 9, 7, 33], [8, 41, 32, 12], [5, 3], [2, 5, 3, 68]];
// The fused ReLU is one branch of the same kernels, but a pipeline more per shape for three of them:
// it runs on the scalar path ([2,3,5,7], [4,9,7,33]: more channels than a workgroup's 32) and the vec4
// path ([3,5,4,8], [2,5,3,68]: also over 32 channels), not on every shape.
const reluShapes = new Set(['2,3,5,7', '3,5,4,8', '4,9,7,33', '2,5,3,68']);

const inputs = (shape: number[], seed: number) => bnInputs(shape, seed, (c) => 20 + c);

describe('batch norm matches float64 references', () => {
  for (const shape of shapes) {
    for (const relu of reluShapes.has(shape.join(',')) ? [false, true] : [false]) {
      it(`training forward, moving statistics and backward on ${JSON.stringify(shape)}${relu ? ' with fused ReLU' : ''}`, async () => {
        const d = inputs(shape, shape.reduce((a, b) => a * 7 + b, relu ? 1 : 0));
        const { y } = await expectTrainingStepMatches(gpu(), shape, d, relu);
        expect(y.shape).toEqual(shape);
      });
    }
  }

  it('one pipeline per pass serves every channel count (C read at run time), checked against the references', async () => {
    // A runtime of its own, so the counts start at zero: the first layer compiles each pass once (with
    // and without the fused ReLU), later layers with other channel counts (vec4 and scalar paths each
    // twice) and other row counts compile nothing.
    const g = await createNodeGpu({ poison: true });
    try {
      const step = async (shape: number[], relu: boolean, seed: number) => {
        await expectTrainingStepMatches(g, shape, inputs(shape, seed), relu);
      };
      await step([2, 3, 4, 8], true, 1);
      await step([2, 3, 4, 8], false, 2);
      await step([2, 5, 3, 7], true, 3);
      await step([2, 5, 3, 7], false, 4);
      const first = g.pipelines.statistics().byFamily;
      await step([3, 4, 5, 36], true, 5);
      await step([1, 6, 2, 12], false, 6);
      await step([4, 2, 3, 5], true, 7);
      await step([2, 2, 9, 33], false, 8);
      expect(g.pipelines.statistics().byFamily).toEqual(first);
    } finally {
      g.destroy();
    }
  });

  it('inference normalises with the moving statistics and leaves them alone', async () => {
    const shape = [3, 5, 7, 6];
    const d = inputs(shape, 99);
    const g = gpu();
    const p = bnParams(g, d);
    const y = batchNormInference(g, g.upload(d.x, shape), p, { relu: true });
    const [yv, mm] = await g.readMany([y, p.movingMean]);
    const ref = inferenceRef(tensor(shape, d.x), tensor([d.C], d.gamma), tensor([d.C], d.beta), Float64Array.from(d.movingMean), Float64Array.from(d.movingVar));
    expectClose(yv!, reluForward(ref).data, TOL_F32, 'y');
    expect(Array.from(mm!)).toEqual(Array.from(d.movingMean));
  });

  it('moving statistics follow several training steps with a custom momentum', async () => {
    const shape = [2, 4, 3, 5];
    const g = gpu();
    const d0 = inputs(shape, 5);
    const p = { gamma: g.upload(d0.gamma, [5]), beta: g.upload(d0.beta, [5]), movingMean: g.zeros([5]), movingVar: g.upload(new Float32Array(5).fill(1), [5]) };
    let moving: { movingMean: Float64Array; movingVariance: Float64Array } = { movingMean: new Float64Array(5), movingVariance: new Float64Array(5).fill(1) };
    for (let step = 0; step < 4; step++) {
      const d = inputs(shape, 50 + step);
      g.scope(() => batchNormTrain(g, g.upload(d.x, shape), p, { momentum: 0.9 }));
      const ref = batchNormTrainForward(tensor(shape, d.x), tensor([5], d0.gamma), tensor([5], d0.beta));
      moving = batchNormMovingUpdate(moving.movingMean, moving.movingVariance, ref, { momentum: 0.9 });
    }
    const [a, b] = await g.readMany([p.movingMean, p.movingVar]);
    expectClose(a!, moving.movingMean, TOL_F32, 'moving mean after 4 steps');
    expectClose(b!, moving.movingVariance, TOL_F32, 'moving variance after 4 steps');
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

// Batch-norm folding (src/kernels/bn-fold.ts): the folded filter and bias against a float64 reference,
// conv with the folded weights against conv then inference BN (float64 references of test/ref), and the
// model's inference (which folds) against the same model's unfolded inference-mode forward. Outputs are
// NaN-poisoned; inputs fresh and random, with moving statistics far from 0/1 so a missing term shows.

import { describe, expect, it } from 'vitest';
import { foldBatchNorm } from '../../src/kernels/bn-fold';
import { conv2d } from '../../src/kernels/conv2d';
import { ShapeError } from '../../src/gpu';
import { createNodeGpu } from '../../src/gpu/node.node';
import { SerModel, modelConfig } from '../../src/nn/model';
import { Tape } from '../../src/nn/tape';
import { predictLogits } from '../../src/nn/train-step';
import { TOL_F32, expectClose, randn, rng, useGpu } from '../harness';
import { conv2dForward } from '../ref/conv';
import { batchNormInference } from '../ref/norm';
import { tensor } from '../ref/tensor';

const gpu = useGpu();
const f32 = (x: ArrayLike<number>) => Float32Array.from(x);

function bnParams(C: number, seed: number) {
  const r = rng(seed);
  return {
    gamma: f32(randn(C, r).map((v) => 1 + 0.3 * v)),
    beta: f32(randn(C, r)),
    mean: f32(randn(C, r).map((v) => 2 * v + 1)),
    variance: f32(randn(C, r).map((v) => 0.2 + 2 * Math.abs(v))),
  };
}

describe('foldBatchNorm', () => {
  for (const [k, cin, cout] of [[3, 4, 8], [3, 1, 7], [1, 12, 16]] as const) {
    it(`folds into a ${k}x${k} ${cin}->${cout} conv: same output as conv then inference BN`, async () => {
      const g = gpu();
      const r = rng(40 + cout);
      const xShape: number[] = [2, 7, 6, cin];
      const wShape: number[] = [k, k, cin, cout];
      const x = f32(randn(xShape.reduce((a, b) => a * b, 1), r));
      const w = f32(randn(wShape.reduce((a, b) => a * b, 1), r));
      const b = f32(randn(cout, r));
      const p = bnParams(cout, 50 + cout);
      const eps = 1e-3;
      const up = (a: Float32Array, s: number[]) => g.upload(a, s);
      const folded = foldBatchNorm(g, up(w, wShape), up(b, [cout]), { gamma: up(p.gamma, [cout]), beta: up(p.beta, [cout]), movingMean: up(p.mean, [cout]), movingVar: up(p.variance, [cout]) }, eps);
      const y = conv2d(g, up(x, xShape), folded.w, { padding: 'same', bias: folded.b });
      const [wf, bf, yv] = await g.readMany([folded.w, folded.b, y]);
      const s = Array.from(p.gamma, (gm, c) => gm / Math.sqrt(p.variance[c]! + eps));
      expectClose(wf!, Array.from(w, (v, i) => v * s[i % cout]!), TOL_F32, 'folded w');
      expectClose(bf!, Array.from(b, (v, c) => (v - p.mean[c]!) * s[c]! + p.beta[c]!), TOL_F32, 'folded b');
      const convRef = conv2dForward(tensor(xShape, x), tensor(wShape, w), tensor([cout], b), { padding: 'same' });
      const ref = batchNormInference(convRef, tensor([cout], p.gamma), tensor([cout], p.beta), Float64Array.from(p.mean), Float64Array.from(p.variance), { epsilon: eps });
      expectClose(yv!, ref.data, TOL_F32, 'conv(x, folded)');
    });
  }

  it('one pipeline folds every layer (sizes read at run time)', async () => {
    const g = await createNodeGpu({ poison: true });
    try {
      for (const [k, cin, cout] of [[3, 1, 7], [3, 8, 16], [1, 16, 32]] as const) {
        const r = rng(70 + cout);
        const wShape = [k, k, cin, cout];
        const w = f32(randn(k * k * cin * cout, r));
        const b = f32(randn(cout, r));
        const p = bnParams(cout, 80 + cout);
        const up = (a: Float32Array, s: number[]) => g.upload(a, s);
        const folded = foldBatchNorm(g, up(w, wShape), up(b, [cout]), { gamma: up(p.gamma, [cout]), beta: up(p.beta, [cout]), movingMean: up(p.mean, [cout]), movingVar: up(p.variance, [cout]) });
        const [wf, bf] = await g.readMany([folded.w, folded.b]);
        const s = Array.from(p.gamma, (gm, c) => gm / Math.sqrt(p.variance[c]! + 1e-3));
        expectClose(wf!, Array.from(w, (v, i) => v * s[i % cout]!), TOL_F32, `folded w ${wShape}`);
        expectClose(bf!, Array.from(b, (v, c) => (v - p.mean[c]!) * s[c]! + p.beta[c]!), TOL_F32, `folded b ${wShape}`);
      }
      const { fill, ...families } = g.pipelines.statistics().byFamily; // fill: the NaN poisoning
      expect(families).toEqual({ foldBatchNorm: 1 });
    } finally {
      g.destroy();
    }
  });

  it('refuses statistics of the wrong size and a bad epsilon', () => {
    const g = gpu();
    const c8 = g.zeros([8]);
    const bn = { gamma: c8, beta: c8, movingMean: g.zeros([4]), movingVar: c8 };
    expect(() => foldBatchNorm(g, g.zeros([3, 3, 2, 8]), c8, bn)).toThrow(/\[4\] does not match the filter's 8 output channels/);
    expect(() => foldBatchNorm(g, g.zeros([3, 3, 2, 8]), c8, { ...bn, movingMean: c8 }, 0)).toThrow(ShapeError);
  });
});

describe('model inference folds batch norm', () => {
  it('gives the logits of the unfolded inference-mode forward (seed architecture, trained-looking statistics)', async () => {
    const g = gpu();
    const config = modelConfig({ classes: 8 });
    const model = new SerModel(g, config, 3);
    // Moving statistics away from their initial 0/1, so that folding them in matters.
    for (const [name, t] of model.tensorShapes()) {
      if (!/moving_(mean|var)$/.test(name)) continue;
      const c = t[0]!;
      const v = bnParams(c, name.length);
      model.importTensors(new Map([[name, { shape: [c], data: name.endsWith('mean') ? v.mean : v.variance }]]));
    }
    const n = 3;
    const x = g.upload(f32(randn(n * 82 * 64, rng(9))), [n, 82, 64, 1]);
    const folded = predictLogits(model, x);
    const tape = new Tape(g);
    tape.training = false; // gradients on: the unfolded path (conv, then batchNormInference)
    const unfolded = model.forward(tape, tape.input(x));
    const [a, b] = await g.readMany([folded, unfolded.value]);
    tape.release();
    expect(Array.from(a!).every(Number.isFinite)).toBe(true);
    expectClose(a!, b!, 1e-5, 'folded vs unfolded logits');
    model.dispose();
  });
});

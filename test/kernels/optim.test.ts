// Gradient norms, both Keras clipping modes and Adam over several steps against the float64 references
// of test/ref/optim.ts, a learning-rate change without recompilation, no submits inside a step, and
// argument validation.

import { describe, expect, it } from 'vitest';
import { Adam, type AdamOptions } from '../../src/kernels/adam';
import { clipScales, squaredNorms } from '../../src/kernels/optim';
import { ShapeError, type Tensor } from '../../src/gpu';
import { TOL_F32, expectClose, randn, rng, useGpu } from '../harness';
import { ADAM_DEFAULTS, adamInit, adamStep, clipByGlobalNorm, clipByNorm } from '../ref/optim';

function clipRef(grads: Float64Array[], mode: { clipnorm?: number; globalClipnorm?: number }): Float64Array[] {
  if (mode.clipnorm !== undefined) return clipByNorm(grads, mode.clipnorm);
  if (mode.globalClipnorm !== undefined) return clipByGlobalNorm(grads, mode.globalClipnorm).grads;
  return grads;
}

const gpu = useGpu();

// Parameter shapes with sizes both multiples of 4 (vec4 path) and not, one past a workgroup's worth.
const shapes: Record<string, number[]> = { conv: [3, 3, 5, 7], bias: [7], dense: [33, 8], gamma: [16], big: [300, 41] };
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

describe('gradient norms and clip factors match float64', () => {
  it('squared norms of tensors of many sizes', async () => {
    const g = gpu();
    const r = rng(1);
    const xs = [1, 3, 256, 257, 5000, 300_001].map((n) => randn(n, r).map((v) => Math.fround(v)));
    const sq = squaredNorms(g, xs.map((x) => g.upload(Float32Array.from(x), [x.length])));
    expectClose(await sq.read(), xs.map((x) => x.reduce((a, v) => a + v * v, 0)), 1e-6, 'squared norms');
    // The first pass is shared by every tensor of a layout (a model's ~30 gradients: 2 pipelines, not 30).
    expect(g.pipelines.keys().filter((k) => k.startsWith('squaredNorms.1')).sort()).toEqual(['squaredNorms.1:false', 'squaredNorms.1:true']);
  });

  for (const mode of [{ clipnorm: 1.5 }, { globalClipnorm: 2 }]) {
    it(`clip factors for ${JSON.stringify(mode)}, with some tensors under and some over the norm`, async () => {
      const g = gpu();
      const r = rng(2);
      const xs = [0.05, 1, 0.01, 3].map((s, i) => randn(10 + 7 * i, r).map((v) => Math.fround(v * s)));
      const scales = clipScales(g, squaredNorms(g, xs.map((x) => g.upload(Float32Array.from(x), [x.length]))), mode);
      const clipped = clipRef(xs, mode);
      const ref = xs.map((x, i) => clipped[i]![0]! / x[0]!);
      const got = await scales.read();
      expectClose(got, ref, TOL_F32, 'clip factors');
      if ('clipnorm' in mode) expect(got.filter((s) => s < 1).length).toBeGreaterThan(0);
      expect(got.filter((s) => s === 1).length).toBeLessThan(got.length);
    });
  }
});

function setup(seed: number) {
  const r = rng(seed);
  const w = Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, randn(size(s), r).map((v) => Math.fround(v * 0.01))]));
  // Gradients on different scales so per-tensor clipping acts on some tensors only.
  const grads = (step: number) => {
    const rs = rng(seed * 100 + step);
    return Object.fromEntries(Object.keys(shapes).map((k, i) => [k, randn(size(shapes[k]!), rs).map((v) => Math.fround(v * 0.1 * (i + 1)))]));
  };
  return { w, grads };
}

async function runAdam(opts: AdamOptions, steps: number, lrAt?: (step: number) => number) {
  const g = gpu();
  const { w, grads } = setup(7);
  const params: Record<string, Tensor> = Object.fromEntries(Object.entries(w).map(([k, v]) => [k, g.upload(Float32Array.from(v), shapes[k]!)]));
  const gradT: Record<string, Tensor> = Object.fromEntries(Object.keys(shapes).map((k) => [k, g.zeros(shapes[k]!)]));
  const updateKeys = () => g.pipelines.keys().filter((k) => k.startsWith('adamUpdate:'));
  const updateKeysBefore = updateKeys().length;
  const adam = new Adam(g, params, opts);
  const names = Object.keys(shapes);
  const refW = names.map((k) => Float64Array.from(w[k]!));
  const ref = adamInit(refW);
  const full = { ...ADAM_DEFAULTS, ...opts };
  let compiledAfterFirst = 0;
  for (let step = 1; step <= steps; step++) {
    const lr = lrAt?.(step) ?? full.learningRate;
    if (lr !== adam.learningRate) adam.setLearningRate(lr);
    const gs = grads(step);
    for (const k of names) g.write(gradT[k]!, Float32Array.from(gs[k]!));
    const submits = g.counters.submits;
    adam.step(gradT);
    expect(g.counters.submits, 'a step records only; it never submits').toBe(submits);
    if (step === 1) compiledAfterFirst = g.pipelines.compiled;
    adamStep(refW, clipRef(names.map((k) => gs[k]!), opts), ref, { ...full, learningRate: lr, decayed: names.map((k) => shapes[k]!.length >= 2) });
  }
  const got = await g.readMany([...names.map((k) => params[k]!), ...names.flatMap((k) => [adam.moments(k).m, adam.moments(k).v]), adam.iterations]);
  names.forEach((k, i) => {
    const delta = Array.from(got[i]!, (v, j) => v - w[k]![j]!);
    expectClose(delta, refW[i]!.map((v, j) => v - w[k]![j]!), TOL_F32, `${k}: total update`);
    expectClose(got[names.length + 2 * i]!, ref.m[i]!, TOL_F32, `${k}: m`);
    expectClose(got[names.length + 2 * i + 1]!, ref.v[i]!, TOL_F32, `${k}: v`);
  });
  expect(got[got.length - 1]![0]).toBe(steps);
  expect(g.pipelines.compiled, 'later steps reuse the first step pipelines').toBe(compiledAfterFirst);
  // One update pipeline per layout (vec4 or scalar) and decay, shared by the five parameters.
  expect(updateKeys().length - updateKeysBefore).toBeLessThanOrEqual(opts.weightDecay ? 4 : 2);
  adam.dispose();
}

describe('Adam matches the float64 Keras reference over several steps', () => {
  it('without clipping, at a large learning rate', () => runAdam({ learningRate: 0.01 }, 6));
  it('with per-tensor clipnorm', () => runAdam({ learningRate: 0.01, clipnorm: 0.5 }, 6));
  it('with global_clipnorm', () => runAdam({ learningRate: 0.01, globalClipnorm: 1 }, 6));
  it('with custom betas and epsilon', () => runAdam({ learningRate: 0.02, beta1: 0.5, beta2: 0.9, epsilon: 1e-3 }, 4));
  it('with AdamW weight decay on the kernels (rank >= 2) only, under clipnorm', () => runAdam({ learningRate: 0.01, clipnorm: 0.5, weightDecay: 0.5 }, 6));
  it('with AdamW weight decay and a lowered learning rate', () => runAdam({ learningRate: 0.01, weightDecay: 0.2 }, 6, (step) => (step <= 3 ? 0.01 : 0.002)));
  it('follows a learning rate lowered between steps (reduce on plateau) without recompiling', () =>
    runAdam({ learningRate: 0.01, globalClipnorm: 1 }, 6, (step) => (step <= 3 ? 0.01 : 0.002)));
});

describe('Adam bias correction', () => {
  for (const t0 of [299, 5000]) {
    it(`is accurate after ${t0} iterations (1 - beta^t near and far from 0)`, async () => {
      const g = gpu();
      const n = 37;
      const r = rng(t0);
      const w0 = Float64Array.from(randn(n, r), (v) => Math.fround(v * 0.01));
      const grad = Float64Array.from(randn(n, r), (v) => Math.fround(v));
      const weight = g.upload(Float32Array.from(w0), [n]);
      const adam = new Adam(g, { weight }, { learningRate: 0.01 });
      g.write(adam.iterations, [t0]);
      adam.step({ weight: g.upload(Float32Array.from(grad), [n]) });
      const refW = [Float64Array.from(w0)];
      const state = adamInit(refW);
      state.step = t0;
      adamStep(refW, [grad], state, { learningRate: 0.01 });
      const got = await weight.read();
      expectClose(Array.from(got, (v, i) => v - w0[i]!), refW[0]!.map((v, i) => v - w0[i]!), TOL_F32, 'update');
      adam.dispose();
    });
  }
});

describe('Adam refuses bad settings and gradients', () => {
  it('validates hyperparameters with clear messages', () => {
    const g = gpu();
    const p = { w: g.zeros([3]) };
    expect(() => new Adam(g, p, { learningRate: 0 })).toThrow(/Adam: learningRate must be a positive finite number, got 0/);
    expect(() => new Adam(g, p, { learningRate: NaN })).toThrow(ShapeError);
    expect(() => new Adam(g, p, { beta1: 1 })).toThrow(/beta1 must lie strictly between 0 and 1/);
    expect(() => new Adam(g, p, { beta2: -0.1 })).toThrow(/beta2 must lie strictly between 0 and 1/);
    expect(() => new Adam(g, p, { epsilon: 0 })).toThrow(/epsilon must be a positive finite number/);
    expect(() => new Adam(g, p, { clipnorm: -1 })).toThrow(/clipnorm must be a positive finite number/);
    expect(() => new Adam(g, p, { globalClipnorm: Infinity })).toThrow(/globalClipnorm must be a positive finite number/);
    expect(() => new Adam(g, p, { clipnorm: 1, globalClipnorm: 1 })).toThrow(/cannot both be set/);
    expect(() => new Adam(g, {})).toThrow(/at least one parameter/);
    expect(() => new Adam(g, p, { weightDecay: -0.1 })).toThrow(/weightDecay must be a finite number >= 0, got -0.1/);
    const adam = new Adam(g, p);
    expect(() => adam.setLearningRate(-1)).toThrow(/learningRate must be a positive finite number/);
    adam.dispose();
  });

  it('refuses missing, misshapen and unknown gradients', () => {
    const g = gpu();
    const adam = new Adam(g, { w: g.zeros([3, 2]), b: g.zeros([2]) });
    expect(() => adam.step({ w: g.zeros([3, 2]) })).toThrow(/no gradient for parameter 'b'/);
    expect(() => adam.step({ w: g.zeros([2, 3]), b: g.zeros([2]) })).toThrow(/gradient of 'w' is \[2, 3\], parameter is \[3, 2\]/);
    expect(() => adam.step({ w: g.zeros([3, 2]), b: g.zeros([2]), c: g.zeros([1]) })).toThrow(/unknown parameters: c/);
    adam.dispose();
  });
});

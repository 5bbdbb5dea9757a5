// The whole reference model: every parameter gradient against finite differences of the loss (dropout
// off, and on with a fixed counter so the mask is the same in every evaluation), the zero gradient of
// conv biases that feed batch norm, moving-statistics bookkeeping, and inference with moving statistics.

import { describe, expect, it } from 'vitest';
import { gradCheck } from './gradcheck';
import {
  type ModelForwardOptions, type Params, type RefModelConfig, REF_MODEL_DEFAULTS, initModelParams, initMovingStats,
  modelForward, modelParamShapes,
} from './model';
import { maxAbs, mulberry32, randn, relL2 } from './tensor';

const config: RefModelConfig = { ...REF_MODEL_DEFAULTS, inputChannels: 2, stemChannels: 3, blockChannels: 5, classes: 4 };
const X_SHAPE = [3, 5, 7, 2];
const LABELS = [1, 3, 0];

/** Random parameters everywhere (gammas around 1), so no gradient is trivially zero by initialisation. */
function randomParams(cfg: RefModelConfig, seed: number): Params {
  const rand = mulberry32(seed);
  const params: Params = {};
  for (const [name, shape] of modelParamShapes(cfg)) {
    const t = randn(shape, rand, name.endsWith('.w') ? 0.5 : 0.3);
    if (name.endsWith('.gamma')) t.data.forEach((v, i) => { t.data[i] = 1 + v; });
    params[name] = t;
  }
  return params;
}

function checkModelGradients(cfg: RefModelConfig, options: ModelForwardOptions): void {
  const params = randomParams(cfg, 7);
  const x = randn(X_SHAPE, mulberry32(8));
  const moving = initMovingStats(cfg);
  const names = modelParamShapes(cfg).map(([n]) => n);
  const grads = modelForward(cfg, params, moving, x, LABELS, options).backward();
  expect(Object.keys(grads).sort()).toEqual([...names].sort());
  const loss = (inputs: Float64Array[]) => {
    const p: Params = {};
    names.forEach((n, i) => { p[n] = { data: inputs[i]!, shape: params[n]!.shape }; });
    return modelForward(cfg, p, moving, x, LABELS, options).loss;
  };
  const report = gradCheck(loss, names.map((n) => params[n]!.data), names.map((n) => grads[n]!), { maxCoordsPerInput: 30 });
  expect(report.failures).toEqual([]);
  expect(report.checked).toBeGreaterThan(150);
  // Conv biases that feed training-mode batch norm are cancelled by the mean subtraction.
  for (const n of ['stem.conv.b', 'block.conv1.b', 'block.conv2.b', 'block.shortcut.b']) expect(maxAbs(grads[n]!)).toBeLessThan(1e-12);
  expect(maxAbs(grads['stem.conv.w']!)).toBeGreaterThan(1e-4);
}

describe('reference residual CNN', () => {
  it('every parameter gradient matches finite differences of the loss (dropout off)', () => {
    checkModelGradients(config, { mode: 'train' });
  });

  it('every parameter gradient matches finite differences with dropout 0.4 at a fixed seed and step', () => {
    checkModelGradients({ ...config, dropout: 0.4 }, { mode: 'train', dropoutSeed: 3, dropoutStep: 9 });
  });

  it('dropout changes the training loss and depends on the step', () => {
    const params = randomParams(config, 1);
    const x = randn(X_SHAPE, mulberry32(2));
    const moving = initMovingStats(config);
    const run = (cfg: RefModelConfig, step: number) => modelForward(cfg, params, moving, x, LABELS, { mode: 'train', dropoutStep: step }).loss;
    const off = run(config, 0);
    const on = { ...config, dropout: 0.5 };
    expect(run(on, 0)).not.toBeCloseTo(off, 6);
    expect(run(on, 0)).not.toBeCloseTo(run(on, 1), 6);
    expect(run(on, 1)).toBe(run(on, 1));
  });

  it('updates every moving statistic in training and leaves them alone in inference', () => {
    const params = initModelParams(config, mulberry32(4));
    const x = randn(X_SHAPE, mulberry32(5));
    const moving = initMovingStats(config);
    const train = modelForward(config, params, moving, x, LABELS, { mode: 'train' });
    for (const [name, stats] of Object.entries(train.moving)) {
      expect(maxAbs(stats.mean), name).toBeGreaterThan(0);
      expect(relL2(stats.variance, moving[name]!.variance), name).toBeGreaterThan(0);
    }
    expect(moving['stem.bn']!.variance.every((v) => v === 1)).toBe(true);
    const infer = modelForward(config, params, train.moving, x, LABELS, { mode: 'infer' });
    expect(infer.moving).toEqual(train.moving);
    expect(() => infer.backward()).toThrow(/training-mode/);
  });

  it('inference with moving statistics equal to the batch statistics (momentum 0) reproduces training logits', () => {
    const cfg = { ...config, bnMomentum: 0 };
    const params = randomParams(cfg, 11);
    const x = randn(X_SHAPE, mulberry32(12));
    const train = modelForward(cfg, params, initMovingStats(cfg), x, LABELS, { mode: 'train' });
    const infer = modelForward(cfg, params, train.moving, x, LABELS, { mode: 'infer' });
    expect(relL2(infer.logits.data, train.logits.data)).toBeLessThan(1e-12);
    const keep = modelForward(cfg, params, initMovingStats(cfg), x, LABELS, { mode: 'infer' });
    expect(relL2(keep.logits.data, train.logits.data)).toBeGreaterThan(1e-3);
  });

  it('produces [N, classes] probabilities that sum to 1 with the default (Keras-like) initialisation', () => {
    const cfg = { ...REF_MODEL_DEFAULTS };
    const params = initModelParams(cfg, mulberry32(13));
    const x = randn([2, 8, 6, 1], mulberry32(14));
    const out = modelForward(cfg, params, initMovingStats(cfg), x, [0, 7], { mode: 'train' });
    expect(out.probs.shape).toEqual([2, 8]);
    for (let n = 0; n < 2; n++) expect(out.probs.data.subarray(n * 8, n * 8 + 8).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(Number.isFinite(out.loss)).toBe(true);
  });
});

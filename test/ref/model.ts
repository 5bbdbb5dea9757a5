// Float64 reference of a small residual CNN, forward and backward, so GPU tests can compare a whole
// tiny model (logits, loss, every gradient, moving statistics) against it:
//   x [N, H, W, Cin] -> conv3x3 same (stem) -> BN -> relu -> maxpool 2x2
//   -> block: conv3x3 -> BN -> relu -> conv3x3 -> BN, shortcut conv1x1 -> BN, add, relu
//   -> global average pool -> dropout (off when rate 0) -> dense -> softmax cross-entropy.
// Every conv has a bias (Keras default use_bias=True; its gradient through training-mode BN is zero).
// Parameter names and shapes come from modelParamShapes, in a fixed order.

import { conv2dBackward, conv2dForward } from './conv';
import { dropoutBackward, dropoutForward } from './dropout';
import {
  addBackward, addForward, denseBackward, denseForward, globalAvgPoolBackward, globalAvgPoolForward,
  maxPool2x2Backward, maxPool2x2Forward, reluBackward, reluForward,
} from './layers';
import { softmaxCrossEntropy } from './loss';
import { BN_DEFAULTS, type BatchNormTrainResult, batchNormInference, batchNormMovingUpdate, batchNormTrainBackward, batchNormTrainForward } from './norm';
import { type Tensor, normal, tensor } from './tensor';

export interface RefModelConfig {
  inputChannels: number;
  stemChannels: number;
  blockChannels: number;
  classes: number;
  /** Dropout rate before the dense layer; 0 turns it off. */
  dropout: number;
  labelSmoothing: number;
  bnMomentum: number;
  bnEpsilon: number;
}

export const REF_MODEL_DEFAULTS: RefModelConfig = {
  inputChannels: 1, stemChannels: 4, blockChannels: 6, classes: 8,
  dropout: 0, labelSmoothing: 0.1, bnMomentum: BN_DEFAULTS.momentum, bnEpsilon: BN_DEFAULTS.epsilon,
};

export type Params = Record<string, Tensor>;
export type MovingStats = Record<string, { mean: Float64Array; variance: Float64Array }>;

const BN_LAYERS = ['stem.bn', 'block.bn1', 'block.bn2', 'block.shortcutBn'];

export function modelParamShapes(config: RefModelConfig): [string, number[]][] {
  const { inputChannels: ci, stemChannels: c1, blockChannels: c2, classes: k } = config;
  return [
    ['stem.conv.w', [3, 3, ci, c1]], ['stem.conv.b', [c1]], ['stem.bn.gamma', [c1]], ['stem.bn.beta', [c1]],
    ['block.conv1.w', [3, 3, c1, c2]], ['block.conv1.b', [c2]], ['block.bn1.gamma', [c2]], ['block.bn1.beta', [c2]],
    ['block.conv2.w', [3, 3, c2, c2]], ['block.conv2.b', [c2]], ['block.bn2.gamma', [c2]], ['block.bn2.beta', [c2]],
    ['block.shortcut.w', [1, 1, c1, c2]], ['block.shortcut.b', [c2]], ['block.shortcutBn.gamma', [c2]], ['block.shortcutBn.beta', [c2]],
    ['dense.w', [c2, k]], ['dense.b', [k]],
  ];
}

/** He-normal weights (std sqrt(2 / fan_in)), zero biases and betas, unit gammas. */
export function initModelParams(config: RefModelConfig, rand: () => number): Params {
  const params: Params = {};
  for (const [name, shape] of modelParamShapes(config)) {
    const t = tensor(shape);
    if (name.endsWith('.w')) {
      const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
      for (let i = 0; i < t.data.length; i++) t.data[i] = normal(rand) * Math.sqrt(2 / fanIn);
    } else if (name.endsWith('.gamma')) t.data.fill(1);
    params[name] = t;
  }
  return params;
}

/** Keras initial moving statistics: mean 0, variance 1. */
export function initMovingStats(config: RefModelConfig): MovingStats {
  const stats: MovingStats = {};
  for (const name of BN_LAYERS) {
    const c = name.startsWith('stem') ? config.stemChannels : config.blockChannels;
    stats[name] = { mean: new Float64Array(c), variance: new Float64Array(c).fill(1) };
  }
  return stats;
}

export interface ModelForwardOptions {
  /** 'train': batch statistics, moving statistics updated, dropout applied; 'infer': moving statistics. */
  mode: 'train' | 'infer';
  /** Dropout counter inputs (see dropout.ts); ignored when the rate is 0 or in inference. */
  dropoutSeed?: number;
  dropoutStep?: number;
}

export interface ModelForwardResult {
  logits: Tensor;
  probs: Tensor;
  loss: number;
  /** Moving statistics after this step (unchanged in inference). */
  moving: MovingStats;
  /** Gradients of loss wrt every parameter, by name; only after a training-mode forward. */
  backward: () => Record<string, Float64Array>;
}

export function modelForward(
  config: RefModelConfig, params: Params, moving: MovingStats, x: Tensor, labels: ArrayLike<number>, options: ModelForwardOptions,
): ModelForwardResult {
  const p = (name: string) => {
    const t = params[name];
    if (!t) throw new Error(`modelForward: missing parameter ${name}`);
    return t;
  };
  const bnOptions = { momentum: config.bnMomentum, epsilon: config.bnEpsilon };
  const training = options.mode === 'train';
  const newMoving: MovingStats = { ...moving };
  const bnCaches: Record<string, BatchNormTrainResult> = {};
  const bn = (name: string, input: Tensor): Tensor => {
    const gamma = p(`${name}.gamma`), beta = p(`${name}.beta`), stats = moving[name]!;
    if (!training) return batchNormInference(input, gamma, beta, stats.mean, stats.variance, bnOptions);
    const f = batchNormTrainForward(input, gamma, beta, bnOptions);
    const updated = batchNormMovingUpdate(stats.mean, stats.variance, f, bnOptions);
    newMoving[name] = { mean: updated.movingMean, variance: updated.movingVariance };
    bnCaches[name] = f;
    return f.y;
  };
  const conv = (name: string, input: Tensor) => conv2dForward(input, p(`${name}.w`), p(`${name}.b`), { padding: 'same' });

  const stemConv = conv('stem.conv', x);
  const stemNorm = bn('stem.bn', stemConv);
  const stemAct = reluForward(stemNorm);
  const pool = maxPool2x2Forward(stemAct);
  const conv1 = conv('block.conv1', pool.y);
  const norm1 = bn('block.bn1', conv1);
  const act1 = reluForward(norm1);
  const conv2 = conv('block.conv2', act1);
  const main = bn('block.bn2', conv2);
  const shortcut = bn('block.shortcutBn', conv('block.shortcut', pool.y));
  const sum = addForward(main, shortcut);
  const blockOut = reluForward(sum);
  const pooled = globalAvgPoolForward(blockOut);
  const dropping = training && config.dropout > 0;
  const drop = dropping
    ? dropoutForward(pooled, { p: config.dropout, seed: options.dropoutSeed ?? 0, step: options.dropoutStep ?? 0 })
    : { y: pooled, mask: new Uint8Array(0) };
  const logits = denseForward(drop.y, p('dense.w'), p('dense.b'));
  const ce = softmaxCrossEntropy(logits, labels, { labelSmoothing: config.labelSmoothing });

  const backward = (): Record<string, Float64Array> => {
    if (!training) throw new Error('modelForward: backward needs a training-mode forward');
    const grads: Record<string, Float64Array> = {};
    const convBack = (name: string, dy: Tensor, input: Tensor): Tensor => {
      const g = conv2dBackward(dy, input, p(`${name}.w`), { padding: 'same' });
      grads[`${name}.w`] = g.dw.data;
      grads[`${name}.b`] = g.db.data;
      return g.dx;
    };
    const bnBack = (name: string, dy: Tensor): Tensor => {
      const g = batchNormTrainBackward(dy, bnCaches[name]!, p(`${name}.gamma`));
      grads[`${name}.gamma`] = g.dgamma.data;
      grads[`${name}.beta`] = g.dbeta.data;
      return g.dx;
    };
    const dense = denseBackward(ce.dlogits, drop.y, p('dense.w'));
    grads['dense.w'] = dense.dw.data;
    grads['dense.b'] = dense.db.data;
    const dPooled = dropping ? dropoutBackward(dense.dx, drop.mask, config.dropout) : dense.dx;
    const dSum = reluBackward(globalAvgPoolBackward(dPooled, blockOut.shape), sum);
    const { da: dMain, db: dShortcut } = addBackward(dSum);
    const dPoolShortcut = convBack('block.shortcut', bnBack('block.shortcutBn', dShortcut), pool.y);
    const dAct1 = convBack('block.conv2', bnBack('block.bn2', dMain), act1);
    const dPoolMain = convBack('block.conv1', bnBack('block.bn1', reluBackward(dAct1, norm1)), pool.y);
    const dStemAct = maxPool2x2Backward(addForward(dPoolMain, dPoolShortcut), pool, stemAct.shape);
    convBack('stem.conv', bnBack('stem.bn', reluBackward(dStemAct, stemNorm)), x);
    return grads;
  };
  return { logits, probs: ce.probs, loss: ce.loss, moving: newMoving, backward };
}

// The CNN's differentiable ops on the tape, each a forward kernel with its backward recorded beside it:
//   conv2d      dx = conv2dBackwardInput, dW = conv2dBackwardFilter, db = sum of dy over N, H, W
//   batchNorm   training: batch statistics (moving ones updated in place), backward from the saved
//               mean and 1/std; evaluation: moving statistics, nothing recorded
//   maxPool     2x2 stride 2; backward routes dy to the saved argmax
//   globalAvgPool, dropout (inverted; mask recomputed from the counter-based hash in backward)
//   softmaxCrossEntropy: the fused kernel yields loss statistics and dlogits at once; its backward
//               hands dlogits on (it is the gradient of the mean loss).

import type { Tensor } from '../gpu';
import { batchNormBackward, batchNormInference, batchNormTrain } from '../kernels/batchnorm';
import { conv2d as conv2dKernel, type Conv2dOptions } from '../kernels/conv2d';
import { conv2dBackwardBias, conv2dBackwardFilter, conv2dBackwardInput } from '../kernels/conv2d-grad';
import { dropout as dropoutKernel, dropoutBackward } from '../kernels/dropout';
import { softmaxCrossEntropy as sceKernel, type SoftmaxCrossEntropyOptions } from '../kernels/loss';
import { globalAvgPool as gapKernel, globalAvgPoolBackward, maxPool2x2, maxPool2x2Backward } from '../kernels/pool';
import type { Tape, Var } from './tape';

/** Mixup targets of the loss: partner labels and the own label's share (kernels/loss.ts). */
export type LossMix = NonNullable<SoftmaxCrossEntropyOptions['mix']>;

export function conv2d(tape: Tape, x: Var, w: Var, b: Var, opts: Omit<Conv2dOptions, 'bias' | 'activation'>): Var {
  const gpu = tape.gpu;
  const y = conv2dKernel(gpu, x.value, w.value, { ...opts, bias: b.value });
  return tape.record([x, w, b], y, (dy) => [
    x.requiresGrad ? conv2dBackwardInput(gpu, dy!, w.value, x.shape, opts) : null,
    conv2dBackwardFilter(gpu, x.value, dy!, w.shape, opts),
    conv2dBackwardBias(gpu, dy!),
  ]);
}

export interface BatchNormVars {
  gamma: Var;
  beta: Var;
  movingMean: Tensor;
  movingVar: Tensor;
}

export function batchNorm(tape: Tape, x: Var, p: BatchNormVars, opts: { relu?: boolean; momentum?: number; epsilon?: number } = {}): Var {
  const gpu = tape.gpu;
  const params = { gamma: p.gamma.value, beta: p.beta.value, movingMean: p.movingMean, movingVar: p.movingVar };
  if (!tape.training) return tape.record([x, p.gamma, p.beta], batchNormInference(gpu, x.value, params, opts), () => [null, null, null]);
  const { y, mean, invstd } = batchNormTrain(gpu, x.value, params, tape.bnMomentum === null ? opts : { ...opts, momentum: tape.bnMomentum });
  return tape.record(
    [x, p.gamma, p.beta],
    y,
    (dy) => {
      const g = batchNormBackward(gpu, dy!, x.value, p.gamma.value, { mean, invstd }, opts.relu ? { reluOutput: y } : {});
      return [g.dx, g.dgamma, g.dbeta];
    },
    [mean, invstd],
  );
}

export function maxPool(tape: Tape, x: Var): Var {
  const { y, argmax } = maxPool2x2(tape.gpu, x.value);
  return tape.record([x], y, (dy) => [maxPool2x2Backward(tape.gpu, dy!, argmax, x.shape)], [argmax]);
}

export function globalAvgPool(tape: Tape, x: Var): Var {
  return tape.record([x], gapKernel(tape.gpu, x.value), (dy) => [globalAvgPoolBackward(tape.gpu, dy!, x.shape)]);
}

/**
 * Inverted dropout in training mode (identity otherwise). `seed` is the GPU step-state tensor the
 * kernel hashes with `layer` and the element index, so a step's masks are reproducible.
 */
export function dropout(tape: Tape, x: Var, rate: number, seed: Tensor, layer: number): Var {
  if (!tape.training || !tape.dropout || rate === 0) return x;
  const gpu = tape.gpu;
  const y = dropoutKernel(gpu, x.value, seed, { rate, stream: layer });
  return tape.record([x], y, (dy) => [dropoutBackward(gpu, dy!, seed, { rate, stream: layer })]);
}

/**
 * Mean softmax cross-entropy with label smoothing, each example optionally weighted by its class
 * (classWeights [K] f32, Keras' class_weight); the Var's value is stats = [mean loss, correct].
 */
export function softmaxCrossEntropy(tape: Tape, logits: Var, labels: Tensor, labelSmoothing: number, classWeights?: Tensor, mix?: LossMix, classMask?: Tensor): Var {
  const r = sceKernel(tape.gpu, logits.value, labels, { labelSmoothing, classWeights, mix, classMask });
  return tape.record([logits], r.stats, () => [r.dlogits], [r.loss, r.correct]);
}

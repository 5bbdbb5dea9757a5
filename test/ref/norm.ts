// Reference batch normalisation over N, H, W per channel (Keras BatchNormalization, axis=-1) in float64.
// x: NHWC (any leading dims; the last is the channel). Training mode normalises with the batch mean and
// the BIASED batch variance (divide by M = N*H*W), and the moving statistics are updated Keras-style
// with that same biased variance: moving = momentum * moving + (1 - momentum) * batch. Keras 3 takes
// both from ops.moments (biased) and so does tf.keras's non-fused path; the fused path undoes TF's
// Bessel correction to match. Inference mode normalises with the moving statistics.

import { type Tensor, tensor } from './tensor';

export interface BatchNormOptions {
  momentum?: number;
  epsilon?: number;
}

export const BN_DEFAULTS = { momentum: 0.99, epsilon: 1e-3 };

export interface BatchNormTrainResult {
  y: Tensor;
  /** Per channel, what backward needs and what updates the moving statistics. */
  mean: Float64Array;
  variance: Float64Array;
  invStd: Float64Array;
  xhat: Tensor;
}

function channels(x: Tensor, gamma: Tensor, beta: Tensor): number {
  const C = x.shape[x.shape.length - 1]!;
  if (gamma.data.length !== C || beta.data.length !== C) {
    throw new Error(`batchNorm: x [${x.shape}] has ${C} channels, gamma ${gamma.data.length}, beta ${beta.data.length}`);
  }
  return C;
}

export function batchNormTrainForward(x: Tensor, gamma: Tensor, beta: Tensor, options: BatchNormOptions = {}): BatchNormTrainResult {
  const epsilon = options.epsilon ?? BN_DEFAULTS.epsilon;
  const C = channels(x, gamma, beta);
  const M = x.data.length / C;
  const mean = new Float64Array(C);
  const variance = new Float64Array(C);
  for (let p = 0; p < x.data.length; p++) mean[p % C] += x.data[p]! / M;
  for (let p = 0; p < x.data.length; p++) variance[p % C] += (x.data[p]! - mean[p % C]!) ** 2 / M;
  const invStd = variance.map((v) => 1 / Math.sqrt(v + epsilon));
  const xhat = tensor(x.shape);
  const y = tensor(x.shape);
  for (let p = 0; p < x.data.length; p++) {
    const c = p % C;
    xhat.data[p] = (x.data[p]! - mean[c]!) * invStd[c]!;
    y.data[p] = gamma.data[c]! * xhat.data[p]! + beta.data[c]!;
  }
  return { y, mean, variance, invStd, xhat };
}

export interface BatchNormGrads {
  dx: Tensor;
  dgamma: Tensor;
  dbeta: Tensor;
}

/** Backward of the training-mode forward (the batch statistics depend on x, so dx has three terms). */
export function batchNormTrainBackward(dy: Tensor, forward: BatchNormTrainResult, gamma: Tensor): BatchNormGrads {
  const C = gamma.data.length;
  const M = dy.data.length / C;
  const dgamma = tensor([C]);
  const dbeta = tensor([C]);
  const xh = forward.xhat.data;
  for (let p = 0; p < dy.data.length; p++) {
    dbeta.data[p % C] += dy.data[p]!;
    dgamma.data[p % C] += dy.data[p]! * xh[p]!;
  }
  // dx = gamma * invStd / M * (M dy - sum(dy) - xhat * sum(dy * xhat))
  const dx = tensor(dy.shape);
  for (let p = 0; p < dy.data.length; p++) {
    const c = p % C;
    dx.data[p] = (gamma.data[c]! * forward.invStd[c]! / M) * (M * dy.data[p]! - dbeta.data[c]! - xh[p]! * dgamma.data[c]!);
  }
  return { dx, dgamma, dbeta };
}

/** New moving statistics after one training step (inputs are left unchanged). */
export function batchNormMovingUpdate(
  movingMean: Float64Array, movingVariance: Float64Array, forward: BatchNormTrainResult, options: BatchNormOptions = {},
): { movingMean: Float64Array; movingVariance: Float64Array } {
  const momentum = options.momentum ?? BN_DEFAULTS.momentum;
  return {
    movingMean: movingMean.map((m, c) => momentum * m + (1 - momentum) * forward.mean[c]!),
    movingVariance: movingVariance.map((v, c) => momentum * v + (1 - momentum) * forward.variance[c]!),
  };
}

export function batchNormInference(
  x: Tensor, gamma: Tensor, beta: Tensor, movingMean: Float64Array, movingVariance: Float64Array, options: BatchNormOptions = {},
): Tensor {
  const epsilon = options.epsilon ?? BN_DEFAULTS.epsilon;
  const C = channels(x, gamma, beta);
  const y = tensor(x.shape);
  for (let p = 0; p < x.data.length; p++) {
    const c = p % C;
    y.data[p] = gamma.data[c]! * (x.data[p]! - movingMean[c]!) / Math.sqrt(movingVariance[c]! + epsilon) + beta.data[c]!;
  }
  return y;
}

// Reference softmax cross-entropy with label smoothing, Keras CategoricalCrossentropy(from_logits=True,
// label_smoothing=s) semantics, from integer labels: t = onehot * (1 - s) + s / K,
// loss = mean over the batch of -sum_k t_k log softmax(z)_k, dz = (softmax(z) - t) / N.
// With classWeights w (Keras' class_weight), example n's loss and gradient are multiplied by w[label_n]
// and the mean stays over N. logits: [N, K]. The log-softmax is computed with the row maximum subtracted, so large logits are exact.

import { type Tensor, tensor } from './tensor';

export interface CrossEntropyOptions {
  labelSmoothing?: number;
  classWeights?: ArrayLike<number>;
}

export interface CrossEntropyResult {
  loss: number;
  probs: Tensor;
  dlogits: Tensor;
}

export function softmaxCrossEntropy(logits: Tensor, labels: ArrayLike<number>, options: CrossEntropyOptions = {}): CrossEntropyResult {
  const s = options.labelSmoothing ?? 0;
  const [N, K] = logits.shape as [number, number];
  if (logits.shape.length !== 2 || labels.length !== N) {
    throw new Error(`softmaxCrossEntropy: logits [${logits.shape}] and ${labels.length} labels`);
  }
  const probs = tensor([N, K]);
  const dlogits = tensor([N, K]);
  let loss = 0;
  for (let n = 0; n < N; n++) {
    const label = labels[n]!;
    if (!Number.isInteger(label) || label < 0 || label >= K) throw new Error(`softmaxCrossEntropy: label ${label} of row ${n} not in [0, ${K})`);
    const w = options.classWeights ? options.classWeights[label]! : 1;
    const row = logits.data.subarray(n * K, (n + 1) * K);
    let max = -Infinity;
    for (const v of row) max = Math.max(max, v);
    let sumExp = 0;
    for (const v of row) sumExp += Math.exp(v - max);
    const logSum = max + Math.log(sumExp);
    for (let k = 0; k < K; k++) {
      const t = (k === label ? 1 - s : 0) + s / K;
      const logP = row[k]! - logSum;
      loss -= (w * t * logP) / N;
      probs.data[n * K + k] = Math.exp(logP);
      dlogits.data[n * K + k] = (w * (Math.exp(logP) - t)) / N;
    }
  }
  return { loss, probs, dlogits };
}

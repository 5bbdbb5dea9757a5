// Reference softmax cross-entropy with label smoothing, Keras CategoricalCrossentropy(from_logits=True,
// label_smoothing=s) semantics, from integer labels: t = onehot * (1 - s) + s / K,
// loss = mean over the batch of -sum_k t_k log softmax(z)_k, dz = (softmax(z) - t) / N.
// With classWeights w (Keras' class_weight), example n's loss and gradient are multiplied by w[label_n]
// and the mean stays over N. With mix (mixup: each example's input was w * x_n + (1 - w) * x_partner),
// the target is w * t(label_n) + (1 - w) * t(partner label_n): the loss is w * CE(label) + (1 - w) *
// CE(partner label) and dz = (softmax(z) - target) / N; not with class weights. logits: [N, K]. The
// log-softmax is computed with the row maximum subtracted, so large logits are exact.
// With classMask ([N, K], nonzero: allowed; several corpora) row n's softmax and targets span only its
// allowed classes A_n: t = onehot * (1 - s) + s / |A_n| on A_n, loss_n = -sum_{A_n} t log softmax_A(z),
// dz = 0 off A_n; a label (or partner) outside A_n is an error.

import { type Tensor, tensor } from './tensor';

export interface CrossEntropyOptions {
  labelSmoothing?: number;
  classWeights?: ArrayLike<number>;
  /** Mixup targets: each example's partner label and the share w of its own label. */
  mix?: { partners: ArrayLike<number>; weight: number };
  /** [N * K] row-major, nonzero: the class is allowed for that row (absent: all). */
  classMask?: ArrayLike<number>;
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
  const mix = options.mix;
  if (mix && options.classWeights) throw new Error('softmaxCrossEntropy: mixup targets and class weights are not combined');
  if (mix && mix.partners.length !== N) throw new Error(`softmaxCrossEntropy: ${mix.partners.length} partner labels for ${N} rows`);
  const probs = tensor([N, K]);
  const dlogits = tensor([N, K]);
  let loss = 0;
  for (let n = 0; n < N; n++) {
    const label = labels[n]!;
    if (!Number.isInteger(label) || label < 0 || label >= K) throw new Error(`softmaxCrossEntropy: label ${label} of row ${n} not in [0, ${K})`);
    const partner = mix ? mix.partners[n]! : label;
    if (!Number.isInteger(partner) || partner < 0 || partner >= K) throw new Error(`softmaxCrossEntropy: partner label ${partner} of row ${n} not in [0, ${K})`);
    const share = mix ? mix.weight : 1;
    const w = options.classWeights ? options.classWeights[label]! : 1;
    const row = logits.data.subarray(n * K, (n + 1) * K);
    const ok = (k: number) => !options.classMask || options.classMask[n * K + k] !== 0;
    const allowed = Array.from({ length: K }, (_, k) => k).filter(ok);
    if (!ok(label) || !ok(partner)) throw new Error(`softmaxCrossEntropy: label ${label} or partner ${partner} of row ${n} is masked out`);
    let max = -Infinity;
    for (const k of allowed) max = Math.max(max, row[k]!);
    let sumExp = 0;
    for (const k of allowed) sumExp += Math.exp(row[k]! - max);
    const logSum = max + Math.log(sumExp);
    for (let k = 0; k < K; k++) {
      if (!ok(k)) {
        probs.data[n * K + k] = 0;
        dlogits.data[n * K + k] = 0;
        continue;
      }
      const t = (1 - s) * ((k === label ? share : 0) + (k === partner ? 1 - share : 0)) + s / allowed.length;
      const logP = row[k]! - logSum;
      loss -= (w * t * logP) / N;
      probs.data[n * K + k] = Math.exp(logP);
      dlogits.data[n * K + k] = (w * (Math.exp(logP) - t)) / N;
    }
  }
  return { loss, probs, dlogits };
}

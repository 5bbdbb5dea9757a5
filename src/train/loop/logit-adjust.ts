// Logit adjustment (`ser train --logit-adjust`; Menon et al., "Long-tail learning via logit
// adjustment", ICLR 2021, post-hoc form with tau = 1): the decision adds -log(prior) of each class,
// the training split's class frequencies, to the model's log class probabilities, so a clip goes to
// argmax p(c | x) / prior(c) — the rule that maximises the mean per-class recall (UAR) rather than
// accuracy under the training prior. On RAVDESS, neutral has half the clips of every other class. The
// model and its training are untouched (the validation loss that drives the learning rate stays on
// the raw probabilities): validation accuracy, the best-epoch choice, reports and every later
// prediction of a saved model (model.json `logitAdjustment`) use the adjusted rule, and the reported
// probabilities are the renormalised p(c | x) / prior(c). Browser-safe.

import { argmaxRows } from '../scores/metrics';
import type { EpochValidation } from '../scores/snapshots';

/** -log of each class's share of the training labels; refuses a class with no training example. */
export function logPriorAdjustment(labels: ArrayLike<number>, classes: number, names?: readonly string[]): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]!]! += 1;
  return countsAdjustment(counts, names);
}

/** -log(count / total) per class, from the training counts. */
export function countsAdjustment(counts: readonly number[], names?: readonly string[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  const empty = counts.findIndex((n) => !(n > 0));
  if (empty >= 0) throw new RangeError(`logit adjustment: class ${names?.[empty] ?? empty} has no training examples, so it has no prior to divide by`);
  return counts.map((n) => -Math.log(n / total));
}

/** Rows [n, K] of log probabilities (or logits) plus the adjustment: a new array. */
export function adjustRows(logits: ArrayLike<number>, adjustment: readonly number[]): Float32Array {
  const K = adjustment.length;
  if (logits.length % K !== 0) throw new RangeError(`logit adjustment: ${logits.length} values are not rows of ${K} classes`);
  return Float32Array.from(logits, (v, i) => v + adjustment[i % K]!);
}

/** Checks a recorded adjustment (model.json): K finite numbers; returns a problem or null. */
export function adjustmentProblem(a: unknown, classes: number): string | null {
  if (!Array.isArray(a) || a.length !== classes || !a.every((v) => typeof v === 'number' && Number.isFinite(v))) return `'logitAdjustment' must list ${classes} finite numbers`;
  return null;
}

/**
 * Per-epoch validation records re-scored under an adjustment: each epoch's accuracy, and the best epoch
 * as the loop picks it (the first epoch of the highest accuracy).
 */
export function adjustedEpochs(records: readonly EpochValidation[], adjustment: readonly number[]): { epoch: number; accuracy: number; pred: number[]; labels: number[] }[] {
  return records.map((r) => {
    const pred = argmaxRows(adjustRows(r.logp, adjustment), r.classes);
    const correct = pred.filter((p, j) => p === r.labels[j]).length;
    return { epoch: r.epoch, accuracy: r.labels.length ? correct / r.labels.length : 0, pred, labels: [...r.labels] };
  });
}

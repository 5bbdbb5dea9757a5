// Snapshot ensembles of a finished run: the validation predictions of several of its epochs averaged
// (mean class probabilities), scored without retraining from the per-epoch records a run keeps
// (val-logits.node.ts). A fixed window such as "the last K epochs" makes no choice on the validation
// clips, unlike the best epoch, which is picked on them; and averaging neighbouring epochs smooths
// the several-point swings between epochs of a run trained at a constant rate. Browser-safe.

import { argmaxRows } from './metrics';

export interface EpochValidation {
  epoch: number;
  /** The validation examples (indices into the data set), in record order. */
  val: number[];
  labels: number[];
  /** Row-major [val, classes] log class probabilities. */
  logp: number[];
  classes: number;
}

export interface EnsembleScore {
  epochs: number[];
  /** Mean class probabilities [val, classes], row-major. */
  probs: Float64Array;
  pred: number[];
  labels: number[];
  accuracy: number;
}

/** The mean of the given epochs' class probabilities on the same validation examples, scored. */
export function ensembleOf(records: readonly EpochValidation[]): EnsembleScore {
  if (records.length === 0) throw new RangeError('snapshot ensemble: no epochs to average');
  const first = records[0]!;
  const K = first.classes;
  const n = first.val.length;
  for (const r of records) {
    if (r.classes !== K || r.val.length !== n || r.val.some((v, i) => v !== first.val[i]) || r.logp.length !== n * K) {
      throw new RangeError(`snapshot ensemble: epoch ${r.epoch} was validated on other examples or classes than epoch ${first.epoch}`);
    }
  }
  const probs = new Float64Array(n * K);
  for (const r of records) r.logp.forEach((lp, j) => (probs[j] += Math.exp(lp) / records.length));
  const pred = argmaxRows(probs, K);
  const correct = pred.filter((p, i) => p === first.labels[i]).length;
  return { epochs: records.map((r) => r.epoch), probs, pred, labels: [...first.labels], accuracy: n ? correct / n : 0 };
}

/** The ensemble of the last `k` epochs up to and including `endEpoch` (default: the run's last). */
export function lastEpochsEnsemble(records: readonly EpochValidation[], k: number, endEpoch?: number): EnsembleScore {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`snapshot ensemble: k must be a positive integer, got ${k}`);
  const end = endEpoch ?? Math.max(...records.map((r) => r.epoch));
  const chosen = records.filter((r) => r.epoch > end - k && r.epoch <= end);
  if (chosen.length !== k) {
    throw new RangeError(`snapshot ensemble: epochs ${end - k + 1}..${end} are not all recorded (${chosen.length} of ${k})`);
  }
  return ensembleOf(chosen);
}

// The per-epoch validation record of a run: OUT/val-logits.jsonl, one line per validated epoch with
// the validation examples (indices into the data set), their labels and the model's log class
// probabilities [val, classes] at that epoch (with windows: the log of the windows' mean
// probabilities), rounded to 5 decimals. It lets a finished run be re-scored without retraining, e.g.
// as an ensemble of its last epochs' predictions (src/train/snapshots.ts). A resumed run may repeat
// an epoch's line; readers keep the last line of each epoch, and skip a last line cut short (no
// newline) by a killed run.

import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EpochValidation } from './snapshots';

export const VAL_LOGITS_FILE = 'val-logits.jsonl';

export function appendValidationLogits(out: string, epoch: number, val: readonly number[], labels: readonly number[], logits: Float32Array): void {
  const classes = val.length ? logits.length / val.length : 0;
  const logp = Array.from(logits, (v) => Math.round(v * 1e5) / 1e5);
  appendFileSync(join(out, VAL_LOGITS_FILE), JSON.stringify({ epoch, classes, val, labels, logp }) + '\n');
}

/** The run folder's per-epoch validation records, one per epoch (the last line of each), by epoch. */
export function readValidationLogits(out: string): EpochValidation[] {
  const path = join(out, VAL_LOGITS_FILE);
  if (!existsSync(path)) return [];
  const byEpoch = new Map<number, EpochValidation>();
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    // A run killed while writing leaves its last line without its newline: that epoch is unrecorded.
    if (i === lines.length - 1) return;
    const r = JSON.parse(line) as EpochValidation;
    byEpoch.set(r.epoch, r);
  });
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
}

// The per-epoch validation record of a run: one line per validated epoch with the validation examples
// (indices into the data set), their labels and the model's log class probabilities [val, classes] at
// that epoch (with windows: the log of the windows' mean probabilities), rounded to 5 decimals. It lets
// a finished run be re-scored without retraining, e.g. as an ensemble of its last epochs' predictions
// (src/train/scores/snapshots.ts). While a run trains, lines are appended to OUT/val-logits.jsonl (a line per
// epoch survives a crash); when the run ends they are compacted into OUT/val-logits.jsonl.gz (gzip,
// about a third of the size: the form kept in docs/run-records/) and the plain file is removed. A
// resumed run appends to a new plain file beside the .gz. Readers take the .gz, then the plain file,
// and keep the last line of each epoch (a resumed run may repeat one); a last plain line cut short
// (no newline) by a killed run is skipped.

import { appendFileSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { EpochValidation } from './snapshots';

export const VAL_LOGITS_FILE = 'val-logits.jsonl';
/** The compacted record of a finished run (gzip of the JSON lines). */
export const VAL_LOGITS_GZ = 'val-logits.jsonl.gz';

export function appendValidationLogits(out: string, epoch: number, val: readonly number[], labels: readonly number[], logits: Float32Array): void {
  const classes = val.length ? logits.length / val.length : 0;
  const logp = Array.from(logits, (v) => Math.round(v * 1e5) / 1e5);
  appendFileSync(join(out, VAL_LOGITS_FILE), JSON.stringify({ epoch, classes, val, labels, logp }) + '\n');
}

/** The complete JSON lines of a record file, plain or gzip (by its name). */
function recordLines(path: string): string[] {
  if (!existsSync(path)) return [];
  const text = path.endsWith('.gz') ? gunzipSync(readFileSync(path)).toString('utf8') : readFileSync(path, 'utf8');
  const lines = text.split('\n');
  // A run killed while writing leaves its last line without its newline: that epoch is unrecorded.
  return lines.slice(0, -1).filter((line) => line.trim());
}

/** The run folder's per-epoch validation records, one per epoch (the last line of each), by epoch. */
export function readValidationLogits(out: string): EpochValidation[] {
  return byEpoch([...recordLines(join(out, VAL_LOGITS_GZ)), ...recordLines(join(out, VAL_LOGITS_FILE))]);
}

/** The records of one file, plain or gzip by its name (e.g. a copy kept in docs/run-records/), as readValidationLogits. */
export function readValidationLogitsFile(path: string): EpochValidation[] {
  return byEpoch(recordLines(path));
}

/** One record per epoch (the last line of each), by epoch. */
function byEpoch(lines: readonly string[]): EpochValidation[] {
  const records = new Map<number, EpochValidation>();
  for (const line of lines) {
    const r = JSON.parse(line) as EpochValidation;
    records.set(r.epoch, r);
  }
  return [...records.values()].sort((a, b) => a.epoch - b.epoch);
}

/** Whether `out` holds a validation record, plain or compacted. */
export function hasValidationLogits(out: string): boolean {
  return existsSync(join(out, VAL_LOGITS_FILE)) || existsSync(join(out, VAL_LOGITS_GZ));
}

/**
 * Folds the plain record (and an earlier .gz) into OUT/val-logits.jsonl.gz, one line per epoch, and
 * removes the plain file; written to a temporary name first, so a crash leaves a readable pair.
 */
export function compactValidationLogits(out: string): void {
  const plain = join(out, VAL_LOGITS_FILE);
  if (!existsSync(plain)) return;
  const lines = readValidationLogits(out).map((r) => JSON.stringify(r) + '\n').join('');
  const gz = join(out, VAL_LOGITS_GZ);
  writeFileSync(`${gz}.tmp`, gzipSync(lines, { level: 9 }));
  renameSync(`${gz}.tmp`, gz);
  rmSync(plain);
}

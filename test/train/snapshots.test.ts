// Snapshot ensembles of a run's per-epoch validation records: the mean of the epochs' class
// probabilities against a float64 reference on fresh random records, the choice of the last K epochs,
// refusals of records that do not belong together, and the val-logits.jsonl round trip (the last line
// of a repeated epoch wins, as after a resumed run).

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensembleOf, lastEpochsEnsemble, type EpochValidation } from '../../src/train/scores/snapshots';
import { VAL_LOGITS_FILE, appendValidationLogits, readValidationLogits } from '../../src/train/scores/val-logits.node.ts';

const K = 4;

function logSoftmax(row: number[]): number[] {
  const m = Math.max(...row);
  const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
  return row.map((v) => v - lse);
}

function randomRecords(epochs: number, n: number): EpochValidation[] {
  const val = Array.from({ length: n }, (_, i) => 3 * i + 1);
  const labels = Array.from({ length: n }, () => Math.floor(Math.random() * K));
  return Array.from({ length: epochs }, (_, e) => ({
    epoch: e + 1,
    classes: K,
    val,
    labels,
    logp: Array.from({ length: n }, () => logSoftmax(Array.from({ length: K }, () => 3 * Math.random()))).flat(),
  }));
}

describe('snapshot ensembles', () => {
  it('average the epochs\' probabilities as a float64 reference does, and score the argmax', () => {
    const recs = randomRecords(6, 50);
    const chosen = [recs[1]!, recs[3]!, recs[4]!];
    const s = ensembleOf(chosen);
    const ref = Array.from({ length: 50 * K }, (_, j) => chosen.reduce((a, r) => a + Math.exp(r.logp[j]!), 0) / chosen.length);
    const err = Math.sqrt(ref.reduce((a, v, j) => a + (v - s.probs[j]!) ** 2, 0) / ref.reduce((a, v) => a + v * v, 0));
    expect(err).toBeLessThan(1e-12);
    const refPred = Array.from({ length: 50 }, (_, i) => ref.slice(i * K, i * K + K).reduce((b, v, k, row) => (v > row[b]! ? k : b), 0));
    expect(s.pred).toEqual(refPred);
    expect(s.accuracy).toBeCloseTo(refPred.filter((p, i) => p === chosen[0]!.labels[i]).length / 50, 12);
    expect(s.epochs).toEqual([2, 4, 5]);
    // Each row of the mean is a distribution.
    for (let i = 0; i < 50; i++) expect(s.probs.slice(i * K, i * K + K).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
  });

  it('the last K epochs: K = 1 is the last epoch alone; an end epoch moves the window', () => {
    const recs = randomRecords(8, 30);
    const last = lastEpochsEnsemble(recs, 1);
    expect(last.epochs).toEqual([8]);
    const argmax = Array.from({ length: 30 }, (_, i) => recs[7]!.logp.slice(i * K, i * K + K).reduce((b, v, k, row) => (v > row[b]! ? k : b), 0));
    expect(last.pred).toEqual(argmax);
    expect(lastEpochsEnsemble(recs, 3).epochs).toEqual([6, 7, 8]);
    expect(lastEpochsEnsemble(recs, 3, 5).epochs).toEqual([3, 4, 5]);
    expect(lastEpochsEnsemble([...recs].reverse(), 2).epochs).toEqual([8, 7]);
  });

  it('refuses windows with missing epochs, other validation examples, and empty input', () => {
    const recs = randomRecords(5, 10);
    expect(() => lastEpochsEnsemble(recs, 6)).toThrow(/epochs 0\.\.5 are not all recorded \(5 of 6\)/);
    expect(() => lastEpochsEnsemble(recs.filter((r) => r.epoch !== 4), 3)).toThrow(/epochs 3\.\.5 are not all recorded/);
    expect(() => lastEpochsEnsemble(recs, 0)).toThrow(/positive integer/);
    const other = { ...recs[4]!, val: recs[4]!.val.map((v) => v + 1) };
    expect(() => ensembleOf([recs[3]!, other])).toThrow(/epoch 5 was validated on other examples/);
    expect(() => ensembleOf([])).toThrow(/no epochs/);
  });

  it('val-logits.jsonl: appended per epoch, read back by epoch with the last line of a repeated epoch', () => {
    const out = mkdtempSync(join(tmpdir(), 'ser-snap-'));
    expect(readValidationLogits(out)).toEqual([]);
    const val = [5, 2, 9];
    const labels = [1, 0, 3];
    const lp = (e: number) => Float32Array.from({ length: 3 * K }, (_, j) => -(e + j) / 7);
    appendValidationLogits(out, 1, val, labels, lp(1));
    appendValidationLogits(out, 2, val, labels, lp(20)); // stopped run's epoch 2, repeated after resuming
    appendValidationLogits(out, 2, val, labels, lp(2));
    appendValidationLogits(out, 3, val, labels, lp(3));
    const recs = readValidationLogits(out);
    expect(recs.map((r) => r.epoch)).toEqual([1, 2, 3]);
    for (const r of recs) {
      expect(r.val).toEqual(val);
      expect(r.labels).toEqual(labels);
      expect(r.classes).toBe(K);
      const want = lp(r.epoch);
      expect(r.logp.every((v, j) => Math.abs(v - want[j]!) <= 5e-6)).toBe(true);
    }
    // A line cut short by a killed run (no newline) is skipped; a damaged line before it is an error.
    const whole = readFileSync(join(out, VAL_LOGITS_FILE), 'utf8');
    writeFileSync(join(out, VAL_LOGITS_FILE), whole + '{"epoch":4,"clas');
    expect(readValidationLogits(out).map((r) => r.epoch)).toEqual([1, 2, 3]);
    writeFileSync(join(out, VAL_LOGITS_FILE), '{"epoch":1,\n' + whole);
    expect(() => readValidationLogits(out)).toThrow(/JSON/);
  });
});

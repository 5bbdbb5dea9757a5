// The compact form of the per-epoch validation record (src/train/scores/val-logits.node.ts): a finished run's
// val-logits.jsonl is folded into val-logits.jsonl.gz, which reads back as the plain file did; a run
// resumed after that appends a new plain file, read after the .gz (its repeated epochs win); a single
// file reads on its own by name.

import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { VAL_LOGITS_FILE, VAL_LOGITS_GZ, appendValidationLogits, compactValidationLogits, hasValidationLogits, readValidationLogits, readValidationLogitsFile } from '../../src/train/scores/val-logits.node.ts';

const K = 3;
const val = [4, 0, 7, 2];
const labels = [2, 0, 1, 1];
const lp = (e: number) => Float32Array.from({ length: val.length * K }, (_, j) => -((e * 13 + j * 7) % 11) / 3);

describe('val-logits.jsonl.gz', () => {
  it('compacts a finished record losslessly, one line per epoch, and removes the plain file', () => {
    const out = mkdtempSync(join(tmpdir(), 'ser-vallogits-'));
    expect(hasValidationLogits(out)).toBe(false);
    compactValidationLogits(out); // nothing to compact: no file appears
    expect(existsSync(join(out, VAL_LOGITS_GZ))).toBe(false);
    for (const e of [1, 2, 2, 3]) appendValidationLogits(out, e, val, labels, lp(e));
    const before = readValidationLogits(out);
    compactValidationLogits(out);
    expect(existsSync(join(out, VAL_LOGITS_FILE))).toBe(false);
    expect(hasValidationLogits(out)).toBe(true);
    expect(readValidationLogits(out)).toEqual(before);
    // One file read on its own (a copy kept under another name): the same records.
    expect(readValidationLogitsFile(join(out, VAL_LOGITS_GZ))).toEqual(before);
    const lines = gunzipSync(readFileSync(join(out, VAL_LOGITS_GZ))).toString('utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).epoch)).toEqual([1, 2, 3]);
  });

  it('reads a resumed run: the .gz, then the plain file appended after it', () => {
    const out = mkdtempSync(join(tmpdir(), 'ser-vallogits-'));
    for (const e of [1, 2, 3]) appendValidationLogits(out, e, val, labels, lp(e));
    compactValidationLogits(out);
    appendValidationLogits(out, 3, val, labels, lp(30)); // epoch 3 repeated after resuming
    appendValidationLogits(out, 4, val, labels, lp(4));
    const recs = readValidationLogits(out);
    expect(recs.map((r) => r.epoch)).toEqual([1, 2, 3, 4]);
    const want = lp(30);
    expect(recs[2]!.logp.every((v, j) => Math.abs(v - want[j]!) <= 5e-6)).toBe(true);
    compactValidationLogits(out);
    expect(readValidationLogits(out)).toEqual(recs);
  });
});

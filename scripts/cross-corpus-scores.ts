// Re-scores leave-one-corpus-out runs from their per-epoch validation records (val-logits.jsonl[.gz],
// as runs write them and docs/run-records/ keeps them), without retraining: UAR over the classes
// present in the held-out corpus (argmax over those classes only, as `--val-corpus` scores), per run
// at the last epoch, as the mean of the last five epochs, and two post-hoc readings that use no labels:
//   - snapshot: the mean probabilities of the last five epochs (one model's late snapshots);
//   - balanced: per-class offsets added to the log-probabilities so that every present class is
//     predicted equally often over the held-out corpus (a transductive correction of the class prior:
//     it assumes the held-out classes are about balanced, which RAVDESS' half-size neutral is not).
// With --ensemble, the runs given (same held-out clips, e.g. seeds) are also averaged epoch by epoch.
//
//   npx tsx scripts/cross-corpus-scores.ts FILE... [--ensemble]
//
// FILE is a val-logits.jsonl[.gz] or a run folder holding one.

import { statSync } from 'node:fs';
import { Command } from 'commander';
import { maskedArgmaxRows } from '../src/train/scores/corpora';
import { classificationReport } from '../src/train/scores/metrics';
import { ensembleOf, type EpochValidation } from '../src/train/scores/snapshots';
import { hasValidationLogits, readValidationLogits, readValidationLogitsFile } from '../src/train/scores/val-logits.node.ts';

const program = new Command('cross-corpus-scores')
  .argument('<files...>', 'val-logits.jsonl[.gz] files or run folders')
  .option('--ensemble', 'also score the mean probabilities of all the runs, epoch by epoch')
  .parse();
const { ensemble } = program.opts<{ ensemble?: boolean }>();

function readRecords(p: string): EpochValidation[] {
  if (!statSync(p).isDirectory()) return readValidationLogitsFile(p);
  if (!hasValidationLogits(p)) throw new Error(`${p}: no val-logits.jsonl[.gz] in this folder`);
  return readValidationLogits(p);
}

/** UAR (%) of scores [n * C] (monotone per row) with each clip decided over the present classes only. */
function uar(labels: readonly number[], scores: ArrayLike<number>, C: number, present: readonly number[]): number {
  const allowed = [Array.from({ length: C }, (_, k) => present.includes(k))];
  const pred = maskedArgmaxRows(scores, C, [...labels.keys()], { corpusOf: new Uint8Array(labels.length), allowed });
  return 100 * classificationReport(labels, pred, Array.from({ length: C }, (_, k) => String(k))).uar;
}

/** Offsets (per present class) that make each present class the argmax for about 1/|present| of the clips. */
function balanced(logp: ArrayLike<number>, n: number, C: number, present: readonly number[]): Float64Array {
  const shifted = Float64Array.from(logp as ArrayLike<number>);
  const bias = new Float64Array(C);
  for (let it = 0; it < 500; it++) {
    const counts = new Float64Array(C);
    for (let i = 0; i < n; i++) {
      let best = present[0]!;
      for (const c of present) if (shifted[i * C + c]! > shifted[i * C + best]!) best = c;
      counts[best]! += 1;
    }
    for (const c of present) {
      const step = 0.05 * (counts[c]! / n - 1 / present.length) * present.length;
      bias[c]! -= step;
      for (let i = 0; i < n; i++) shifted[i * C + c]! -= step;
    }
  }
  return shifted;
}

const fmt = (v: number) => v.toFixed(1);
const runs = program.args.map((p) => ({ name: p, records: readRecords(p) }));
const rows: string[] = ['| run | epochs | last | mean of last 5 | snapshot of last 5 | balanced, last |', '|---|---|---|---|---|---|'];
for (const { name, records } of runs) {
  if (!records.length) { rows.push(`| ${name} | 0 | | | | |`); continue; }
  const last = records.at(-1)!;
  const C = last.classes;
  const present = [...new Set(last.labels)].sort((a, b) => a - b);
  const tail = records.slice(-5);
  const meanTail = tail.reduce((s, r) => s + uar(r.labels, r.logp, C, present), 0) / tail.length;
  rows.push(`| ${name} | ${records.length} | ${fmt(uar(last.labels, last.logp, C, present))} | ${fmt(meanTail)} | ${fmt(uar(last.labels, ensembleOf(tail).probs, C, present))} | ${fmt(uar(last.labels, balanced(last.logp, last.labels.length, C, present), C, present))} |`);
}
console.log(rows.join('\n'));
if (ensemble && runs.length > 1) {
  const epochs = runs.map((r) => new Set(r.records.map((e) => e.epoch))).reduce((a, b) => new Set([...a].filter((e) => b.has(e))));
  console.log('\nensemble of the runs, mean probabilities (UAR %):');
  for (const e of [...epochs].sort((a, b) => a - b)) {
    const rs = runs.map((r) => r.records.find((x) => x.epoch === e)!);
    const C = rs[0]!.classes;
    const present = [...new Set(rs[0]!.labels)].sort((a, b) => a - b);
    console.log(`epoch ${e}: ${fmt(uar(rs[0]!.labels, ensembleOf(rs).probs, C, present))} (runs: ${rs.map((r) => fmt(uar(r.labels, r.logp, C, present))).join(', ')})`);
  }
}

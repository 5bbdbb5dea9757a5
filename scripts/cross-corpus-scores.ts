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

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Command } from 'commander';

interface EpochRecord { epoch: number; classes: number; labels: number[]; logp: number[] }

const program = new Command('cross-corpus-scores')
  .argument('<files...>', 'val-logits.jsonl[.gz] files or run folders')
  .option('--ensemble', 'also score the mean probabilities of all the runs, epoch by epoch')
  .parse();
const { ensemble } = program.opts<{ ensemble?: boolean }>();

function recordPath(p: string): string {
  if (!statSync(p).isDirectory()) return p;
  for (const name of ['val-logits.jsonl.gz', 'val-logits.jsonl']) if (existsSync(join(p, name))) return join(p, name);
  throw new Error(`${p}: no val-logits.jsonl[.gz] in this folder`);
}

function readRecords(p: string): EpochRecord[] {
  const buf = readFileSync(p);
  const text = (p.endsWith('.gz') ? gunzipSync(buf) : buf).toString('utf8');
  const byEpoch = new Map<number, EpochRecord>();
  for (const line of text.split('\n')) if (line.trim()) { const r = JSON.parse(line) as EpochRecord; byEpoch.set(r.epoch, r); }
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
}

/** UAR (%) of scores [n * C] (log-probabilities or probabilities, monotone per row) over the present classes. */
function uar(labels: readonly number[], scores: ArrayLike<number>, C: number, present: readonly number[]): number {
  const hit = new Map<number, [number, number]>(present.map((c) => [c, [0, 0]]));
  labels.forEach((y, i) => {
    let best = present[0]!;
    for (const c of present) if (scores[i * C + c]! > scores[i * C + best]!) best = c;
    const h = hit.get(y)!;
    h[0] += best === y ? 1 : 0;
    h[1] += 1;
  });
  return (100 * [...hit.values()].reduce((s, [k, n]) => s + k / n, 0)) / present.length;
}

/** Mean probabilities of several records' outputs, as log-probabilities. */
function meanLogp(rs: readonly EpochRecord[]): Float64Array {
  const out = new Float64Array(rs[0]!.logp.length);
  for (const r of rs) r.logp.forEach((v, i) => { out[i] += Math.exp(v) / rs.length; });
  return out.map((v) => Math.log(v + 1e-30));
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
const runs = program.args.map((p) => ({ name: p, records: readRecords(recordPath(p)) }));
const rows: string[] = ['| run | epochs | last | mean of last 5 | snapshot of last 5 | balanced, last |', '|---|---|---|---|---|---|'];
for (const { name, records } of runs) {
  if (!records.length) { rows.push(`| ${name} | 0 | | | | |`); continue; }
  const last = records.at(-1)!;
  const C = last.classes;
  const present = [...new Set(last.labels)].sort((a, b) => a - b);
  const tail = records.slice(-5);
  const meanTail = tail.reduce((s, r) => s + uar(r.labels, r.logp, C, present), 0) / tail.length;
  rows.push(`| ${name} | ${records.length} | ${fmt(uar(last.labels, last.logp, C, present))} | ${fmt(meanTail)} | ${fmt(uar(last.labels, meanLogp(tail), C, present))} | ${fmt(uar(last.labels, balanced(last.logp, last.labels.length, C, present), C, present))} |`);
}
console.log(rows.join('\n'));
if (ensemble && runs.length > 1) {
  const epochs = runs.map((r) => new Set(r.records.map((e) => e.epoch))).reduce((a, b) => new Set([...a].filter((e) => b.has(e))));
  console.log('\nensemble of the runs, mean probabilities (UAR %):');
  for (const e of [...epochs].sort((a, b) => a - b)) {
    const rs = runs.map((r) => r.records.find((x) => x.epoch === e)!);
    if (rs.some((r) => r.labels.join() !== rs[0]!.labels.join())) throw new Error(`epoch ${e}: the runs validate on different clips`);
    const C = rs[0]!.classes;
    const present = [...new Set(rs[0]!.labels)].sort((a, b) => a - b);
    console.log(`epoch ${e}: ${fmt(uar(rs[0]!.labels, meanLogp(rs), C, present))} (runs: ${rs.map((r) => fmt(uar(r.labels, r.logp, C, present))).join(', ')})`);
  }
}

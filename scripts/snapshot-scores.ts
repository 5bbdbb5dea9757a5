// Re-scores finished runs as snapshot ensembles of their last K epochs (src/train/scores/snapshots.ts), from
// the per-epoch validation records every run keeps (OUT/val-logits.jsonl.gz, or .jsonl while it
// trains), without retraining.
//
//   npx tsx scripts/snapshot-scores.ts DIR... [--last 1,3,5,10] [--train-counts N1,N2,...] [--json FILE]
//
// DIR is a run folder (report.json + val-logits.jsonl[.gz]) or a --seeds / --folds OUT folder (its seed-*
// and fold-* runs). Prints per run the best-epoch accuracy (picked on the validation clips, as the
// report), the last epoch's, and the mean-probability ensemble of the last K epochs for each K (no
// choice made on the validation clips), then mean and sample std over the runs, and per-class recall
// of each K over the runs pooled as a mean. Runs without records are listed and left out.
// --train-counts (the training clips of each class, in class order) re-scores everything under logit
// adjustment (src/train/loop/logit-adjust.ts): the best epoch is picked again on the adjusted accuracy,
// exactly what `ser train --logit-adjust` would report for the same run (its training is the same).
// The records hold the raw outputs, so a run trained with --logit-adjust needs --train-counts here too
// (without it, its report's best-epoch figure is adjusted but the last-epoch and ensemble ones are not).

import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Command } from 'commander';
import { spread } from '../src/train/protocols/folds';
import { classificationReport } from '../src/train/scores/metrics';
import { lastEpochsEnsemble, type EpochValidation } from '../src/train/scores/snapshots';
import { adjustedEpochs, countsAdjustment } from '../src/train/loop/logit-adjust';
import { hasValidationLogits, readValidationLogits } from '../src/train/scores/val-logits.node.ts';

const program = new Command('snapshot-scores')
  .argument('<dirs...>', 'run folders, or --seeds / --folds OUT folders')
  .option('--last <list>', 'ensemble sizes K (last K epochs)', '1,3,5,10')
  .option('--train-counts <list>', 'training clips per class (class order): re-score under logit adjustment')
  .option('--json <file>', 'also write the figures as JSON')
  .parse();
const opts = program.opts<{ last: string; trainCounts?: string; json?: string }>();
const adjustment = opts.trainCounts ? countsAdjustment(opts.trainCounts.split(',').map(Number)) : null;
const ks = opts.last.split(',').map(Number);
if (ks.some((k) => !Number.isInteger(k) || k < 1)) program.error(`--last: expected positive whole numbers as a,b,c, got '${opts.last}'`);

const runDirs = program.args.flatMap((d) => {
  if (existsSync(join(d, 'report.json')) || hasValidationLogits(d)) return [d];
  const subs = existsSync(d) ? readdirSync(d).filter((n) => /^(seed|fold)-\d+$/.test(n)).sort((a, b) => Number(a.split('-')[1]) - Number(b.split('-')[1])) : [];
  if (subs.length === 0) program.error(`${d}: neither a run folder nor a --seeds/--folds folder`);
  return subs.map((n) => join(d, n));
});

interface Row { run: string; best: number; bestEpoch: number; bestRecall: number[]; last: number; epochs: number; ens: Record<number, number>; recall: Record<number, number[]> }
const rows: Row[] = [];
let classNames: string[] = [];
for (const dir of runDirs) {
  const raw = readValidationLogits(dir);
  // Adjusted records: log p + adjustment, not renormalised, so that an ensemble's mean is mean(p) / prior.
  const recs: EpochValidation[] = adjustment ? raw.map((r) => ({ ...r, logp: r.logp.map((v, j) => v + adjustment[j % r.classes]!) })) : raw;
  const report = existsSync(join(dir, 'report.json')) ? JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) : null;
  if (!report || recs.length === 0) {
    console.log(`${dir}: ${!report ? 'no report.json (unfinished)' : 'no val-logits.jsonl[.gz]'}; left out`);
    continue;
  }
  classNames = report.classes;
  const epochs = report.epochs.length as number;
  const ens: Record<number, number> = {};
  const recall: Record<number, number[]> = {};
  for (const k of ks) {
    try {
      const s = lastEpochsEnsemble(recs, k, epochs);
      ens[k] = s.accuracy;
      recall[k] = classificationReport(s.labels, s.pred, classNames).perClass.map((c) => c.recall);
    } catch (e) {
      console.log(`${dir}: K=${k}: ${(e as Error).message}`);
    }
  }
  if (adjustment) {
    if (adjustment.length !== classNames.length) program.error(`--train-counts: ${adjustment.length} counts for ${classNames.length} classes`);
    const scored = adjustedEpochs(raw, adjustment);
    const best = scored.reduce((b, e) => (e.accuracy > b.accuracy ? e : b));
    const bestRecall = classificationReport(best.labels, best.pred, classNames).perClass.map((c) => c.recall);
    const last = scored.find((e) => e.epoch === epochs);
    rows.push({ run: basename(dir), best: best.accuracy, bestEpoch: best.epoch, bestRecall, last: last ? last.accuracy : NaN, epochs, ens, recall });
  } else {
    const bestRecall = (report.perClass as { recall: number }[]).map((c) => c.recall);
    rows.push({ run: basename(dir), best: report.accuracy, bestEpoch: report.bestEpoch, bestRecall, last: report.epochs[epochs - 1].valAccuracy, epochs, ens, recall });
  }
}
if (rows.length === 0) program.error('no run with records');

const pct = (v: number | undefined) => (v === undefined ? '-' : (100 * v).toFixed(1));
const meanSd = (vs: number[]) => {
  const { mean, std } = spread(vs);
  return `${pct(mean)} ± ${pct(std)}`;
};
console.log(`| run | best epoch | accuracy at best | last epoch | ${ks.map((k) => `last ${k} ensemble`).join(' | ')} |`);
console.log(`|---|---|---|---|${ks.map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${r.run} | ${r.bestEpoch} | ${pct(r.best)} | ${pct(r.last)} | ${ks.map((k) => pct(r.ens[k])).join(' | ')} |`);
const complete = (k: number) => rows.filter((r) => r.ens[k] !== undefined).map((r) => r.ens[k]!);
console.log(`| mean ± sd (${rows.length}) | | ${meanSd(rows.map((r) => r.best))} | ${meanSd(rows.map((r) => r.last))} | ${ks.map((k) => meanSd(complete(k))).join(' | ')} |`);
console.log(`\nmean recall over runs, per class (${classNames.join(', ')})${adjustment ? ', logit-adjusted' : ''}:`);
const bestMean = classNames.map((_, c) => rows.reduce((a, r) => a + r.bestRecall[c]!, 0) / rows.length);
console.log(`  best epoch: ${bestMean.map((v) => pct(v)).join(' / ')} (lowest per class: ${classNames.map((_, c) => pct(Math.min(...rows.map((r) => r.bestRecall[c]!)))).join(' / ')})`);
for (const k of ks) {
  const withK = rows.filter((r) => r.recall[k]);
  const mean = classNames.map((_, c) => withK.reduce((a, r) => a + r.recall[k]![c]!, 0) / withK.length);
  console.log(`  last ${k}: ${mean.map((v) => pct(v)).join(' / ')}`);
}
if (opts.json) writeFileSync(opts.json, JSON.stringify({ ks, rows }, null, 2) + '\n');

// The summary of a k-fold cross-validation by speaker (`ser train --folds K`): for accuracy, UAR and
// macro F1, the mean, standard deviation, min and max over the folds; the mean recall of each class
// over the folds whose validation speakers have that class; and the pooled report of all
// out-of-fold predictions (each clip is validated exactly once, so the summed confusion matrices are
// one evaluation of the whole data set). The deviation is the sample one (n - 1 in the denominator),
// as the folds are a sample of the speaker partitions one could have drawn. Browser-safe.

import { type ClassificationReport, reportFromConfusion, topConfusions } from '../scores/metrics';

export interface Spread { mean: number; std: number; min: number; max: number }

/** Mean, sample standard deviation (0 for a single value), min and max. */
export function spread(xs: readonly number[]): Spread {
  if (xs.length === 0) throw new RangeError('spread of no values');
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const ss = xs.reduce((a, x) => a + (x - mean) ** 2, 0);
  return { mean, std: xs.length > 1 ? Math.sqrt(ss / (xs.length - 1)) : 0, min: Math.min(...xs), max: Math.max(...xs) };
}

/** What the summary needs of one trained fold. */
export interface FoldOutcome {
  fold: number;
  valSpeakers: string[];
  trainExamples: number;
  augmentedExamples: number;
  valExamples: number;
  bestEpoch: number;
  epochs: number;
  /** Seconds in the run's epochs, over every call that ran them (loop.ts epochsSeconds). */
  seconds: number;
  report: ClassificationReport;
}

export interface FoldsSummary {
  folds: number;
  seed: number;
  classes: string[];
  accuracy: Spread;
  uar: Spread;
  macroF1: Spread;
  /** Mean recall of each class over the `folds` folds whose validation side has it. */
  perClassRecall: { name: string; mean: number; folds: number }[];
  pooled: { accuracy: number; uar: number; macroF1: number; n: number; confusion: number[][] };
  perFold: (Omit<FoldOutcome, 'report'> & { accuracy: number; uar: number; macroF1: number; recall: Record<string, number | null> })[];
}

/** Spreads of accuracy, UAR and macro F1 over reports (which must all report `classes`). */
export function reportSpreads(reports: readonly ClassificationReport[], classes: readonly string[], what: (i: number) => string): Pick<FoldsSummary, 'accuracy' | 'uar' | 'macroF1'> {
  if (reports.length === 0) throw new RangeError('no runs to summarise');
  reports.forEach((r, i) => {
    if (r.perClass.map((m) => m.name).join() !== classes.join()) throw new RangeError(`${what(i)} reports other classes than ${classes.join(', ')}`);
  });
  return {
    accuracy: spread(reports.map((r) => r.accuracy)),
    uar: spread(reports.map((r) => r.uar)),
    macroF1: spread(reports.map((r) => r.macroF1)),
  };
}

/** Recall of class `c` in each report whose validation side has the class. */
export function classRecalls(reports: readonly ClassificationReport[], c: number): number[] {
  return reports.filter((r) => r.perClass[c]!.support > 0).map((r) => r.perClass[c]!.recall);
}

/** One run's figures in a summary: accuracy, UAR, macro F1 and each class's recall (null without support). */
export function reportFigures(r: ClassificationReport): { accuracy: number; uar: number; macroF1: number; recall: Record<string, number | null> } {
  return { accuracy: r.accuracy, uar: r.uar, macroF1: r.macroF1, recall: Object.fromEntries(r.perClass.map((m) => [m.name, m.support > 0 ? m.recall : null])) };
}

export function summariseFolds(outcomes: readonly FoldOutcome[], classes: readonly string[], seed: number): FoldsSummary {
  if (outcomes.length === 0) throw new RangeError('no folds to summarise');
  const reports = outcomes.map((o) => o.report);
  const spreads = reportSpreads(reports, classes, (i) => `fold ${outcomes[i]!.fold}`);
  const summed = classes.map((_, t) => classes.map((__, p) => reports.reduce((a, r) => a + r.confusion[t]![p]!, 0)));
  const pooled = reportFromConfusion(summed, classes);
  return {
    folds: outcomes.length,
    seed,
    classes: [...classes],
    ...spreads,
    perClassRecall: classes.map((name, c) => {
      const recalls = classRecalls(reports, c);
      return { name, mean: recalls.length ? spread(recalls).mean : 0, folds: recalls.length };
    }),
    pooled: { accuracy: pooled.accuracy, uar: pooled.uar, macroF1: pooled.macroF1, n: pooled.total, confusion: summed },
    perFold: outcomes.map(({ report, ...o }) => ({ ...o, ...reportFigures(report) })),
  };
}

export const pct = (x: number): string => (100 * x).toFixed(1);
export const spreadText = (s: Spread): string => `${pct(s.mean)}% ± ${pct(s.std)} (min ${pct(s.min)}, max ${pct(s.max)})`;

/** A few console lines: the three metrics with their spread, and the pooled figures. */
export function formatFoldsSummary(s: FoldsSummary): string {
  return [
    `${s.folds}-fold cross-validation by speaker (seed ${s.seed}), mean ± sample std over folds:`,
    `  accuracy  ${spreadText(s.accuracy)}`,
    `  UAR       ${spreadText(s.uar)}`,
    `  macro F1  ${spreadText(s.macroF1)}`,
    `  recall per class (mean over folds): ${s.perClassRecall.map((c) => `${c.name} ${pct(c.mean)}%`).join(', ')}`,
    `  pooled out-of-fold (${s.pooled.n} clips): accuracy ${pct(s.pooled.accuracy)}%, UAR ${pct(s.pooled.uar)}%, macro F1 ${pct(s.pooled.macroF1)}%`,
  ].join('\n');
}

/** folds.md: protocol, the summary table, per-class recall, every fold, the pooled confusions. */
export function foldsMarkdown(s: FoldsSummary, extra: { augmentation: string }): string {
  const row = (name: string, sp: Spread) => `| ${name} | ${pct(sp.mean)} | ${pct(sp.std)} | ${pct(sp.min)} | ${pct(sp.max)} |`;
  const pooled = reportFromConfusion(s.pooled.confusion, s.classes);
  const confusions = topConfusions(pooled, 5).map((c) => `- ${c.trueClass} -> ${c.predicted}: ${c.count} (${c.rowPercent.toFixed(1)}% of ${c.trueClass})`);
  return `# ${s.folds}-fold cross-validation by speaker

- Protocol: the speakers are dealt into ${s.folds} folds (seed ${s.seed}, folds balanced by clip count); each fold
  trains a fresh model on the other folds' speakers and validates on its own, so every speaker is
  validated exactly once and never appears on both sides. Each fold's files are in \`fold-<i>/\`.
- Augmentation: ${extra.augmentation}
- Spread: standard deviation is the sample one (n - 1); min and max are over folds.

## Summary (% over ${s.folds} folds, best weights of each fold)

| metric | mean | std | min | max |
|---|---|---|---|---|
${row('accuracy', s.accuracy)}
${row('UAR', s.uar)}
${row('macro F1', s.macroF1)}

## Recall per class (mean over the folds whose validation speakers have the class)

| class | mean recall % | folds |
|---|---|---|
${s.perClassRecall.map((c) => `| ${c.name} | ${pct(c.mean)} | ${c.folds} |`).join('\n')}

## Folds

| fold | validation speakers | train | augmented | val | accuracy % | UAR % | macro F1 % | best epoch | s in epochs |
|---|---|---|---|---|---|---|---|---|---|
${s.perFold.map((f) => `| ${f.fold} | ${f.valSpeakers.join(', ')} | ${f.trainExamples} | ${f.augmentedExamples} | ${f.valExamples} | ${pct(f.accuracy)} | ${pct(f.uar)} | ${pct(f.macroF1)} | ${f.bestEpoch} of ${f.epochs} | ${f.seconds.toFixed(0)} |`).join('\n')}

## Pooled out-of-fold predictions (${s.pooled.n} clips)

Accuracy ${pct(s.pooled.accuracy)}%, UAR ${pct(s.pooled.uar)}%, macro F1 ${pct(s.pooled.macroF1)}%.

![pooled confusion matrix](confusion.svg)
${confusions.length ? `\nMost frequent confusions:\n\n${confusions.join('\n')}\n` : ''}`;
}

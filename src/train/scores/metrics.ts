// Classification metrics from integer class indices (0..numClasses-1), built on one confusion
// matrix whose rows are true classes and columns predictions. Conventions (as scikit-learn):
//   precision of a never-predicted class and recall of an absent class are 0 (no division by zero);
//   UAR (balanced accuracy) averages recall over classes present in the truth;
//   macro F1 averages F1 over classes present in the truth or the predictions.

export interface ClassMetrics { name: string; precision: number; recall: number; f1: number; support: number }

export interface Confusion { trueClass: string; predicted: string; count: number; rowPercent: number }

export interface ClassificationReport {
  total: number;
  accuracy: number;
  /** Unweighted average recall, a.k.a. balanced accuracy. */
  uar: number;
  macroF1: number;
  perClass: ClassMetrics[];
  /** counts[true][predicted]. */
  confusion: number[][];
  /** Each row of counts as a percentage of its row total (0 for an empty row). */
  confusionRowPercent: number[][];
}

export class MetricsError extends Error {
  override name = 'MetricsError';
}

export function confusionMatrix(yTrue: readonly number[], yPred: readonly number[], numClasses: number): number[][] {
  if (yTrue.length !== yPred.length) throw new MetricsError(`${yTrue.length} true labels but ${yPred.length} predictions`);
  const counts = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i];
    const p = yPred[i];
    if (!(Number.isInteger(t) && t >= 0 && t < numClasses && Number.isInteger(p) && p >= 0 && p < numClasses)) {
      throw new MetricsError(`label pair (${t}, ${p}) at ${i} is outside 0..${numClasses - 1}`);
    }
    counts[t][p]++;
  }
  return counts;
}

const mean = (xs: number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

/** The mean recall over the rows (true classes) that have examples: UAR. */
function uarOfConfusion(counts: number[][]): number {
  return mean(counts.flatMap((row, c) => {
    const support = row.reduce((a, b) => a + b, 0);
    return support > 0 ? [row[c] / support] : [];
  }));
}

/** Every metric at once from a confusion matrix of counts. */
export function reportFromConfusion(counts: number[][], classNames: readonly string[]): ClassificationReport {
  const n = classNames.length;
  if (counts.length !== n || counts.some((row) => row.length !== n)) throw new MetricsError(`confusion matrix must be ${n} x ${n}`);
  const support = counts.map((row) => row.reduce((a, b) => a + b, 0));
  const predicted = classNames.map((_, c) => counts.reduce((a, row) => a + row[c], 0));
  const total = support.reduce((a, b) => a + b, 0);
  const correct = classNames.reduce((a, _, c) => a + counts[c][c], 0);
  const perClass = classNames.map((name, c) => {
    const tp = counts[c][c];
    const precision = predicted[c] > 0 ? tp / predicted[c] : 0;
    const recall = support[c] > 0 ? tp / support[c] : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return { name, precision, recall, f1, support: support[c] };
  });
  return {
    total,
    accuracy: total > 0 ? correct / total : 0,
    uar: uarOfConfusion(counts),
    macroF1: mean(perClass.filter((_, c) => support[c] > 0 || predicted[c] > 0).map((m) => m.f1)),
    perClass,
    confusion: counts.map((row) => [...row]),
    confusionRowPercent: counts.map((row, c) => row.map((v) => (support[c] > 0 ? (100 * v) / support[c] : 0))),
  };
}

/**
 * Unweighted average recall: the mean over the classes present in yTrue of the fraction of their
 * examples predicted as themselves (chance level 1 / classes present, whatever the class sizes).
 */
export function unweightedAverageRecall(yTrue: readonly number[], yPred: readonly number[], numClasses: number): number {
  return uarOfConfusion(confusionMatrix(yTrue, yPred, numClasses));
}

export function classificationReport(yTrue: readonly number[], yPred: readonly number[], classNames: readonly string[]): ClassificationReport {
  return reportFromConfusion(confusionMatrix(yTrue, yPred, classNames.length), classNames);
}

/** The k largest off-diagonal cells, by count (ties: higher row percentage, then class order). */
export function topConfusions(report: ClassificationReport, k = 5): Confusion[] {
  const names = report.perClass.map((m) => m.name);
  const cells: Confusion[] = [];
  report.confusion.forEach((row, t) =>
    row.forEach((count, p) => {
      if (t !== p && count > 0) cells.push({ trueClass: names[t], predicted: names[p], count, rowPercent: report.confusionRowPercent[t][p] });
    }),
  );
  return cells.sort((a, b) => b.count - a.count || b.rowPercent - a.rowPercent).slice(0, k);
}

const pct = (x: number): string => (100 * x).toFixed(1);

/** A fixed-width plain-text report: summary, per-class table, confusion counts, top confusions. */
export function formatReport(report: ClassificationReport, options: { topK?: number } = {}): string {
  const { topK = 5 } = options;
  const names = report.perClass.map((m) => m.name);
  const w = Math.max(7, ...names.map((s) => s.length));
  const lines = [
    `n=${report.total}  accuracy ${pct(report.accuracy)}%  UAR ${pct(report.uar)}%  macro-F1 ${pct(report.macroF1)}%`,
    '',
    `${'class'.padEnd(w)}  precision  recall     f1  support`,
    ...report.perClass.map((m) =>
      `${m.name.padEnd(w)}  ${pct(m.precision).padStart(9)}  ${pct(m.recall).padStart(6)}  ${pct(m.f1).padStart(5)}  ${String(m.support).padStart(7)}`,
    ),
    '',
    `confusion (rows true, columns predicted)`,
    `${''.padEnd(w)}  ${names.map((s) => s.slice(0, 5).padStart(5)).join(' ')}`,
    ...report.confusion.map((row, t) => `${names[t].padEnd(w)}  ${row.map((v) => String(v).padStart(5)).join(' ')}`),
  ];
  const top = topConfusions(report, topK);
  if (top.length > 0) {
    lines.push('', 'most frequent confusions');
    for (const c of top) lines.push(`  ${c.trueClass} -> ${c.predicted}: ${c.count} (${c.rowPercent.toFixed(1)}% of ${c.trueClass})`);
  }
  return lines.join('\n');
}

/** Each row's class of largest score (first on ties), for row-major [rows, classes] scores. */
export function argmaxRows(logits: ArrayLike<number>, classes: number): number[] {
  const pred: number[] = [];
  for (let i = 0; i < logits.length / classes; i++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (logits[i * classes + k]! > logits[i * classes + best]!) best = k;
    pred.push(best);
  }
  return pred;
}

// `ser evaluate` on several corpora (`--data` repeated or named; corpora.ts): the clips of every
// corpus of the model's classes, each corpus's classes (those of the model its clips have), and with
// `--held-out` the validation clips a several-corpora split.json names per corpus (each relative to
// its own folder, matched by corpus name). Scoring restricts every clip's decision to its corpus's
// classes, as training scored it, and breaks the report down per corpus.

import type { Dataset, DatasetItem } from '../data/datasets';
import { corpusReports, type ClassMask, type CorpusReport, type CorpusSpec } from '../scores/corpora';
import { loadCorpora } from '../data/corpora.node.ts';
import { heldOutIndices } from '../data/data.node.ts';
import { classificationReport, type ClassificationReport } from '../scores/metrics';

export interface EvaluationData {
  items: DatasetItem[];
  /** Corpus index of each item. */
  corpusOf: number[];
  corpora: CorpusSpec[];
  mask: ClassMask;
  foreign: number;
}

/** The corpora's clips of the model's classes, and the mask of each corpus's classes. */
export function evaluationCorpora(specs: readonly CorpusSpec[], classes: readonly string[], log: (l: string) => void): EvaluationData {
  const { dataset, corpusOf, corpora } = loadCorpora(specs, log);
  const keep = dataset.items.map((item, i) => ({ item, c: corpusOf[i]! })).filter((e) => classes.includes(e.item.label));
  if (keep.length === 0) throw new Error(`no files of the model's classes (${classes.join(', ')}) in ${corpora.map((c) => c.name).join(', ')}`);
  const allowed = corpora.map((_, ci) => classes.map((k) => keep.some((e) => e.c === ci && e.item.label === k)));
  const kept = keep.map((e) => e.c);
  return { items: keep.map((e) => e.item), corpusOf: kept, corpora, mask: { corpusOf: kept, allowed }, foreign: dataset.items.length - keep.length };
}

/** Indices (into `ev.items`) of the validation clips a several-corpora split.json names. */
export function heldOutOfCorpora(record: { corpora?: { name: string; valFiles: string[] }[]; valFiles?: string[] }, ev: EvaluationData, file: string): number[] {
  if (!record.corpora) throw new Error(`${file} is a single-corpus split: give --data once, the folder the model was trained from`);
  const out: number[] = [];
  for (const r of record.corpora) {
    if (r.valFiles.length === 0) continue;
    const ci = ev.corpora.findIndex((c) => c.name === r.name);
    if (ci < 0) throw new Error(`--held-out: the model was validated on corpus ${r.name}, which no --data names (give --data ${r.name}=DIR)`);
    const members = ev.items.map((_, i) => i).filter((i) => ev.corpusOf[i] === ci);
    const idx = heldOutIndices(r.valFiles, ev.corpora[ci]!.data, members.map((i) => ev.items[i]!.path), `corpus ${r.name} (${ev.corpora[ci]!.data})`);
    out.push(...idx.map((j) => members[j]!));
  }
  if (out.length === 0) throw new Error(`${file} lists no validation clips: the model was trained without a held-out split`);
  return out.sort((a, b) => a - b);
}

/** The report of predictions (class probabilities) of items `ids`, decided over each one's corpus's classes. */
export function scoreCorpora(ev: EvaluationData, classes: readonly string[], ids: readonly number[], probabilities: readonly Record<string, number>[]): { report: ClassificationReport; perCorpus: CorpusReport[] } {
  const truth = ids.map((i) => classes.indexOf(ev.items[i]!.label));
  const pred = ids.map((i, r) => {
    const row = ev.mask.allowed[ev.corpusOf[i]!]!;
    let best = -1;
    classes.forEach((k, c) => {
      if (row[c] && (best < 0 || probabilities[r]![k]! > probabilities[r]![classes[best]!]!)) best = c;
    });
    return best;
  });
  return { report: classificationReport(truth, pred, classes), perCorpus: corpusReports(ev.corpora, ev.mask, ev.corpusOf, classes, ids, truth, pred) };
}

export type { Dataset };

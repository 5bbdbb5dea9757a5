// Several corpora in one run (`ser train --data A --data NAME=B ...`). Browser-safe logic; loading is
// in corpora.node.ts. A corpus is named by its folder's (or manifest's) base name, or explicitly
// `NAME=DIR`; every example knows its corpus (an index into the run's corpora), speakers are
// namespaced `NAME/speaker` when there is more than one corpus, and the labels share one vocabulary.
//
// Classes a corpus lacks are not counted against it. Its "allowed" classes are the model's classes
// the corpus has; a ClassMask holds them per corpus and the corpus of every example:
//   - training: the loss of an example spans only its allowed classes (kernels/loss.ts classMask);
//   - scoring: an example's prediction is the argmax over its allowed classes (maskedArgmaxRows),
//     and its validation loss is the cross-entropy over them (maskedMeanCrossEntropy).
// A run whose corpora all have every model class needs no mask (null): it trains and scores exactly
// as a single corpus does.

import { reportFromConfusion, type ClassificationReport } from './metrics';

/** One `--data` value: the corpus's name and its folder or CSV manifest. */
export interface CorpusSpec { name: string; data: string }

/** What a run records of each corpus (model.json, split.json, reports). */
export interface CorpusRecord extends CorpusSpec {
  /** Labels the corpus's clips have, in vocabulary order. */
  classes: string[];
  clips: number;
  speakers: number;
}

/** Per example, which of the model's classes it may be scored on and trained towards. */
export interface ClassMask {
  /** Corpus index of each example (of the layout the indices refer to). */
  corpusOf: ArrayLike<number>;
  /** allowed[corpus][class]: the model's class k is one the corpus has. */
  allowed: readonly (readonly boolean[])[];
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The base name of a folder or manifest path ('/' or '\\' separated), without a trailing `.csv`. */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]+/).filter((p) => p.length > 0 && p !== '.');
  const last = parts[parts.length - 1] ?? '';
  return last.toLowerCase().endsWith('.csv') ? last.slice(0, -4) : last;
}

/**
 * The corpora of repeated `--data` values (`DIR`, or `NAME=DIR` where NAME is letters, digits, `.`,
 * `_`, `-`). Names must differ; `flag` names the option in errors.
 */
export function parseCorpusSpecs(values: readonly string[], flag = '--data'): CorpusSpec[] {
  const specs = values.map((v): CorpusSpec => {
    const eq = v.indexOf('=');
    const name = eq > 0 ? v.slice(0, eq) : '';
    if (name && NAME_RE.test(name)) {
      const data = v.slice(eq + 1);
      if (!data) throw new RangeError(`${flag} ${v}: no folder after '${name}='`);
      return { name, data };
    }
    const base = baseName(v);
    if (!NAME_RE.test(base)) throw new RangeError(`${flag} ${v}: cannot name a corpus after '${base}'; name it with ${flag} NAME=${v} (NAME: letters, digits, '.', '_', '-')`);
    return { name: base, data: v };
  });
  const seen = new Map<string, string>();
  for (const s of specs) {
    const other = seen.get(s.name);
    if (other !== undefined) throw new RangeError(`${flag}: two corpora named '${s.name}' (${other} and ${s.data}); name them apart with ${flag} NAME=DIR`);
    seen.set(s.name, s.data);
  }
  return specs;
}

/** A speaker's name in a run of `corpora` corpora: namespaced by its corpus when there are several. */
export function corpusSpeaker(corpus: string, speaker: string | undefined, corpora: number): string | undefined {
  return speaker === undefined || corpora < 2 ? speaker : `${corpus}/${speaker}`;
}

/** The index of corpus `name`, or an error naming the flag and the corpora there are. */
export function corpusIndex(corpora: readonly CorpusSpec[], name: string, flag: string): number {
  const i = corpora.findIndex((c) => c.name === name);
  if (i < 0) throw new RangeError(`${flag} ${name}: no such corpus; the corpora are ${corpora.map((c) => c.name).join(', ')}`);
  return i;
}

/**
 * The mask of a run whose model predicts `modelClasses`: corpus c may use class k when it has it.
 * Null when every corpus has every model class (nothing to mask).
 */
export function classMaskOf(corpusClasses: readonly (readonly string[])[], modelClasses: readonly string[], corpusOf: ArrayLike<number>): ClassMask | null {
  const allowed = corpusClasses.map((cc) => modelClasses.map((k) => cc.includes(k)));
  if (allowed.every((row) => row.every(Boolean))) return null;
  allowed.forEach((row, c) => {
    if (!row.some(Boolean)) throw new RangeError(`corpus ${c + 1} shares no class with the model's (${modelClasses.join(', ')})`);
  });
  return { corpusOf, allowed };
}

/**
 * The mask of examples `ids` as u32 rows [ids.length, classes] (1: allowed), for the loss kernel. With
 * mixup partners (`partners[r]`: the example blended into row r), a row allows the classes of either.
 */
export function maskRows(mask: ClassMask, ids: readonly number[], classes: number, partners?: readonly number[]): Uint32Array {
  const out = new Uint32Array(ids.length * classes);
  ids.forEach((id, r) => {
    const row = mask.allowed[mask.corpusOf[id]!]!;
    const other = partners ? mask.allowed[mask.corpusOf[partners[r]!]!]! : row;
    for (let k = 0; k < classes; k++) out[r * classes + k] = row[k] || other[k] ? 1 : 0;
  });
  return out;
}

/** argmax of each row of logits [ids.length, classes] over the classes its example (ids[r]) may have. */
export function maskedArgmaxRows(logits: ArrayLike<number>, classes: number, ids: readonly number[], mask: ClassMask | null): number[] {
  return ids.map((id, r) => {
    const row = mask ? mask.allowed[mask.corpusOf[id]!]! : null;
    let best = -1;
    for (let k = 0; k < classes; k++) {
      if (row && !row[k]) continue;
      if (best < 0 || logits[r * classes + k]! > logits[r * classes + best]!) best = k;
    }
    return best;
  });
}

/**
 * Mean label-smoothed cross-entropy of rows of logits (ids[r]'s example) over each example's allowed
 * classes: softmax and smoothing (s / allowed count) span those classes only. Without a mask this is
 * the plain mean cross-entropy.
 */
export function maskedMeanCrossEntropy(logits: ArrayLike<number>, labels: readonly number[], classes: number, smoothing: number, ids: readonly number[], mask: ClassMask | null): number {
  let total = 0;
  ids.forEach((id, r) => {
    const row = mask ? mask.allowed[mask.corpusOf[id]!]! : null;
    const ks = Array.from({ length: classes }, (_, k) => k).filter((k) => !row || row[k]);
    const z = ks.map((k) => logits[r * classes + k]!);
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
    ks.forEach((k, j) => {
      const t = (k === labels[r] ? 1 - smoothing : 0) + smoothing / ks.length;
      total -= t * (z[j]! - lse);
    });
  });
  return total / ids.length;
}

/** The keys `--balance corpus` balances: one per (corpus, class) pair, for every example of the layout. */
export function balanceKeys(corpusOf: ArrayLike<number>, labels: ArrayLike<number>, classes: number): Uint32Array {
  return Uint32Array.from({ length: labels.length }, (_, i) => corpusOf[i]! * classes + labels[i]!);
}

/** One corpus's part of an evaluation, scored over the classes it shares with the model. */
export interface CorpusReport {
  name: string;
  /** The model's classes this corpus has (the report's classes). */
  classes: string[];
  report: ClassificationReport;
}

/**
 * Per-corpus reports of predictions `pred` for examples `ids` (true labels `truth`, model class
 * indices): each corpus with validation examples gets a report over its allowed classes.
 */
export function corpusReports(corpora: readonly CorpusSpec[], mask: ClassMask | null, corpusOf: ArrayLike<number>, modelClasses: readonly string[], ids: readonly number[], truth: readonly number[], pred: readonly number[]): CorpusReport[] {
  const out: CorpusReport[] = [];
  corpora.forEach((c, ci) => {
    const rows = ids.map((id, r) => [id, r] as const).filter(([id]) => corpusOf[id] === ci);
    if (rows.length === 0) return;
    const allowed = modelClasses.map((_, k) => (mask ? mask.allowed[ci]![k]! : true));
    const keep = modelClasses.map((_, k) => k).filter((k) => allowed[k]);
    const at = new Map(keep.map((k, j) => [k, j]));
    const counts = keep.map(() => new Array<number>(keep.length).fill(0));
    for (const [, r] of rows) {
      const t = at.get(truth[r]!);
      const p = at.get(pred[r]!);
      if (t === undefined || p === undefined) throw new RangeError(`corpus ${c.name}: an example of, or predicted as, a class the corpus lacks`);
      counts[t]![p]!++;
    }
    const classes = keep.map((k) => modelClasses[k]!);
    out.push({ name: c.name, classes, report: reportFromConfusion(counts, classes) });
  });
  return out;
}

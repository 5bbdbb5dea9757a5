// Train/validation splits over a list of examples ({label, speaker?}; a DatasetItem fits), all
// seeded so a run can be repeated exactly from its saved description:
//   stratifiedSplit  clip-level, per class: the seed report's split (leaks speakers on RAVDESS)
//   speakerSplit     whole speakers held out: explicit names, or a seeded fraction (balanced by
//                    sex when every example has one, so RAVDESS holds out as many women as men)
//   speakerKFold     K folds of whole speakers, each speaker validated exactly once, folds
//                    balanced by example count (largest speaker first into the lightest fold)
//   withAugmented    a split's training side plus the augmented copies of its training examples
//                    (never of validation ones)
// Index lists come back sorted ascending; the training loop does its own shuffling.

import { createRng } from '../../common/random';

export interface SplitExample { label: string; speaker?: string; sex?: string }

export interface SplitDescription {
  kind: 'stratified' | 'speaker' | 'speaker-kfold' | 'corpus';
  seed: number;
  /** kind 'corpus' (corpus-splits.ts): the corpus validated on, and its clips of classes no training corpus has (left out). */
  valCorpus?: string;
  omitted?: { clips: number; classes: string[] };
  /** A k-fold split of only this corpus's speakers (the others always train; corpus-splits.ts). */
  foldCorpus?: string;
  valFraction?: number;
  valSpeakers?: string[];
  /** 1-based fold number of a k-fold split. */
  fold?: number;
  folds?: number;
}

export interface Split { train: number[]; val: number[]; description: SplitDescription }

export class SplitError extends Error {
  override name = 'SplitError';
}

function checkFraction(valFraction: number): void {
  if (!(valFraction > 0 && valFraction < 1)) throw new SplitError(`valFraction must be in (0, 1), got ${valFraction}`);
}

/** Size of the validation share of n things: rounded, but leaving at least one on each side. */
function valCount(n: number, valFraction: number): number {
  return Math.min(n - 1, Math.max(1, Math.round(n * valFraction)));
}

/** Indices of each key, keys in ascending order, indices in input order. */
export function groupBy(keys: readonly string[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  keys.forEach((k, i) => {
    const list = groups.get(k);
    if (list) list.push(i);
    else groups.set(k, [i]);
  });
  return new Map([...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const ascending = (a: number, b: number): number => a - b;

export interface StratifiedOptions { valFraction?: number; seed?: number }

/** Clip-level split holding out round(n * valFraction) of every class (at least one each side). */
export function stratifiedSplit(examples: readonly SplitExample[], options: StratifiedOptions = {}): Split {
  const { valFraction = 0.2, seed = 0 } = options;
  checkFraction(valFraction);
  const rng = createRng(seed);
  const train: number[] = [];
  const val: number[] = [];
  for (const [label, indices] of groupBy(examples.map((e) => e.label))) {
    if (indices.length < 2) {
      throw new SplitError(
        `class '${label}' has ${indices.length} example; a stratified split needs at least 2 per class ` +
          `(one for training, one for validation): add data or drop the class`,
      );
    }
    rng.shuffle(indices);
    const nVal = valCount(indices.length, valFraction);
    val.push(...indices.slice(0, nVal));
    train.push(...indices.slice(nVal));
  }
  return { train: train.sort(ascending), val: val.sort(ascending), description: { kind: 'stratified', seed, valFraction } };
}

function speakersOf(examples: readonly SplitExample[]): string[] {
  const missing = examples.filter((e) => e.speaker === undefined || e.speaker === '').length;
  if (missing > 0) {
    throw new SplitError(
      `a speaker split needs a speaker for every example, but ${missing} of ${examples.length} have none; ` +
        `use a corpus whose names carry speakers, a manifest with a speaker column, or a stratified split`,
    );
  }
  return examples.map((e) => e.speaker as string);
}

/** Splits indices by a set of validation speakers; every class must keep training examples. */
function splitBySpeakers(examples: readonly SplitExample[], speakers: string[], valSet: Set<string>): { train: number[]; val: number[] } {
  const train: number[] = [];
  const val: number[] = [];
  speakers.forEach((s, i) => (valSet.has(s) ? val : train).push(i));
  const trainLabels = new Set(train.map((i) => examples[i].label));
  const lost = [...new Set(examples.map((e) => e.label))].filter((l) => !trainLabels.has(l));
  if (lost.length > 0) {
    throw new SplitError(`holding out speakers ${[...valSet].join(', ')} leaves no training examples of: ${lost.join(', ')}`);
  }
  return { train, val };
}

export interface SpeakerSplitOptions { valSpeakers?: readonly string[]; valFraction?: number; seed?: number }

/** Holds out whole speakers: the named ones, or a seeded valFraction of them. */
export function speakerSplit(examples: readonly SplitExample[], options: SpeakerSplitOptions = {}): Split {
  const { valFraction = 0.2, seed = 0 } = options;
  const speakers = speakersOf(examples);
  const known = [...groupBy(speakers).keys()];
  let chosen: string[];
  if (options.valSpeakers) {
    const unknown = options.valSpeakers.filter((s) => !known.includes(s));
    if (unknown.length > 0) throw new SplitError(`unknown validation speaker(s) ${unknown.join(', ')}; known: ${known.join(', ')}`);
    if (options.valSpeakers.length === 0 || options.valSpeakers.length >= known.length) {
      throw new SplitError(`validation speakers must be a non-empty proper subset of the ${known.length} speakers`);
    }
    chosen = [...options.valSpeakers];
  } else {
    checkFraction(valFraction);
    if (known.length < 2) throw new SplitError(`a speaker split needs at least 2 speakers, found ${known.length}`);
    const rng = createRng(seed);
    const sexOf = new Map(examples.map((e) => [e.speaker as string, e.sex]));
    const bySex = [...sexOf.values()].every((s) => s !== undefined) ? groupBy(known.map((s) => String(sexOf.get(s)))) : new Map([['', known.map((_, i) => i)]]);
    const total = valCount(known.length, valFraction);
    chosen = [];
    let owed = 0;
    for (const group of bySex.values()) {
      owed += (total * group.length) / known.length;
      const take = Math.min(group.length, Math.round(owed) - chosen.length);
      chosen.push(...rng.shuffle(group.map((i) => known[i])).slice(0, take));
    }
  }
  chosen.sort();
  const { train, val } = splitBySpeakers(examples, speakers, new Set(chosen));
  const description: SplitDescription = { kind: 'speaker', seed, valSpeakers: chosen };
  if (!options.valSpeakers) description.valFraction = valFraction;
  return { train, val, description };
}

export interface KFoldOptions { folds?: number; seed?: number }

/** K speaker-disjoint folds; fold f validates on its speakers and trains on all the others. */
export function speakerKFold(examples: readonly SplitExample[], options: KFoldOptions = {}): Split[] {
  const { folds = 5, seed = 0 } = options;
  const speakers = speakersOf(examples);
  const groups = groupBy(speakers);
  if (!Number.isInteger(folds) || folds < 2 || folds > groups.size) {
    throw new SplitError(`k-fold by speaker needs 2 <= folds <= speakers (${groups.size}), got ${folds}`);
  }
  // Shuffling before the stable sort makes the seed decide among speakers of equal size.
  const order = createRng(seed).shuffle([...groups.keys()]).sort((a, b) => groups.get(b)!.length - groups.get(a)!.length);
  const members: string[][] = Array.from({ length: folds }, () => []);
  const load = new Array<number>(folds).fill(0);
  for (const s of order) {
    const f = load.indexOf(Math.min(...load));
    members[f].push(s);
    load[f] += groups.get(s)!.length;
  }
  return members.map((valSpeakers, fold) => {
    valSpeakers.sort();
    const { train, val } = splitBySpeakers(examples, speakers, new Set(valSpeakers));
    return { train, val, description: { kind: 'speaker-kfold', seed, fold: fold + 1, folds, valSpeakers } };
  });
}

/**
 * Which augmented copies a split trains on, and its training indices over the uploaded layout
 * [originals (offset of them)..., copies taken...]. Copy j's source (sources[j]) is an original's
 * index; `copies` lists the j whose source is a training example, in order, and the k-th of them
 * sits at offset + k; `copiesOf` maps each training example with copies to their uploaded indices
 * (what swapped augmentation draws from).
 */
export function withAugmented(split: Split, sources: readonly number[], offset: number): { train: number[]; copies: number[]; copiesOf: Map<number, number[]> } {
  const inTrain = new Set(split.train);
  const copies = sources.flatMap((s, j) => (inTrain.has(s) ? [j] : []));
  const copiesOf = new Map<number, number[]>();
  copies.forEach((j, k) => {
    const of = copiesOf.get(sources[j]!);
    if (of) of.push(offset + k);
    else copiesOf.set(sources[j]!, [offset + k]);
  });
  return { train: [...split.train, ...copies.map((_, k) => offset + k)], copies, copiesOf };
}

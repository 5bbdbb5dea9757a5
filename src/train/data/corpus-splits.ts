// The protocols that measure generalisation across corpora (`ser train` with several `--data`):
//   valCorpusSplit  `--val-corpus NAME`: train on every other corpus, validate on NAME. The model's
//                   classes are the training corpora's; NAME's clips of other classes are left out
//                   of the data (and counted in the split's description), and NAME is scored over
//                   the classes both sides share (its allowed classes, corpora.ts).
//   corpusKFold     `--folds K`: each corpus's speakers are dealt into K folds on their own
//                   (speakerKFold), and fold f validates on fold f of every corpus, so each fold holds
//                   out 1/K of every corpus's speakers. With `foldCorpus` (`--fold-corpus NAME`) only
//                   NAME's speakers are dealt; every other corpus is always in training.
// Both work on any data whose clips carry a corpus index (TrainingData of data.node.ts).

import { corpusIndex, type CorpusRecord } from '../scores/corpora';
import { SplitError, speakerKFold, type Split, type SplitExample } from './splits';

/** What the protocols need of the data (TrainingData has it). */
export interface CorpusData {
  paths: string[];
  examples: SplitExample[];
  features: Float32Array[];
  lengths: number[];
  classes: string[];
  corpora?: CorpusRecord[];
  corpusOf?: number[];
}

function needCorpora<T extends CorpusData>(data: T, flag: string): { corpora: CorpusRecord[]; corpusOf: number[] } {
  if (!data.corpora || !data.corpusOf || data.corpora.length < 2) throw new SplitError(`${flag} needs several corpora: give --data more than once`);
  return { corpora: data.corpora, corpusOf: data.corpusOf };
}

/** The data restricted to clips `keep` (ascending) with the model classes `classes`; corpus records recounted. */
export function subsetData<T extends CorpusData>(data: T, keep: readonly number[], classes: readonly string[]): T {
  const pick = <V>(xs: readonly V[]) => keep.map((i) => xs[i]!);
  const corpusOf = data.corpusOf ? pick(data.corpusOf) : undefined;
  const examples = pick(data.examples);
  const corpora = data.corpora?.map((c, ci) => {
    const mine = examples.filter((_, j) => corpusOf![j] === ci);
    return { ...c, classes: classes.filter((k) => mine.some((e) => e.label === k)), clips: mine.length, speakers: new Set(mine.map((e) => e.speaker)).size };
  });
  return { ...data, paths: pick(data.paths), examples, features: pick(data.features), lengths: pick(data.lengths), classes: [...classes], ...(corpora ? { corpora, corpusOf } : {}) };
}

/** `--val-corpus NAME`: the data without NAME's clips of classes no other corpus has, and the split. */
export function valCorpusSplit<T extends CorpusData>(data: T, name: string, seed: number): { data: T; split: Split } {
  const { corpora, corpusOf } = needCorpora(data, '--val-corpus');
  const ci = corpusIndex(corpora, name, '--val-corpus');
  const trainAll = data.examples.map((_, i) => i).filter((i) => corpusOf[i] !== ci);
  const trainClasses = data.classes.filter((k) => trainAll.some((i) => data.examples[i]!.label === k));
  const valAll = data.examples.map((_, i) => i).filter((i) => corpusOf[i] === ci);
  const omittedIdx = valAll.filter((i) => !trainClasses.includes(data.examples[i]!.label));
  if (omittedIdx.length === valAll.length) throw new SplitError(`--val-corpus ${name}: none of its classes (${corpora[ci]!.classes.join(', ')}) is in the other corpora (${trainClasses.join(', ')})`);
  const omitted = new Set(omittedIdx);
  const keep = data.examples.map((_, i) => i).filter((i) => !omitted.has(i));
  const sub = subsetData(data, keep, trainClasses);
  const train: number[] = [];
  const val: number[] = [];
  sub.corpusOf!.forEach((c, j) => (c === ci ? val : train).push(j));
  const omittedClasses = data.classes.filter((k) => omittedIdx.some((i) => data.examples[i]!.label === k));
  return { data: sub, split: { train, val, description: { kind: 'corpus', seed, valCorpus: name, omitted: { clips: omittedIdx.length, classes: omittedClasses } } } };
}

/** `--folds K` over several corpora (each corpus's speakers in K folds), or only `foldCorpus`'s. */
export function corpusKFold<T extends CorpusData>(data: T, folds: number, seed: number, foldCorpus?: string): Split[] {
  const { corpora, corpusOf } = needCorpora(data, foldCorpus !== undefined ? '--fold-corpus' : '--folds with corpora');
  const only = foldCorpus !== undefined ? corpusIndex(corpora, foldCorpus, '--fold-corpus') : -1;
  const vals: number[][] = Array.from({ length: folds }, () => []);
  const speakers: string[][] = Array.from({ length: folds }, () => []);
  corpora.forEach((c, ci) => {
    if (only >= 0 && ci !== only) return;
    const members = data.examples.map((_, i) => i).filter((i) => corpusOf[i] === ci);
    let splits: Split[];
    try {
      splits = speakerKFold(members.map((i) => data.examples[i]!), { folds, seed });
    } catch (e) {
      throw e instanceof SplitError ? new SplitError(`corpus ${c.name}: ${e.message}`) : e;
    }
    splits.forEach((s, f) => {
      vals[f]!.push(...s.val.map((j) => members[j]!));
      speakers[f]!.push(...s.description.valSpeakers!);
    });
  });
  return vals.map((v, f) => {
    const inVal = new Set(v);
    const val = [...v].sort((a, b) => a - b);
    const train = data.examples.map((_, i) => i).filter((i) => !inVal.has(i));
    const trainLabels = new Set(train.map((i) => data.examples[i]!.label));
    const lost = data.classes.filter((k) => !trainLabels.has(k));
    if (lost.length) throw new SplitError(`fold ${f + 1} leaves no training examples of: ${lost.join(', ')}`);
    return { train, val, description: { kind: 'speaker-kfold', seed, fold: f + 1, folds, valSpeakers: [...speakers[f]!].sort(), ...(foldCorpus !== undefined ? { foldCorpus } : {}) } };
  });
}

// The corpus flags of `ser train` and `ser evaluate`: `--data` given more than once (or `--data
// NAME=DIR`) makes a several-corpora run (train/scores/corpora.ts); `--val-corpus NAME` and `--fold-corpus
// NAME` choose the protocols of train/data/corpus-splits.ts; `--balance corpus` balances classes within
// each corpus and the corpora against each other (train/corpus-balance.ts). A single unnamed `--data`
// is exactly the single-corpus run it always was.

import { parseCorpusSpecs, type CorpusSpec } from '../train/scores/corpora';

/** Commander's collector for a repeatable option. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `--data` values as a run's data: one plain folder stays `data`; several (or a named one) are `corpora`. */
export function dataFlags(values: readonly string[] | undefined): { data?: string; corpora?: CorpusSpec[] } {
  if (!values || values.length === 0) return {};
  const specs = parseCorpusSpecs(values);
  if (values.length === 1 && specs[0]!.data === values[0]) return { data: values[0] };
  return { corpora: specs };
}

export interface CorpusFlags {
  data?: string[];
  valCorpus?: string;
  foldCorpus?: string;
  folds?: number;
  valSpeakers?: string[];
  seeds?: number[];
  balance?: boolean | string;
}

/** Refuses corpus flags that cannot work together, naming them; `given` says whether a flag was typed. */
export function checkCorpusFlags(f: CorpusFlags, given: (key: string) => boolean): void {
  const corpora = f.data?.length ?? 0;
  const names = corpora > 0 ? parseCorpusSpecs(f.data!).map((s) => s.name) : [];
  const known = (flag: string, name: string) => {
    if (!names.includes(name)) throw new Error(`${flag} ${name}: no such corpus; the corpora are ${names.join(', ') || '(none: give --data)'}`);
  };
  if (f.valCorpus !== undefined) {
    if (corpora < 2) throw new Error(`--val-corpus ${f.valCorpus} trains on the other corpora: give --data at least twice (got ${corpora})`);
    known('--val-corpus', f.valCorpus);
    if (f.folds !== undefined) throw new Error('--val-corpus and --folds are two protocols: use one (--folds K --fold-corpus NAME folds one corpus with the others always in training)');
    if (f.valSpeakers) throw new Error('--val-corpus validates on a whole corpus: it cannot be combined with --val-speakers');
    if (given('split')) throw new Error('--val-corpus is its own split: leave --split out');
    if (given('val')) throw new Error('--val-corpus validates on the whole corpus: leave --val out');
  }
  if (f.foldCorpus !== undefined) {
    if (f.folds === undefined) throw new Error(`--fold-corpus ${f.foldCorpus} chooses the corpus whose speakers --folds deals: give --folds K`);
    if (corpora < 2) throw new Error(`--fold-corpus ${f.foldCorpus} keeps the other corpora in training: give --data at least twice (got ${corpora})`);
    known('--fold-corpus', f.foldCorpus);
  }
  if (f.balance === 'corpus' && corpora < 2) throw new Error(`--balance corpus balances corpora against each other: give --data at least twice (got ${corpora})`);
}

// Loads the corpora of a several-`--data` run (corpora.ts) into one data set: each corpus is read as a
// single `--data` is (datasets.node.ts), its speakers are namespaced `NAME/speaker` when there are
// several corpora, and every item keeps the index of its corpus. Only names are read, never audio.

import { resolve } from 'node:path';
import { DatasetError, type Dataset, type DatasetItem } from './datasets';
import { loadDataset } from './datasets.node.ts';
import { classesPresent } from './labels';
import { corpusSpeaker, type CorpusSpec } from '../scores/corpora';

export interface LoadedCorpora {
  /** Every corpus's items, corpus after corpus, paths absolute, speakers namespaced. */
  dataset: Dataset;
  /** Corpus index of each item. */
  corpusOf: number[];
  /** The specs with their folders resolved to absolute paths. */
  corpora: CorpusSpec[];
}

export function loadCorpora(specs: readonly CorpusSpec[], log: (line: string) => void): LoadedCorpora {
  if (specs.length === 0) throw new DatasetError('no corpora given');
  const corpora = specs.map((s) => ({ name: s.name, data: resolve(s.data) }));
  const items: DatasetItem[] = [];
  const corpusOf: number[] = [];
  const skipped: Dataset['skipped'] = [];
  const warnings: string[] = [];
  corpora.forEach((c, ci) => {
    let ds: Dataset;
    try {
      ds = loadDataset(c.data);
    } catch (e) {
      throw e instanceof DatasetError ? new DatasetError(`corpus ${c.name}: ${e.message}`) : e;
    }
    for (const item of ds.items) {
      const speaker = corpusSpeaker(c.name, item.speaker, corpora.length);
      items.push(speaker === undefined ? item : { ...item, speaker });
      corpusOf.push(ci);
    }
    skipped.push(...ds.skipped);
    warnings.push(...ds.warnings.map((w) => `${c.name}: ${w}`));
    log(`corpus ${c.name}: ${c.data} — ${ds.items.length} files, classes: ${ds.classes.join(', ')}${ds.skipped.length ? `, ${ds.skipped.length} files not recognised` : ''}`);
  });
  return { dataset: { items, skipped, warnings, classes: classesPresent(items.map((i) => i.label)) }, corpusOf, corpora };
}

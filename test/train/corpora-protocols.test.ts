// Protocols over several corpora, end to end on two tiny generated corpora of different classes:
// `--folds` deals each corpus's speakers into every fold and folds.md/json break the figures down per
// corpus; `--fold-corpus` folds one corpus only; `--seeds` with `--val-corpus` summarises per corpus;
// `--balance corpus` draws every (corpus, class) pair as often as the largest; impossible flag
// combinations are refused naming the flags and values.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GpuFeatureExtractor } from '../../src/dsp/gpu-features';
import { balanceKeys } from '../../src/train/scores/corpora';
import { foldsRun } from '../../src/train/protocols/folds.node.ts';
import { balancedExamples } from '../../src/train/loop/schedule';
import { seedsRun } from '../../src/train/protocols/seeds.node.ts';
import { useGpu } from '../harness';
import { writeCorpus } from './corpora-fixtures';
import { tinyRunOptions } from './tiny-run';

const gpu = useGpu();
const BIN = join(__dirname, '../../bin/ser.mjs');

describe('--balance corpus', () => {
  it('draws every (corpus, class) pair as often as the largest', () => {
    // Corpus 0: 6 of class 0, 2 of class 1; corpus 1: 3 of class 0.
    const corpusOf = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1];
    const labels = [0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0];
    const train = labels.map((_, i) => i);
    const epoch = balancedExamples(train, balanceKeys(corpusOf, labels, 2), 3, 0);
    const count = (c: number, k: number) => epoch.filter((i) => corpusOf[i] === c && labels[i] === k).length;
    expect([count(0, 0), count(0, 1), count(1, 0)]).toEqual([6, 6, 6]);
    // Balancing classes alone would leave corpus 1's class 0 at 3 (its class-0 clips share a count with corpus 0's).
    const byClass = balancedExamples(train, labels, 3, 0);
    expect(byClass.filter((i) => corpusOf[i] === 1).length).toBe(3);
  });
});

describe('protocols on two corpora', () => {
  const a = writeCorpus(['neutral', 'happy', 'sad', 'angry'], 4, 'ravdess');
  const b = writeCorpus(['neutral', 'happy', 'calm'], 4, 'csv', 9);
  const corpora = [{ name: 'ra', data: a }, { name: 'cr', data: b }];

  it('--folds holds out 1/K of every corpus per fold and breaks folds.md/json down per corpus', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ser-corpora-folds-'));
    const base = tinyRunOptions('', out, { data: undefined, corpora, loop: { epochs: 1 } });
    const r = await foldsRun(gpu(), (c) => new GpuFeatureExtractor(gpu(), c), { ...base, folds: 2 });
    expect(r.summary).not.toBeNull();
    for (const f of r.folds) expect(new Set(f.split.description.valSpeakers!.map((s) => s.split('/')[0]))).toEqual(new Set(['ra', 'cr']));
    const json = JSON.parse(readFileSync(join(out, 'folds.json'), 'utf8'));
    expect(json.perCorpus.map((c: any) => [c.name, c.classes, c.runs, c.pooled.n])).toEqual([
      ['ra', ['neutral', 'happy', 'sad', 'angry'], 2, 32], ['cr', ['neutral', 'calm', 'happy'], 2, 24],
    ]);
    const md = readFileSync(join(out, 'folds.md'), 'utf8');
    expect(md).toMatch(/## Per corpus .*over folds/);
    expect(md).toMatch(/\| cr \| 2 \|/);
    expect(md).toMatch(/\| corpus \| neutral \| calm \| happy \| sad \| angry \|/);
    const splits = JSON.parse(readFileSync(join(out, 'splits.json'), 'utf8'));
    expect(splits.corpora.map((c: any) => c.name)).toEqual(['ra', 'cr']);
  }, 900_000);

  it('--fold-corpus folds one corpus while the other always trains; --seeds with --val-corpus summarises per corpus', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ser-corpora-foldc-'));
    const base = tinyRunOptions('', out, { data: undefined, corpora, loop: { epochs: 1 } });
    const r = await foldsRun(gpu(), (c) => new GpuFeatureExtractor(gpu(), c), { ...base, folds: 2, foldCorpus: 'cr' });
    for (const f of r.folds) {
      expect(f.split.description.valSpeakers!.every((s) => s.startsWith('cr/'))).toBe(true);
      expect(f.perCorpus!.map((c) => c.name)).toEqual(['cr']);
    }
    const json = JSON.parse(readFileSync(join(out, 'folds.json'), 'utf8'));
    expect(json.foldCorpus).toBe('cr');
    expect(readFileSync(join(out, 'folds.md'), 'utf8')).toMatch(/Only cr's speakers were dealt into folds/);

    const seedsOut = mkdtempSync(join(tmpdir(), 'ser-corpora-seeds-'));
    const s = await seedsRun(gpu(), (c) => new GpuFeatureExtractor(gpu(), c), { ...tinyRunOptions('', seedsOut, { data: undefined, corpora, valCorpus: 'ra', loop: { epochs: 1 } }), seeds: [1, 2] });
    expect(s.summary).not.toBeNull();
    const seeds = JSON.parse(readFileSync(join(seedsOut, 'seeds.json'), 'utf8'));
    expect(seeds.protocol).toMatch(/validated on corpus ra over the classes both sides share/);
    expect(seeds.perCorpus.map((c: any) => [c.name, c.classes, c.runs])).toEqual([['ra', ['neutral', 'happy'], 2]]);
    expect(readFileSync(join(seedsOut, 'seeds.md'), 'utf8')).toMatch(/## Per corpus \(mean ± sample std over seeds/);
  }, 900_000);
});

describe('ser train refuses impossible corpus flags', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [BIN, 'train', '--epochs', '1', ...args], { encoding: 'utf8' });
  const cases: [string[], RegExp][] = [
    [['--data', '/x/a', '--val-corpus', 'a'], /--val-corpus a trains on the other corpora: give --data at least twice \(got 1\)/],
    [['--data', '/x/a', '--data', '/y/b', '--val-corpus', 'c'], /--val-corpus c: no such corpus; the corpora are a, b/],
    [['--data', '/x/a', '--data', '/y/b', '--val-corpus', 'a', '--folds', '2'], /--val-corpus and --folds are two protocols/],
    [['--data', '/x/a', '--data', '/y/b', '--val-corpus', 'a', '--val-speakers', 'b/1'], /--val-corpus .* cannot be combined with --val-speakers/],
    [['--data', '/x/a', '--data', '/y/b', '--val-corpus', 'a', '--split', 'speaker'], /--val-corpus is its own split: leave --split out/],
    [['--data', '/x/a', '--data', '/y/b', '--fold-corpus', 'a'], /--fold-corpus a chooses the corpus whose speakers --folds deals: give --folds K/],
    [['--data', '/x/a', '--folds', '2', '--fold-corpus', 'a'], /--fold-corpus a keeps the other corpora in training: give --data at least twice/],
    [['--data', '/x/a', '--data', '/y/a'], /two corpora named 'a' \(\/x\/a and \/y\/a\); name them apart with --data NAME=DIR/],
    [['--data', '/x/a', '--balance', 'corpus'], /--balance corpus balances corpora against each other: give --data at least twice \(got 1\)/],
    [['--data', '/x/a', '--balance', 'speakers'], /--balance.*'speakers' is invalid/],
  ];
  for (const [args, message] of cases) {
    it(args.join(' '), () => {
      const r = run(...args);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(message);
    });
  }
});

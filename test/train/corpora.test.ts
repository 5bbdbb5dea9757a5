// Several corpora in one run: `--data` parsing and naming, per-corpus class masks in scoring (argmax
// and validation loss over a corpus's own classes), per-corpus reports, the --val-corpus and
// cross-corpus k-fold splits, and a tiny end-to-end run on two generated corpora of different classes
// (speakers namespaced, model.json / split.json recording the corpora, report.md / report.json broken
// down per corpus, --val-corpus leaving out the classes the training corpora lack).

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GpuFeatureExtractor } from '../../src/dsp/gpu-features';
import { classMaskOf, corpusReports, maskedArgmaxRows, maskedMeanCrossEntropy, maskRows, parseCorpusSpecs } from '../../src/train/scores/corpora';
import { corpusKFold, valCorpusSplit, type CorpusData } from '../../src/train/data/corpus-splits';
import { meanCrossEntropy } from '../../src/train/loop/loop';
import { writeReport } from '../../src/train/protocols/report.node.ts';
import { trainRun } from '../../src/train/protocols/run.node.ts';
import { readValidationLogits } from '../../src/train/scores/val-logits.node.ts';
import { useGpu } from '../harness';
import { writeCorpus } from './corpora-fixtures';
import { tinyRunOptions } from './tiny-run';

const gpu = useGpu();
const BIN = join(__dirname, '../../bin/ser.mjs');

describe('--data values', () => {
  it('name corpora by base name or NAME=DIR and refuse duplicates', () => {
    expect(parseCorpusSpecs(['/a/ravdess', 'crema=/b/x/', '/c/sub/manifest.csv'])).toEqual([
      { name: 'ravdess', data: '/a/ravdess' }, { name: 'crema', data: '/b/x/' }, { name: 'manifest', data: '/c/sub/manifest.csv' },
    ]);
    expect(() => parseCorpusSpecs(['/a/data', '/b/data'])).toThrow(/two corpora named 'data'.*NAME=DIR/);
    expect(() => parseCorpusSpecs(['x='])).toThrow(/no folder after 'x='/);
  });
});

describe('class masks', () => {
  const model = ['neutral', 'happy', 'sad', 'angry'];
  const corpusOf = [0, 0, 1, 1];
  const mask = classMaskOf([model, ['neutral', 'happy']], model, corpusOf)!;

  it('are null when every corpus has every class, else allow each corpus its own classes', () => {
    expect(classMaskOf([model, model], model, corpusOf)).toBeNull();
    expect(mask.allowed).toEqual([[true, true, true, true], [true, true, false, false]]);
    expect(Array.from(maskRows(mask, [3, 0], 4))).toEqual([1, 1, 0, 0, 1, 1, 1, 1]);
    // With a mixup partner of the other corpus a row allows the union.
    expect(Array.from(maskRows(mask, [3], 4, [1]))).toEqual([1, 1, 1, 1]);
  });

  it('restrict the argmax and the validation loss to the allowed classes', () => {
    const logits = [0, 1, 5, 2, /**/ 0, 1, 5, 2];
    expect(maskedArgmaxRows(logits, 4, [0, 2], mask)).toEqual([2, 1]);
    expect(maskedArgmaxRows(logits, 4, [0, 2], null)).toEqual([2, 2]);
    // Example 2 (corpus 1) over neutral and happy only: a two-class cross-entropy.
    const s = 0.1;
    const lse = Math.log(Math.exp(0) + Math.exp(1));
    const two = -((1 - s + s / 2) * (1 - lse) + (s / 2) * (0 - lse));
    expect(maskedMeanCrossEntropy([0, 1, 5, 2], [1], 4, s, [2], mask)).toBeCloseTo(two, 10);
    expect(maskedMeanCrossEntropy(logits, [2, 3], 4, s, [0, 1], null)).toBeCloseTo(meanCrossEntropy(new Float32Array(logits), [2, 3], 4, s), 6);
  });

  it('give per-corpus reports over each corpus classes', () => {
    const reports = corpusReports([{ name: 'a', data: 'A' }, { name: 'b', data: 'B' }], mask, corpusOf, model, [0, 1, 2, 3], [2, 3, 0, 1], [2, 2, 0, 0]);
    expect(reports.map((r) => [r.name, r.classes, r.report.total, r.report.accuracy])).toEqual([
      ['a', model, 2, 0.5], ['b', ['neutral', 'happy'], 2, 0.5],
    ]);
    expect(reports[1]!.report.confusion).toEqual([[1, 0], [1, 0]]);
  });
});

/** Two corpora: a (4 speakers; neutral happy sad angry) and b (3 speakers; neutral happy calm). */
function twoCorpora(): CorpusData {
  const a = ['neutral', 'happy', 'sad', 'angry'];
  const b = ['neutral', 'happy', 'calm'];
  const examples = [
    ...[1, 2, 3, 4].flatMap((s) => a.map((label) => ({ label, speaker: `a/S${s}` }))),
    ...[1, 2, 3].flatMap((s) => b.map((label) => ({ label, speaker: `b/S${s}` }))),
  ];
  const n = examples.length;
  return {
    paths: examples.map((_, i) => `p${i}`), examples, features: examples.map(() => new Float32Array(1)), lengths: examples.map(() => 1),
    classes: ['neutral', 'calm', 'happy', 'sad', 'angry'],
    corpora: [{ name: 'a', data: 'A', classes: a, clips: 16, speakers: 4 }, { name: 'b', data: 'B', classes: ['neutral', 'calm', 'happy'], clips: 9, speakers: 3 }],
    corpusOf: Array.from({ length: n }, (_, i) => (i < 16 ? 0 : 1)),
  };
}

describe('corpus protocols', () => {
  it('--val-corpus trains on the others, keeps their classes and leaves out the rest of the validation corpus', () => {
    const { data, split } = valCorpusSplit(twoCorpora(), 'b', 0);
    expect(data.classes).toEqual(['neutral', 'happy', 'sad', 'angry']);
    expect(split.train.every((i) => data.corpusOf![i] === 0)).toBe(true);
    expect(split.val.map((i) => data.examples[i]!.label).sort()).toEqual(['happy', 'happy', 'happy', 'neutral', 'neutral', 'neutral']);
    expect(split.description).toMatchObject({ kind: 'corpus', valCorpus: 'b', omitted: { clips: 3, classes: ['calm'] } });
    expect(data.corpora![1]).toMatchObject({ classes: ['neutral', 'happy'], clips: 6 });
    expect(() => valCorpusSplit(twoCorpora(), 'c', 0)).toThrow(/--val-corpus c: no such corpus; the corpora are a, b/);
  });

  it('--folds deals every corpus speakers into every fold; --fold-corpus only that corpus', () => {
    const data = twoCorpora();
    const folds = corpusKFold(data, 3, 1);
    for (const f of folds) {
      const valCorpora = new Set(f.val.map((i) => data.corpusOf![i]));
      expect(valCorpora).toEqual(new Set([0, 1]));
    }
    const validated = folds.flatMap((f) => f.val).sort((x, y) => x - y);
    expect(validated).toEqual(data.examples.map((_, i) => i));
    const only = corpusKFold(data, 3, 1, 'b');
    for (const f of only) {
      expect(f.val.every((i) => data.corpusOf![i] === 1)).toBe(true);
      expect(f.train.filter((i) => data.corpusOf![i] === 0)).toHaveLength(16);
      expect(f.description.foldCorpus).toBe('b');
    }
    expect(() => corpusKFold(data, 4, 1)).toThrow(/corpus b: .*folds <= speakers \(3\)/);
  });
});

describe('a run on two corpora', () => {
  const a = writeCorpus(['neutral', 'happy', 'sad', 'angry'], 3, 'ravdess');
  const b = writeCorpus(['neutral', 'happy', 'calm'], 2, 'csv', 9);

  it('namespaces speakers, records the corpora and reports per corpus over its own classes', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ser-corpora-run-'));
    const valSpeakers = ['cr/Actor_02', 'ra/Actor_01'];
    const r = await trainRun(gpu(), (c) => new GpuFeatureExtractor(gpu(), c), tinyRunOptions('', out, { data: undefined, corpora: [{ name: 'ra', data: a }, { name: 'cr', data: b }], split: 'speaker', valSpeakers }));
    await writeReport(r);
    expect(r.classes).toEqual(['neutral', 'calm', 'happy', 'sad', 'angry']);
    expect(r.split.description.valSpeakers).toEqual(valSpeakers);
    const model = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    expect(model.corpora.map((c: any) => [c.name, c.classes])).toEqual([['ra', ['neutral', 'happy', 'sad', 'angry']], ['cr', ['neutral', 'calm', 'happy']]]);
    expect(model.corpora[0].data).toBe(a);
    const split = JSON.parse(readFileSync(join(out, 'split.json'), 'utf8'));
    expect(split.valFiles).toBeUndefined();
    expect(split.corpora.map((c: any) => [c.name, c.valFiles.length])).toEqual([['ra', 8], ['cr', 6]]);
    for (const f of split.corpora[1].valFiles) expect(existsSync(join(b, f))).toBe(true); // relative to the manifest, as a single --data's valFiles
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.perCorpus.map((c: any) => [c.name, c.classes, c.n])).toEqual([
      ['ra', ['neutral', 'happy', 'sad', 'angry'], 8], ['cr', ['neutral', 'calm', 'happy'], 6],
    ]);
    // Scored over its own classes: no ra clip is predicted calm, no cr clip sad or angry.
    const at = (c: string) => r.classes.indexOf(c);
    const ra = report.perCorpus[0].confusion.flat().reduce((x: number, y: number) => x + y, 0);
    expect(ra).toBe(8);
    // Rows of classes only ra has never predict calm; cr's calm row never predicts sad or angry.
    for (const c of ['sad', 'angry']) expect(r.report.confusion[at(c)]![at('calm')]).toBe(0);
    for (const c of ['sad', 'angry']) expect(r.report.confusion[at('calm')]![at(c)]).toBe(0);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    // The validation loss is the cross-entropy over each clip's own corpus's classes.
    const last = readValidationLogits(out).at(-1)!;
    const mask = classMaskOf([['neutral', 'happy', 'sad', 'angry'], ['neutral', 'calm', 'happy']], r.classes, Array.from({ length: 36 }, (_, i) => (i < 24 ? 0 : 1)))!; // ra's 24 clips first
    const flat = Float32Array.from(last.logp);
    const masked = maskedMeanCrossEntropy(flat, last.labels, 5, 0.1, r.split.val, mask);
    expect(r.state.history.at(-1)!.valLoss).toBeCloseTo(masked, 3);
    expect(Math.abs(meanCrossEntropy(flat, last.labels, 5, 0.1) - masked)).toBeGreaterThan(1e-3);
    // ser evaluate with the same corpora by name: --held-out gives the report's figures, per corpus too.
    const held = JSON.parse(execFileSync(process.execPath, [BIN, 'evaluate', '--model', out, '--data', `ra=${a}`, '--data', `cr=${b}`, '--held-out', '--json', '--cache', join(out, 'cache', 'features')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    expect(held.n).toBe(14);
    expect(held.confusion).toEqual(r.report.confusion);
    expect(held.perCorpus.map((c: any) => [c.name, c.confusion])).toEqual(report.perCorpus.map((c: any) => [c.name, c.confusion]));
    // --adapt-bn: each corpus's held-out clips predicted with batch-norm statistics of their own (predict.ts; test/train/adapt-batchnorm.test.ts).
    const adapted = JSON.parse(execFileSync(process.execPath, [BIN, 'evaluate', '--model', out, '--data', `ra=${a}`, '--data', `cr=${b}`, '--held-out', '--adapt-bn', '--json', '--cache', join(out, 'cache', 'features')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    expect(adapted.n).toBe(14);
    expect(adapted.perCorpus.map((c: any) => c.name)).toEqual(['ra', 'cr']);
    const single = spawnSync(process.execPath, [BIN, 'evaluate', '--model', out, '--data', a, '--held-out'], { encoding: 'utf8' });
    expect(single.stderr).toMatch(/names the validation clips of several corpora \(ra, cr\): give --data once per corpus, as NAME=DIR/);
    expect(md).toMatch(/## Per corpus/);
    expect(md).toMatch(/- Corpora: ra \(.*: 24 clips, 3 speakers, neutral happy sad angry\); cr \(.*: 12 clips, 2 speakers, neutral calm happy\)/);
  }, 600_000);

  it('--val-corpus trains on the other corpus and says how many clips it left out', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ser-corpora-val-'));
    const r = await trainRun(gpu(), (c) => new GpuFeatureExtractor(gpu(), c), tinyRunOptions('', out, { data: undefined, corpora: [{ name: 'ra', data: a }, { name: 'cr', data: b }], valCorpus: 'cr' }));
    await writeReport(r);
    expect(r.classes).toEqual(['neutral', 'happy', 'sad', 'angry']);
    expect(r.split.val).toHaveLength(8); // cr's neutral and happy clips: 2 speakers x 2 classes x 2 takes
    expect(r.perCorpus!.map((c) => [c.name, c.classes])).toEqual([['cr', ['neutral', 'happy']]]);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/validated on corpus cr over the classes both sides share \(neutral, happy\); 4 of its clips, of classes the training corpora lack \(calm\), are left out/);
  }, 600_000);
});

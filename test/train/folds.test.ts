// `ser train --folds K`: the summary's numbers are the mean and sample deviation of the per-fold
// reports; speaker folds validate every speaker exactly once and are a function of the seed; a tiny
// 3-fold run writes one complete run folder per fold plus splits.json, folds.json and folds.md whose
// figures match the folds' own report.json files; a stopped run continues (finished folds read, the
// stopped one resumed from its checkpoint) and refuses other settings; --only-folds splits one run
// over several calls; bad fold settings fail clearly before training.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FeatureConfig } from '../../src/dsp/config';
import { GpuFeatureExtractor } from '../../src/dsp/gpu-features';
import { writeWav } from '../../src/dsp/wav';
import { spread, summariseFolds, type FoldOutcome } from '../../src/train/protocols/folds';
import { foldsRun, type FoldsRunOptions } from '../../src/train/protocols/folds.node.ts';
import type { Emotion } from '../../src/train/data/labels';
import { defaultLoopOptions } from '../../src/train/loop/loop';
import { reportFromConfusion } from '../../src/train/scores/metrics';
import { speakerKFold } from '../../src/train/data/splits';
import { synthCorpus } from '../../src/train/data/synth';
import { writeSynthCorpus } from '../../src/train/data/synth.node.ts';
import { useGpu } from '../harness';
import { TINY_MODEL } from './tiny-run';

const gpu = useGpu();
const BIN = join(__dirname, '../../bin/ser.mjs');
const CLASSES: Emotion[] = ['neutral', 'happy', 'sad', 'angry'];

function corpus(speakers: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'ser-folds-data-'));
  writeSynthCorpus(dir, synthCorpus({ speakers, clipsPerClassPerSpeaker: 2, seed: 4, classes: CLASSES }), { layout: 'ravdess' });
  return dir;
}

const sampleStd = (xs: number[]): number => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
};

describe('the folds summary', () => {
  it('spread is mean, sample standard deviation, min and max', () => {
    expect(spread([0.5, 0.7, 0.9])).toEqual({ mean: expect.closeTo(0.7, 12), std: expect.closeTo(0.2, 12), min: 0.5, max: 0.9 });
    expect(spread([0.4])).toEqual({ mean: 0.4, std: 0, min: 0.4, max: 0.4 });
    expect(() => spread([])).toThrow();
  });

  it('summarises per-fold reports: spreads, per-class recall over folds that have the class, pooled confusions', () => {
    const names = ['a', 'b', 'c'];
    // Fold 3 has no validation examples of class c.
    const confusions = [[[3, 1, 0], [0, 2, 2], [1, 0, 3]], [[4, 0, 0], [1, 1, 0], [0, 2, 2]], [[2, 2, 0], [0, 3, 0], [0, 0, 0]]];
    const outcomes: FoldOutcome[] = confusions.map((c, i) => ({
      fold: i + 1, valSpeakers: [`S${i}`], trainExamples: 20, augmentedExamples: 0, valExamples: 12, bestEpoch: 1, epochs: 2, seconds: 1, report: reportFromConfusion(c, names),
    }));
    const s = summariseFolds(outcomes, names, 7);
    const reports = outcomes.map((o) => o.report);
    for (const key of ['accuracy', 'uar', 'macroF1'] as const) {
      const xs = reports.map((r) => r[key]);
      expect(s[key].mean).toBeCloseTo(xs.reduce((a, b) => a + b, 0) / 3, 12);
      expect(s[key].std).toBeCloseTo(sampleStd(xs), 12);
      expect(s[key].min).toBe(Math.min(...xs));
      expect(s[key].max).toBe(Math.max(...xs));
    }
    expect(s.perClassRecall[2]).toEqual({ name: 'c', mean: expect.closeTo((3 / 4 + 2 / 4) / 2, 12), folds: 2 });
    expect(s.perClassRecall[0]!.mean).toBeCloseTo((3 / 4 + 1 + 2 / 4) / 3, 12);
    expect(s.pooled.confusion).toEqual([[9, 3, 0], [1, 6, 2], [1, 2, 5]]);
    expect(s.pooled.accuracy).toBeCloseTo(20 / 29, 12);
    expect(s.perFold[2]!.recall.c).toBeNull();
    expect(() => summariseFolds(outcomes, ['a', 'b', 'x'], 7)).toThrow(/other classes/);
  });
});

describe('speaker folds', () => {
  it('validate every speaker exactly once, never on both sides, and depend only on the seed', () => {
    const ex = Array.from({ length: 7 }, (_, s) => CLASSES.map((label) => ({ label, speaker: `S${s + 1}` }))).flat();
    for (const k of [2, 3, 7]) {
      const folds = speakerKFold(ex, { folds: k, seed: 3 });
      const validated = folds.flatMap((f) => [...new Set(f.val.map((i) => ex[i]!.speaker))]);
      expect(validated.sort()).toEqual([...new Set(ex.map((e) => e.speaker))].sort());
      for (const f of folds) {
        const train = new Set(f.train.map((i) => ex[i]!.speaker));
        expect(f.val.filter((i) => train.has(ex[i]!.speaker))).toEqual([]);
        expect(f.train.length + f.val.length).toBe(ex.length);
      }
      expect(speakerKFold(ex, { folds: k, seed: 3 })).toEqual(folds);
    }
    // Equal-sized speakers: the seed decides who goes where.
    const seen = new Set([0, 1, 2, 3, 4].map((seed) => speakerKFold(ex, { folds: 3, seed }).map((f) => f.description.valSpeakers!.join('+')).join('|')));
    expect(seen.size).toBeGreaterThan(1);
  });
});

describe('ser train --folds on a tiny config', () => {
  const data = corpus(3);

  it('trains one model per fold, continues a stopped run, and writes splits, per-fold run folders and a summary matching them', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ser-folds-out-'));
    const lines: string[] = [];
    const opts: FoldsRunOptions = {
      data, out, folds: 3, cacheDir: join(out, 'cache'), lr: 3e-3,
      loop: { ...defaultLoopOptions, epochs: 2, batch: 4, seed: 5, patience: 0, readEvery: 2 },
      model: TINY_MODEL,
      features: { frames: 16 },
      log: (l) => void lines.push(l),
    };
    const extractor = (c: FeatureConfig) => new GpuFeatureExtractor(gpu(), c);
    // Stop in fold 2's second epoch: fold 1 finished, fold 2 has epoch 1 checkpointed, no summary.
    let foldNow = 0;
    let epoch = 0;
    const stopped = await foldsRun(gpu(), extractor, { ...opts, log: () => {}, onFold: (f) => void (foldNow = f), onProgress: (p) => void (epoch = p.epoch), shouldStop: () => foldNow === 2 && epoch === 2 });
    expect(stopped.summary).toBeNull();
    expect(existsSync(join(out, 'fold-1', 'report.json'))).toBe(true);
    const fold2Checkpoint = JSON.parse(readFileSync(join(out, 'fold-2', 'checkpoint.json'), 'utf8'));
    expect(fold2Checkpoint.loop.epoch).toBe(1);
    const fold2Epoch1Seconds = fold2Checkpoint.loop.history[0].seconds as number;
    expect(existsSync(join(out, 'fold-3'))).toBe(false);
    expect(existsSync(join(out, 'folds.json'))).toBe(false);
    const r = await foldsRun(gpu(), extractor, opts);
    expect(lines.some((l) => /fold 1 of 3: finished before, read from/.test(l))).toBe(true);
    expect(lines.some((l) => /fold 2 of 3: continuing its checkpoint/.test(l))).toBe(true);
    expect(lines.some((l) => /resuming after epoch 1/.test(l))).toBe(true);
    expect(r.folds.map((f) => f.split.description.fold)).toEqual([2, 3]);
    const splits = JSON.parse(readFileSync(join(out, 'splits.json'), 'utf8'));
    const speakerOf = (f: string) => f.split('/')[0];
    const validated = splits.splits.flatMap((s: { valFiles: string[] }) => [...new Set(s.valFiles.map(speakerOf))]);
    expect(validated.sort()).toEqual(['Actor_01', 'Actor_02', 'Actor_03']);
    expect(lines.filter((l) => /^ {2}fold \d: validation speakers/.test(l))).toHaveLength(3);

    const reports = [1, 2, 3].map((i) => {
      const dir = join(out, `fold-${i}`);
      for (const f of ['model.safetensors', 'model.json', 'checkpoint.json', 'report.md', 'report.json', 'confusion.svg', 'curves.svg']) expect(existsSync(join(dir, f)), `${dir}/${f}`).toBe(true);
      const model = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
      expect(model.split).toMatchObject({ kind: 'speaker-kfold', fold: i, folds: 3, valSpeakers: splits.splits[i - 1].valSpeakers });
      return JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    });
    const summary = JSON.parse(readFileSync(join(out, 'folds.json'), 'utf8'));
    for (const key of ['accuracy', 'uar', 'macroF1'] as const) {
      const xs = reports.map((rep) => rep[key] as number);
      expect(summary[key].mean).toBeCloseTo(xs.reduce((a, b) => a + b, 0) / 3, 12);
      expect(summary[key].std).toBeCloseTo(sampleStd(xs), 12);
      expect(summary[key].min).toBe(Math.min(...xs));
      expect(summary[key].max).toBe(Math.max(...xs));
    }
    expect(summary.pooled.n).toBe(24);
    expect(summary.perFold.map((f: { valExamples: number }) => f.valExamples).reduce((a: number, b: number) => a + b, 0)).toBe(24);
    const md = readFileSync(join(out, 'folds.md'), 'utf8');
    expect(md).toContain('3-fold cross-validation by speaker');
    expect(md).toContain(`| accuracy | ${(100 * summary.accuracy.mean).toFixed(1)} | ${(100 * summary.accuracy.std).toFixed(1)} |`);
    expect(readFileSync(join(out, 'confusion.svg'), 'utf8')).toMatch(/^<svg/);
    expect(reports[1].epochs).toHaveLength(2);
    // The resumed fold's time counts both calls' epochs: epoch 1 ran in the stopped call.
    expect(reports[1].epochs[0].seconds).toBe(fold2Epoch1Seconds);
    reports.forEach((rep, i) => {
      const sum = rep.epochs.reduce((a: number, e: { seconds: number }) => a + e.seconds, 0);
      expect(rep.epochsSeconds).toBeCloseTo(sum, 9);
      expect(summary.perFold[i].seconds).toBeCloseTo(sum, 9);
    });
    expect(summary.perFold[1].seconds).toBeGreaterThan(fold2Epoch1Seconds);

    // Repeating the command retrains nothing and gives the same summary; other settings are refused.
    const again: string[] = [];
    const r2 = await foldsRun(gpu(), extractor, { ...opts, log: (l) => void again.push(l) });
    expect(again.filter((l) => /finished before/.test(l))).toHaveLength(3);
    expect(r2.folds).toHaveLength(0);
    expect(r2.summary!.accuracy).toEqual(r.summary!.accuracy);
    await expect(foldsRun(gpu(), extractor, { ...opts, lr: 1e-3 })).rejects.toThrow(/holds a --folds run with other settings/);
  });

  it('--only-folds trains just those folds, leaves the others alone, and the call that finds every fold finished writes the summary', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ser-folds-only-'));
    const lines: string[] = [];
    const opts: FoldsRunOptions = {
      data, out, folds: 3, cacheDir: join(out, 'cache'), lr: 3e-3,
      loop: { ...defaultLoopOptions, epochs: 1, batch: 4, seed: 2, patience: 0, readEvery: 2 },
      model: TINY_MODEL,
      features: { frames: 16 },
      log: (l) => void lines.push(l),
    };
    const extractor = (c: FeatureConfig) => new GpuFeatureExtractor(gpu(), c);
    // Fold 1 as another call would leave it mid-run: a folder with a checkpoint marker it must not touch.
    mkdirSync(join(out, 'fold-1'), { recursive: true });
    writeFileSync(join(out, 'fold-1', 'checkpoint.json'), 'another call is training this fold');
    const first = await foldsRun(gpu(), extractor, { ...opts, onlyFolds: [2] });
    expect(first.summary).toBeNull();
    expect(first.pending).toEqual([1, 3]);
    expect(first.folds.map((f) => f.split.description.fold)).toEqual([2]);
    expect(readFileSync(join(out, 'fold-1', 'checkpoint.json'), 'utf8')).toBe('another call is training this fold');
    expect(existsSync(join(out, 'fold-2', 'report.json'))).toBe(true);
    expect(existsSync(join(out, 'fold-3'))).toBe(false);
    expect(existsSync(join(out, 'folds.json'))).toBe(false);
    expect(lines.some((l) => /fold 1 of 3: not finished and not in --only-folds 2/.test(l))).toBe(true);
    expect(lines.some((l) => /folds 1, 3 not finished yet/.test(l))).toBe(true);

    await rm(join(out, 'fold-1'), { recursive: true });
    lines.length = 0;
    const second = await foldsRun(gpu(), extractor, { ...opts, onlyFolds: [3, 1] });
    expect(second.pending).toEqual([]);
    expect(second.folds.map((f) => f.split.description.fold)).toEqual([1, 3]);
    expect(lines.some((l) => /fold 2 of 3: finished before/.test(l))).toBe(true);
    const summary = JSON.parse(readFileSync(join(out, 'folds.json'), 'utf8'));
    const accuracies = [1, 2, 3].map((i) => JSON.parse(readFileSync(join(out, `fold-${i}`, 'report.json'), 'utf8')).accuracy as number);
    expect(summary.perFold).toHaveLength(3);
    expect(summary.accuracy.mean).toBeCloseTo(accuracies.reduce((a, b) => a + b, 0) / 3, 12);
    expect(second.summary!.accuracy.mean).toBe(summary.accuracy.mean);
    await expect(foldsRun(gpu(), extractor, { ...opts, onlyFolds: [4] })).rejects.toThrow(/--only-folds must name folds 1..3/);
  });

  it('the CLI prints the summary as JSON on stdout with --json', () => {
    const out = mkdtempSync(join(tmpdir(), 'ser-folds-cli-'));
    const r = spawnSync(process.execPath, [BIN, 'train', '--data', data, '--folds', '2', '--epochs', '1', '--batch', '8', '--out', out, '--cache', join(out, 'cache'), '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({ out, folds: 2, seed: 0, classes: CLASSES });
    expect(json.perFold).toHaveLength(2);
    expect(json.accuracy.mean).toBeCloseTo((json.perFold[0].accuracy + json.perFold[1].accuracy) / 2, 12);
    expect(r.stderr).toMatch(/fold 1: validation speakers/);
  });

  describe('bad fold settings fail clearly', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [BIN, 'train', '--epochs', '1', ...args], { encoding: 'utf8' });
    const cache = mkdtempSync(join(tmpdir(), 'ser-folds-cache-'));

    it('K below 2, above the number of speakers, and data without speakers', () => {
      expect(run('--data', data, '--folds', '1').stderr).toMatch(/--folds must be at least 2/);
      const many = run('--data', data, '--folds', '4', '--cache', cache, '--out', join(cache, 'o1'));
      expect(many.status).not.toBe(0);
      expect(many.stderr).toMatch(/--folds 4: .*folds <= speakers \(3\), got 4/);
      const labels = mkdtempSync(join(tmpdir(), 'ser-folds-labels-'));
      for (const label of ['happy', 'sad']) {
        mkdirSync(join(labels, label));
        for (let k = 0; k < 3; k++) writeFileSync(join(labels, label, `c${k}.wav`), writeWav([Float32Array.from({ length: 22050 }, (_, i) => 0.1 * Math.sin(i * (0.05 + 0.01 * k)))], 22050));
      }
      const anon = run('--data', labels, '--folds', '2', '--cache', cache, '--out', join(cache, 'o2'));
      expect(anon.status).not.toBe(0);
      expect(anon.stderr).toMatch(/--folds 2: .*needs a speaker for every example/);
    });

    it('--only-folds without --folds', () => {
      const r = run('--data', data, '--only-folds', '1');
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/--only-folds picks folds of a --folds run: give --folds K/);
    });

    it('--folds with --resume, --val-speakers, --split random, --val or folds it does not have', () => {
      for (const [args, msg] of [
        [['--resume', cache], /--folds runs continue by repeating the same command/],
        [['--val-speakers', 'Actor_01'], /cannot be combined with --val-speakers/],
        [['--split', 'random'], /cannot be combined with --split random/],
        [['--val', '0.3'], /leave --val out/],
        [['--only-folds', '4'], /--folds 3 has folds 1..3 \(no fold 4\)/],
        [['--only-folds', '0'], /expected fold numbers from 1/],
        [['--only-folds', '2,2'], /expected fold numbers from 1/],
      ] as const) {
        const r = run('--data', data, '--folds', '3', ...args);
        expect(r.status, args.join(' ')).not.toBe(0);
        expect(r.stderr).toMatch(msg);
      }
    });
  });
});

// `ser train --seeds LIST`: the summary's numbers are the mean and sample deviation of the seeds'
// reports, with each class's mean and lowest recall; the seed list parses ranges and lists and refuses
// the rest; a tiny 2-seed run writes one complete run folder per seed (each with its own split) and a
// summary matching their report.json files; a stopped run continues its seed's checkpoint when the
// command is repeated, finished seeds are read rather than retrained, other settings in the same folder
// are refused; the CLI refuses --seeds with --folds, --seed or --resume.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seedList } from '../../src/cli/options';
import type { FeatureConfig } from '../../src/dsp/config';
import { GpuFeatureExtractor } from '../../src/dsp/gpu-features';
import type { Emotion } from '../../src/train/data/labels';
import { defaultLoopOptions } from '../../src/train/loop/loop';
import { reportFromConfusion } from '../../src/train/scores/metrics';
import { seedsProtocol, seedsSettings, summariseSeeds, type SeedOutcome } from '../../src/train/protocols/seeds';
import { seedsRun, type SeedsRunOptions } from '../../src/train/protocols/seeds.node.ts';
import { synthCorpus } from '../../src/train/data/synth';
import { writeSynthCorpus } from '../../src/train/data/synth.node.ts';
import { useGpu } from '../harness';
import { TINY_MODEL } from './tiny-run';

const gpu = useGpu();
const BIN = join(__dirname, '../../bin/ser.mjs');
const CLASSES: Emotion[] = ['neutral', 'happy', 'sad', 'angry'];

describe('the seeds summary', () => {
  it('gives spreads over seeds and each class\'s mean and lowest recall', () => {
    const names = ['a', 'b'];
    const outcomes: SeedOutcome[] = [[[3, 1], [1, 3]], [[4, 0], [2, 2]], [[2, 2], [0, 4]]].map((c, i) => ({
      seed: i * 2, trainExamples: 16, valExamples: 8, bestEpoch: 1, epochs: 2, seconds: 1, report: reportFromConfusion(c, names),
    }));
    const s = summariseSeeds(outcomes, names);
    expect(s.seeds).toEqual([0, 2, 4]);
    expect(s.accuracy.mean).toBeCloseTo((6 / 8 + 6 / 8 + 6 / 8) / 3, 12);
    expect(s.accuracy.std).toBeCloseTo(0, 12);
    expect(s.perClassRecall[0]).toEqual({ name: 'a', mean: expect.closeTo((3 / 4 + 1 + 2 / 4) / 3, 12), min: 0.5, seeds: 3 });
    expect(s.perClassRecall[1]).toEqual({ name: 'b', mean: expect.closeTo((3 / 4 + 2 / 4 + 1) / 3, 12), min: 0.5, seeds: 3 });
    expect(s.perSeed[1]!.recall).toEqual({ a: 1, b: 0.5 });
    expect(() => summariseSeeds(outcomes, ['a', 'x'])).toThrow(/seed 0 reports other classes/);
  });

  it('the seed list takes a,b,c or lo-hi and refuses anything else', () => {
    expect(seedList('0-4')).toEqual([0, 1, 2, 3, 4]);
    expect(seedList('0,3, 7')).toEqual([0, 3, 7]);
    for (const bad of ['3', '1,1', 'a,b', '4-2', '1,-2', '1,,2', '2.5,3']) expect(() => seedList(bad), bad).toThrow(/at least two different non-negative whole numbers/);
  });
});

describe('the seeds summary\'s protocol and settings lines', () => {
  it('name the split as every seed drew it, not as the last seed did', () => {
    expect(seedsProtocol({ split: 'random', val: 0.2 }, [240, 240, 240])).toBe('random stratified clip split, 240 validation clips per seed');
    expect(seedsProtocol({ split: 'speaker', val: 0.2, valSpeakers: ['02', '04'] }, [96, 96])).toBe('speaker-independent split, validation speakers 02, 04 for every seed (96 clips)');
    expect(seedsProtocol({ split: 'speaker', val: 0.2 }, [240, 180, 300])).toBe("speaker-independent split, about 20% of the speakers drawn for validation by each seed (180-300 clips; each seed's report.md names them)");
  });

  it('state the schedule, sampling, dropout, BN and inputs', () => {
    const loop = { ...defaultLoopOptions, epochs: 40, patience: 0 };
    const half = { stem: { filters: 32, dropout: 0.1 }, blocks: [{ filters: 64, dropout: 0.15 }, { filters: 128, dropout: 0.15 }], dense: [{ units: 256, dropout: 0.2 }, { units: 128, dropout: 0.15 }] };
    expect(seedsSettings({ lr: 1e-3, loop: { ...loop, schedule: { kind: 'cosine', lr: 1e-3 }, balance: true }, model: half, windows: { frames: 64, evalWindows: 3 }, clipFrames: 128, augment: false }))
      .toBe('up to 40 epochs, batch 32, lr 0.001 with cosine decay; class-balanced epochs; dropout 0.1/0.15/0.15/0.2/0.15, label smoothing 0.1, BN momentum 0.99, BN recalibrated on 256 clips; 64-frame windows of 128 frames, 3 at evaluation; no masks; no augmentation');
    expect(seedsSettings({ lr: 3e-3, loop: { ...loop, patience: 5, bnRecalibration: 0, masks: { time: [2, 8], rows: [1, 4] } }, augment: true }))
      .toBe('up to 40 epochs (early stop after 5 without improvement), batch 32, lr 0.003 halved on plateaus; natural class frequencies; dropout 0.2/0.3/0.3/0.4/0.3, label smoothing 0.1, BN momentum 0.99; whole clips; masks 2:8 (time) 1:4 (rows); augmented copies');
    expect(seedsSettings({ lr: 1e-3, loop: { ...loop, augmentSwap: 0.5 }, augment: true })).toMatch(/; augmented copies swapped in with probability 0\.5$/);
    // Decisions and the other regularisers a run can add are named too (run 37's summary once left out its weight decay).
    expect(seedsSettings({ lr: 1e-3, loop: { ...loop, weightDecay: 0.5, logitAdjust: true }, augment: false }))
      .toBe('up to 40 epochs, batch 32, lr 0.001 halved on plateaus; natural class frequencies, logit-adjusted decisions; dropout 0.2/0.3/0.3/0.4/0.3, label smoothing 0.1, BN momentum 0.99, BN recalibrated on 256 clips, AdamW weight decay 0.5; whole clips; no masks; no augmentation');
    expect(seedsSettings({ lr: 1e-3, loop: { ...loop, mixup: { alpha: 0.4 } }, augment: false })).toMatch(/BN recalibrated on 256 clips, mixup alpha 0\.4; /);
  });
});

describe('ser train --seeds on a tiny config', () => {
  const data = mkdtempSync(join(tmpdir(), 'ser-seeds-data-'));
  writeSynthCorpus(data, synthCorpus({ speakers: 2, clipsPerClassPerSpeaker: 3, seed: 6, classes: CLASSES }), { layout: 'ravdess' });
  const options = (out: string, lines: string[], extra: Partial<SeedsRunOptions> = {}): SeedsRunOptions => ({
    data, split: 'random', val: 0.25, out, cacheDir: join(out, 'cache'), lr: 3e-3, seeds: [1, 4],
    loop: { ...defaultLoopOptions, epochs: 2, batch: 8, seed: 0, patience: 0, readEvery: 2 },
    model: TINY_MODEL,
    features: { frames: 16 },
    log: (l) => void lines.push(l),
    ...extra,
  });
  const extractor = (c: FeatureConfig) => new GpuFeatureExtractor(gpu(), c);

  it('trains one run per seed, summarises them, continues a stopped run, reuses finished seeds and extends them all for more epochs', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ser-seeds-out-'));
    // Stop in the second seed's second epoch: no summary; the first seed finished, the second has epoch 1 checkpointed.
    let seedsStarted = 0;
    let epoch = 0;
    const stopped = await seedsRun(gpu(), extractor, options(out, [], {
      onSeed: () => void seedsStarted++,
      onProgress: (p) => void (epoch = p.epoch),
      shouldStop: () => seedsStarted === 2 && epoch === 2,
    }));
    expect(stopped.summary).toBeNull();
    expect(existsSync(join(out, 'seed-1', 'report.json'))).toBe(true);
    expect(existsSync(join(out, 'seed-4', 'report.json'))).toBe(false);
    expect(JSON.parse(readFileSync(join(out, 'seed-4', 'checkpoint.json'), 'utf8')).loop.epoch).toBe(1);
    expect(existsSync(join(out, 'seeds.json'))).toBe(false);
    // As a single `ser train` stopped by Ctrl-C would, leave a report of the unfinished run: it is resumed, not read.
    const partial = JSON.parse(readFileSync(join(out, 'seed-1', 'report.json'), 'utf8'));
    writeFileSync(join(out, 'seed-4', 'report.json'), JSON.stringify({ ...partial, protocol: { ...partial.protocol, seed: 4 }, epochs: partial.epochs.slice(0, 1), bestEpoch: 1 }));

    const lines: string[] = [];
    const r = await seedsRun(gpu(), extractor, options(out, lines));
    expect(lines.some((l) => /seed 1 \(1 of 2\): finished before, read from/.test(l))).toBe(true);
    expect(lines.some((l) => /seed 4 \(2 of 2\): continuing its checkpoint/.test(l))).toBe(true);
    expect(lines.some((l) => /resuming after epoch 1/.test(l))).toBe(true);
    expect(r.summary!.seeds).toEqual([1, 4]);
    const reports = [1, 4].map((s) => JSON.parse(readFileSync(join(out, `seed-${s}`, 'report.json'), 'utf8')));
    expect(reports.map((rep) => rep.protocol.seed)).toEqual([1, 4]);
    expect(reports[1].epochs).toHaveLength(2);
    // Each seed draws its own split.
    const splits = [1, 4].map((s) => JSON.parse(readFileSync(join(out, `seed-${s}`, 'split.json'), 'utf8')).valFiles.join());
    expect(splits[0]).not.toBe(splits[1]);
    const summary = JSON.parse(readFileSync(join(out, 'seeds.json'), 'utf8'));
    for (const key of ['accuracy', 'uar', 'macroF1'] as const) {
      const xs = reports.map((rep) => rep[key] as number);
      expect(summary[key].mean).toBeCloseTo((xs[0] + xs[1]) / 2, 12);
      expect(summary[key].std).toBeCloseTo(Math.abs(xs[0] - xs[1]) / Math.SQRT2, 12);
    }
    expect(readFileSync(join(out, 'seeds.md'), 'utf8')).toContain(`| accuracy | ${(100 * summary.accuracy.mean).toFixed(1)} | ${(100 * summary.accuracy.std).toFixed(1)} |`);

    // Repeating the command retrains nothing and gives the same summary; other settings are refused.
    const again: string[] = [];
    const r2 = await seedsRun(gpu(), extractor, options(out, again));
    expect(again.filter((l) => /finished before/.test(l))).toHaveLength(2);
    expect(r2.summary!.accuracy).toEqual(r.summary!.accuracy);
    await expect(seedsRun(gpu(), extractor, options(out, [], { lr: 1e-3 }))).rejects.toThrow(/holds a --seeds run with other settings/);

    // A larger --epochs continues every seed from its checkpoint; a smaller one is refused.
    const loop = options(out, []).loop;
    await expect(seedsRun(gpu(), extractor, options(out, [], { loop: { ...loop, epochs: 1 } }))).rejects.toThrow(/holds a --seeds run with other settings/);
    const longer: string[] = [];
    const r3 = await seedsRun(gpu(), extractor, options(out, longer, { loop: { ...loop, epochs: 3 } }));
    expect(longer.filter((l) => /continuing its checkpoint/.test(l))).toHaveLength(2);
    expect(longer.filter((l) => /resuming after epoch 2/.test(l))).toHaveLength(2);
    expect([1, 4].map((s) => JSON.parse(readFileSync(join(out, `seed-${s}`, 'report.json'), 'utf8')).epochs.length)).toEqual([3, 3]);
    expect(JSON.parse(readFileSync(join(out, 'seeds-settings.json'), 'utf8')).loop.epochs).toBe(3);
    expect(r3.summary!.seeds).toEqual([1, 4]);
  });

  it('the CLI refuses --seeds with --folds, --seed or --resume', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [BIN, 'train', '--seeds', '0-1', ...args], { encoding: 'utf8' });
    expect(run('--folds', '2').stderr).toMatch(/--seeds and --folds are two protocols/);
    expect(run('--seed', '3').stderr).toMatch(/--seeds gives the seeds: leave --seed out/);
    expect(run('--resume', 'x').stderr).toMatch(/--seeds runs continue by repeating the same command/);
    expect(spawnSync(process.execPath, [BIN, 'train', '--seeds', '3'], { encoding: 'utf8' }).stderr).toMatch(/--seeds.*at least two different/);
  });
});

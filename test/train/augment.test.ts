// `ser train --augment`: augmented copies are a function of file content, seed and settings (not of
// the file's name) and are cached; they join the training side only, in single runs and in every
// fold; the scaler is the one fitted on the original training clips; a checkpoint made with other
// augmentation settings is not resumed; with --augment-swap the copies stand in for their clips
// instead of lengthening the epoch; bad augmentation flags fail clearly. The optional room and
// microphone transforms (--augment-reverb, --augment-lowpass, --augment-tilt) leave the cache key of
// configs without them unchanged, change the copies when on, and run end to end through the CLI.

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AugmentConfig } from '../../src/dsp/augment';
import { featureConfig } from '../../src/dsp/config';
import { featuresOfFiles } from '../../src/dsp/files.node.ts';
import { GpuFeatureExtractor } from '../../src/dsp/gpu-features';
import { FeaturePipeline } from '../../src/dsp/pipeline';
import { augmentConfig, type TrainFlags } from '../../src/cli/train';
import { augmentVariant } from '../../src/train/data/data.node.ts';
import { foldsRun } from '../../src/train/protocols/folds.node.ts';
import type { Emotion } from '../../src/train/data/labels';
import { defaultLoopOptions } from '../../src/train/loop/loop';
import { trainRun, type TrainRunOptions } from '../../src/train/protocols/run.node.ts';
import { synthCorpus } from '../../src/train/data/synth';
import { writeSynthCorpus } from '../../src/train/data/synth.node.ts';
import { useGpu } from '../harness';
import { TINY_MODEL } from './tiny-run';

const gpu = useGpu();
const BIN = join(__dirname, '../../bin/ser.mjs');
const CLASSES: Emotion[] = ['neutral', 'happy', 'sad', 'angry'];
const AUG: AugmentConfig = { copies: 2, snrDb: [10, 30], shiftMs: 100, speed: [0.9, 1.1], gainDb: 6 };

const data = mkdtempSync(join(tmpdir(), 'ser-aug-data-'));
writeSynthCorpus(data, synthCorpus({ speakers: 3, clipsPerClassPerSpeaker: 2, seed: 6, classes: CLASSES }), { layout: 'ravdess' });

function options(out: string, extra: Partial<TrainRunOptions> = {}): TrainRunOptions {
  return {
    data, split: 'speaker', val: 0.25, valSpeakers: ['Actor_03'], out, cacheDir: join(out, 'cache'), lr: 3e-3,
    loop: { ...defaultLoopOptions, epochs: 1, batch: 8, seed: 5, patience: 0, readEvery: 2 },
    model: TINY_MODEL,
    features: { frames: 16 },
    log: () => {},
    ...extra,
  };
}
const extractor = (c: ReturnType<typeof featureConfig>) => new GpuFeatureExtractor(gpu(), c);

describe('augmented features', () => {
  it('depend on content, seed and copy number, not on the name, and come back from the cache unchanged', async () => {
    const fc = featureConfig({ frames: 16 });
    const pipeline = new FeaturePipeline(fc, extractor(fc));
    const actor = join(data, 'Actor_01');
    const file = join(actor, readdirSync(actor).sort()[0]!);
    const renamed = join(mkdtempSync(join(tmpdir(), 'ser-aug-copy-')), 'other-name.wav');
    copyFileSync(file, renamed);
    const cacheDir = mkdtempSync(join(tmpdir(), 'ser-aug-cache-'));
    const run = (copy: number, seed = 1, cache?: string) => featuresOfFiles(pipeline, [file, renamed], { variant: augmentVariant(AUG, fc, seed, copy), cacheDir: cache });
    const plain = (await featuresOfFiles(pipeline, [file])).clips[0]!.features;
    const c0 = await run(0, 1, cacheDir);
    const [a, b] = c0.clips.map((c) => c!.features);
    expect(a!.every(Number.isFinite)).toBe(true);
    expect(b).toEqual(a);
    expect(a).not.toEqual(plain);
    expect((await run(1)).clips[0]!.features).not.toEqual(a);
    expect((await run(0, 2)).clips[0]!.features).not.toEqual(a);
    const again = await run(0, 1, cacheDir);
    expect(again.cacheHits).toBe(2);
    expect(again.clips[0]!.features).toEqual(a);
  });

  it('keep the cache key of a config without reverb, low-pass or tilt; with them the copy differs', async () => {
    const fc = featureConfig({ frames: 16 });
    // The key as it was before the optional transforms existed: copies cached then are still found.
    expect(augmentVariant(AUG, fc, 1, 0).key).toBe('{"augment":1,"params":{"snrDb":[10,30],"shiftMs":100,"speed":[0.9,1.1],"gainDb":6},"seed":1,"copy":0}');
    const pipeline = new FeaturePipeline(fc, extractor(fc));
    const actor = join(data, 'Actor_01');
    const file = join(actor, readdirSync(actor).sort()[0]!);
    const features = async (c: AugmentConfig) => (await featuresOfFiles(pipeline, [file], { variant: augmentVariant(c, fc, 1, 0) })).clips[0]!.features;
    const plain = await features(AUG);
    for (const extra of [{ reverbRt60: [0.3, 0.6] }, { lowpassHz: [3400, 3400] }, { tiltDb: 12 }] as Partial<AugmentConfig>[]) {
      const f = await features({ ...AUG, ...extra });
      expect(f.every(Number.isFinite)).toBe(true);
      expect(f, JSON.stringify(extra)).not.toEqual(plain);
    }
  });
});

describe('ser train --augment on a tiny config', () => {
  it('adds copies of training clips only, keeps the scaler of the originals, and records the settings', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ser-aug-out-'));
    const r = await trainRun(gpu(), extractor, options(out, { augment: AUG }));
    const train = new Set(r.split.train);
    expect(r.augmentedSources).toHaveLength(2 * r.split.train.length);
    expect(r.augmentedSources.every((s) => train.has(s))).toBe(true);
    expect(r.report.total).toBe(r.split.val.length);
    const model = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    expect(model.augment).toEqual(AUG);
    const { writeReport } = await import('../../src/train/protocols/report.node.ts');
    await writeReport(r);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report).toMatchObject({ trainExamples: 16, augmentedExamples: 32, valExamples: 8 });
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/- Augmentation: 32 augmented copies \(.*\), added to every epoch;/);
    const plainOut = mkdtempSync(join(tmpdir(), 'ser-aug-plain-'));
    await trainRun(gpu(), extractor, options(plainOut));
    expect(JSON.parse(readFileSync(join(plainOut, 'model.json'), 'utf8')).scaler).toEqual(model.scaler);
    // Resuming with other augmentation settings would train on other data.
    await expect(trainRun(gpu(), extractor, options(out, { resume: true, loop: { ...options(out).loop, epochs: 2 }, augment: { ...AUG, gainDb: 3 } }))).rejects.toThrow(/other augmentation settings/);
    await expect(trainRun(gpu(), extractor, options(out, { resume: true, loop: { ...options(out).loop, epochs: 2 } }))).rejects.toThrow(/other augmentation settings/);
  });

  it('with a swap probability, trains epochs as long as the originals, copies standing in for them', async () => {
    const steps = (runs: number[]) => (p: { step: number; steps: number }) => void (p.step === 1 && runs.push(p.steps));
    const seen: number[] = [];
    const out = mkdtempSync(join(tmpdir(), 'ser-aug-swap-'));
    const loop = { ...options(out).loop, augmentSwap: 1 };
    const r = await trainRun(gpu(), extractor, options(out, { augment: AUG, loop, onProgress: steps(seen) }));
    expect(seen).toEqual([2]); // 16 training clips / batch 8; with the copies added it would be 48 / 8
    expect(r.augmentedSources).toHaveLength(2 * r.split.train.length);
    expect(JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')).training).toEqual({ schedule: 'plateau', balance: false, augmentSwap: 1 });
    const { writeReport } = await import('../../src/train/protocols/report.node.ts');
    await writeReport(r);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/- Augmentation: 32 augmented copies \(.*\), each epoch standing in for their clips with probability 1;/);
    expect(md).toMatch(/each epoch every training clip is drawn as one of its augmented copies with probability 1, else as itself/);
    // Without augmentation the same seed trains on the same originals in the same order: every
    // example swapped for a copy (p = 1) must change the loss.
    const plainSeen: number[] = [];
    const plain = await trainRun(gpu(), extractor, options(mkdtempSync(join(tmpdir(), 'ser-aug-swap-plain-')), { onProgress: steps(plainSeen) }));
    expect(plainSeen).toEqual([2]);
    expect(r.state.history[0]!.trainLoss).not.toBe(plain.state.history[0]!.trainLoss);
    await expect(trainRun(gpu(), extractor, options(out, { augment: AUG, resume: true, loop: { ...loop, augmentSwap: 0.5, epochs: 2 } }))).rejects.toThrow(/another schedule or sampling/);
    await expect(trainRun(gpu(), extractor, options(mkdtempSync(join(tmpdir(), 'ser-aug-swap-none-')), { loop }))).rejects.toThrow(/swapped augmentation needs augmented copies/);
  });

  it('in a k-fold run, each fold trains on copies of its own training clips and validates on originals', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ser-aug-folds-'));
    const { split: _, val: __, valSpeakers: ___, ...rest } = options(out, { augment: { ...AUG, copies: 1 } });
    const r = await foldsRun(gpu(), extractor, { ...rest, folds: 3 });
    for (const f of r.folds) {
      const train = new Set(f.split.train);
      expect(f.augmentedSources).toHaveLength(f.split.train.length);
      expect(f.augmentedSources.every((s) => train.has(s))).toBe(true);
      expect(f.report.total).toBe(f.split.val.length);
    }
    expect(r.summary!.perFold.map((f) => f.augmentedExamples)).toEqual(r.folds.map((f) => f.split.train.length));
  });

  it('refuses bad augmentation flags', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [BIN, 'train', '--epochs', '1', ...args], { encoding: 'utf8' });
    for (const [args, msg] of [
      [['--augment-snr', '10:20'], /--augment-snr apply only with --augment/],
      [['--augment', '--augment-copies', '0'], /expected an integer from 1 to 16/],
      [['--augment', '--augment-snr', '30:10'], /lo:hi with -10 <= lo <= hi <= 60/],
      [['--augment', '--augment-speed', '0.2:1'], /lo:hi with 0.5 <= lo <= hi <= 2/],
      [['--augment', '--augment-shift', '-5'], /from 0 to 1000/],
      [['--augment', '--augment-gain', 'loud'], /from 0 to 24/],
      [['--augment-swap', '0.5'], /--augment-swap apply only with --augment/],
      [['--augment', '--augment-swap', '0'], /expected a probability above 0 and at most 1, got '0'/],
      [['--augment-reverb', '0.2:0.8'], /--augment-reverb apply only with --augment/],
      [['--augment-lowpass', '3400:8000', '--augment-tilt', '6'], /--augment-lowpass, --augment-tilt apply only with --augment/],
      [['--augment', '--augment-reverb', '0.8:0.2'], /'--augment-reverb <lo:hi>' argument '0.8:0.2' is invalid. expected lo:hi with 0.05 <= lo <= hi <= 2, got '0.8:0.2'/],
      [['--augment', '--augment-reverb', '0.5:3'], /'--augment-reverb <lo:hi>' argument '0.5:3' is invalid/],
      [['--augment', '--augment-lowpass', '100:3000'], /'--augment-lowpass <lo:hi>' argument '100:3000' is invalid. expected lo:hi with 300 <= lo <= hi <= 10000/],
      [['--augment', '--augment-tilt', '30'], /'--augment-tilt <dB>' argument '30' is invalid. expected a number from 0 to 24, got '30'/],
    ] as const) {
      const r = run(...args);
      expect(r.status, args.join(' ')).not.toBe(0);
      expect(r.stderr).toMatch(msg);
    }
  });
});

describe('ser train --augment with reverberation, low-pass and tilt', () => {
  const ROOM: AugmentConfig = { ...AUG, copies: 1, reverbRt60: [0.2, 0.8], lowpassHz: [3400, 8000], tiltDb: 6 };

  it('the flags become the optional fields, present only when on', () => {
    const flags = { augment: true, augmentCopies: 1, augmentSnr: [10, 30], augmentShift: 100, augmentSpeed: [0.9, 1.1], augmentGain: 6 } as const;
    expect(augmentConfig({ ...flags, augmentReverb: [0.2, 0.8], augmentLowpass: [3400, 8000], augmentTilt: 6 } as unknown as TrainFlags)).toEqual(ROOM);
    expect(augmentConfig(flags as unknown as TrainFlags)).toStrictEqual({ ...AUG, copies: 1 });
    expect(augmentConfig({ ...flags, augmentTilt: 0 } as unknown as TrainFlags)).toStrictEqual({ ...AUG, copies: 1 });
  });

  it('trains a tiny run, records the settings in the model and describes them in the report', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ser-aug-room-'));
    const r = await trainRun(gpu(), extractor, options(out, { augment: ROOM }));
    expect(r.augmentedSources).toHaveLength(r.split.train.length);
    expect(JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')).augment).toEqual(ROOM);
    const { writeReport } = await import('../../src/train/protocols/report.node.ts');
    await writeReport(r);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/16 augmented copies \(1 copy per training clip: speed 0.9..1.1, shift up to ±100 ms, reverberation RT60 0.2..0.8 s \(DRR -3..12 dB\), low-pass at 3400..8000 Hz, spectral tilt up to ±6 dB, gain up to ±6 dB/);
  });
});

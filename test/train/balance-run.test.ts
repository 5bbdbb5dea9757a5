// `ser train --lr-schedule cosine --balance` on a tiny config: on a corpus with one small class, a
// balanced epoch has as many steps as every class at the largest class's count; the rate of each epoch
// follows cosineRate; model.json and the report record the settings; a checkpoint written with another
// schedule or sampling is not resumed; the CLI refuses an unknown schedule. `--class-weights balanced`
// keeps the epoch, changes the training loss of the same steps, and is recorded and checked likewise.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { featureConfig } from '../../src/dsp/config';
import { GpuFeatureExtractor } from '../../src/dsp/gpu-features';
import type { Emotion } from '../../src/train/data/labels';
import { defaultLoopOptions, type LoopOptions } from '../../src/train/loop/loop';
import { writeReport } from '../../src/train/protocols/report.node.ts';
import { trainRun, type TrainRunOptions } from '../../src/train/protocols/run.node.ts';
import { cosineRate } from '../../src/train/loop/schedule';
import { synthCorpus } from '../../src/train/data/synth';
import { writeSynthCorpus } from '../../src/train/data/synth.node.ts';
import { useGpu } from '../harness';
import { tinyRunOptions } from './tiny-run';

const gpu = useGpu();
const BIN = join(__dirname, '../../bin/ser.mjs');

describe('ser train with a cosine schedule and balanced epochs on a tiny config', () => {
  const CLASSES: Emotion[] = ['neutral', 'happy', 'sad', 'angry'];
  const data = mkdtempSync(join(tmpdir(), 'ser-balance-data-'));
  // 3 speakers x 4 clips per class, then only the first neutral clip of each speaker: 3 neutral, 12 of each other class.
  const clips = synthCorpus({ speakers: 3, clipsPerClassPerSpeaker: 4, seed: 11, classes: CLASSES }).filter((c) => c.label !== 'neutral' || c.take === 0);
  writeSynthCorpus(data, clips, { layout: 'ravdess' });
  const extractor = (c: ReturnType<typeof featureConfig>) => new GpuFeatureExtractor(gpu(), c);
  const options = (out: string, loop: Partial<LoopOptions>, extra: Partial<TrainRunOptions> = {}): TrainRunOptions =>
    tinyRunOptions(data, out, { features: { frames: 24 }, windows: { frames: 16, evalWindows: 2 }, ...extra, loop: { batch: 4, seed: 2, ...loop } });

  it('trains balanced epochs at the cosine rates, records both, and resumes only with the same settings', async () => {
    const steps: number[] = [];
    const out = mkdtempSync(join(tmpdir(), 'ser-balance-a-'));
    const cosine = { schedule: { kind: 'cosine' as const, lr: 3e-3 }, balance: true };
    const r = await trainRun(gpu(), extractor, options(out, cosine, { onProgress: (p) => void (p.step === 1 && steps.push(p.steps)) }));
    // The stratified split keeps 9 of each 12-clip class and 2 of the 3 neutral clips for training.
    const totals = r.classes.map((c) => clips.filter((k) => k.label === c).length);
    expect(r.report.perClass.map((m, k) => totals[k]! - m.support)).toEqual(r.classes.map((c) => (c === 'neutral' ? 2 : 9)));
    expect(steps).toEqual([9, 9]); // 4 classes x 9 clips / batch 4 (unbalanced: ceil(29 / 4) = 8)
    expect(r.state.history.map((h) => h.lr)).toEqual([0, 1].map((e) => cosineRate(3e-3, defaultLoopOptions.minLr, e, 2)));
    expect(JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')).training).toEqual({ schedule: 'cosine', cosineEpochs: 2, balance: true });
    await writeReport(r);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/Schedule: cosine decay of the learning rate over the epochs; class-balanced epochs/);
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).training).toEqual({ schedule: 'cosine', cosineEpochs: 2, balance: true });
    await expect(trainRun(gpu(), extractor, options(out, { balance: true }, { resume: true }))).rejects.toThrow(/another schedule or sampling/);
    await expect(trainRun(gpu(), extractor, options(out, { schedule: cosine.schedule }, { resume: true }))).rejects.toThrow(/another schedule or sampling/);
    // A cosine run's rates depend on its length: continuing it for more epochs is refused.
    await expect(trainRun(gpu(), extractor, options(out, { ...cosine, epochs: 3 }, { resume: true }))).rejects.toThrow(/another schedule or sampling.*for cosine, --epochs/);

    const plainSteps: number[] = [];
    const plainOut = mkdtempSync(join(tmpdir(), 'ser-balance-b-'));
    const plain = await trainRun(gpu(), extractor, options(plainOut, { epochs: 1 }, { onProgress: (p) => void (p.step === 1 && plainSteps.push(p.steps)) }));
    expect(plainSteps).toEqual([8]);
    expect(plain.state.history[0]!.lr).toBe(3e-3);
    expect(JSON.parse(readFileSync(join(plainOut, 'model.json'), 'utf8')).training).toEqual({ schedule: 'plateau', balance: false });
  });

  it('weights the loss by class without changing the epoch, records it, and resumes only with it', async () => {
    const run = async (loop: Partial<LoopOptions>) => {
      const steps: number[] = [];
      const out = mkdtempSync(join(tmpdir(), 'ser-weights-'));
      const r = await trainRun(gpu(), extractor, options(out, { epochs: 1, ...loop }, { onProgress: (p) => void (p.step === 1 && steps.push(p.steps)) }));
      return { r, out, steps };
    };
    const weighted = await run({ classWeights: 'balanced' });
    const plain = await run({});
    expect(weighted.steps).toEqual([8]); // the natural 29 training clips, not a balanced epoch
    // Same split, initialisation and batches: only the loss weights differ (neutral, 2 of 29 clips, weighs 29 / 8).
    const [lw, lp] = [weighted, plain].map((x) => x.r.state.history[0]!.trainLoss);
    expect(Number.isFinite(lw!)).toBe(true);
    expect(Math.abs(lw! - lp!)).toBeGreaterThan(1e-3 * lp!);
    expect(JSON.parse(readFileSync(join(weighted.out, 'model.json'), 'utf8')).training).toEqual({ schedule: 'plateau', balance: false, classWeights: 'balanced' });
    await writeReport(weighted.r);
    expect(readFileSync(join(weighted.out, 'report.md'), 'utf8')).toMatch(/its loss weighted by n \/ \(classes x its class's training count\)/);
    await expect(trainRun(gpu(), extractor, options(weighted.out, { epochs: 2 }, { resume: true }))).rejects.toThrow(/another schedule or sampling/);
    await expect(trainRun(gpu(), extractor, options(plain.out, { epochs: 2, classWeights: 'balanced' }, { resume: true }))).rejects.toThrow(/another schedule or sampling/);
    await expect(trainRun(gpu(), extractor, options(mkdtempSync(join(tmpdir(), 'ser-weights-')), { balance: true, classWeights: 'balanced' }))).rejects.toThrow(/both correct class frequencies/);
  });

  it('the CLI refuses an unknown schedule or weighting, and --balance with --class-weights', () => {
    const r = spawnSync(process.execPath, [BIN, 'train', '--lr-schedule', 'step'], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--lr-schedule.*'step' is invalid.*plateau, cosine/s);
    const w = spawnSync(process.execPath, [BIN, 'train', '--class-weights', 'inverse'], { encoding: 'utf8' });
    expect(w.status).not.toBe(0);
    expect(w.stderr).toMatch(/--class-weights.*'inverse' is invalid.*none, balanced/s);
    const both = spawnSync(process.execPath, [BIN, 'train', '--balance', '--class-weights', 'balanced'], { encoding: 'utf8' });
    expect(both.status).not.toBe(0);
    expect(both.stderr).toMatch(/--balance and --class-weights both correct class frequencies/);
  });
});

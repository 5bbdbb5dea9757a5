// `ser train --lr-schedule cosine --balance` on a tiny config: on a corpus with one small class, a
// balanced epoch has as many steps as every class at the largest class's count; the rate of each epoch
// follows cosineRate; model.json and the report record the settings; a checkpoint written with another
// schedule or sampling is not resumed; the CLI refuses an unknown schedule.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { featureConfig } from '../../src/dsp/config';
import { GpuFeatureExtractor } from '../../src/dsp/gpu-features';
import type { Emotion } from '../../src/train/labels';
import { defaultLoopOptions, type LoopOptions } from '../../src/train/loop';
import { writeReport } from '../../src/train/report.node.ts';
import { trainRun, type TrainRunOptions } from '../../src/train/run.node.ts';
import { cosineRate } from '../../src/train/schedule';
import { synthCorpus } from '../../src/train/synth';
import { writeSynthCorpus } from '../../src/train/synth.node.ts';
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
    expect(JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')).training).toEqual({ schedule: 'cosine', balance: true });
    await writeReport(r);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/Schedule: cosine decay of the learning rate over the epochs; class-balanced epochs/);
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).training).toEqual({ schedule: 'cosine', balance: true });
    await expect(trainRun(gpu(), extractor, options(out, { balance: true }, { resume: true }))).rejects.toThrow(/another schedule or sampling/);
    await expect(trainRun(gpu(), extractor, options(out, { schedule: cosine.schedule }, { resume: true }))).rejects.toThrow(/another schedule or sampling/);

    const plainSteps: number[] = [];
    const plainOut = mkdtempSync(join(tmpdir(), 'ser-balance-b-'));
    const plain = await trainRun(gpu(), extractor, options(plainOut, { epochs: 1 }, { onProgress: (p) => void (p.step === 1 && plainSteps.push(p.steps)) }));
    expect(plainSteps).toEqual([8]);
    expect(plain.state.history[0]!.lr).toBe(3e-3);
    expect(JSON.parse(readFileSync(join(plainOut, 'model.json'), 'utf8')).training).toEqual({ schedule: 'plateau', balance: false });
  });

  it('the CLI refuses an unknown schedule', () => {
    const r = spawnSync(process.execPath, [BIN, 'train', '--lr-schedule', 'step'], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--lr-schedule.*'step' is invalid.*plateau, cosine/s);
  });
});

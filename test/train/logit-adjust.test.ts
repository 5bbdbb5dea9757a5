// Logit adjustment (src/train/loop/logit-adjust.ts, `ser train --logit-adjust`): the adjustment is -log of
// the training prior and refuses an empty class; re-scoring picks the loop's best epoch; a tiny run
// trains exactly as without it (same weights), reports the adjusted accuracy of the re-scored
// per-epoch records, saves the adjustment, and its saved model predicts p(c | x) / prior(c)
// renormalised; a malformed adjustment in model.json and a resume without the flag are refused.

import { readFileSync, writeFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GpuFeatureExtractor } from '../../src/dsp/gpu-features';
import type { FeatureConfig } from '../../src/dsp/config';
import { featuresOfFiles } from '../../src/dsp/files.node.ts';
import { FeaturePipeline } from '../../src/dsp/pipeline';
import { readCheckpoint } from '../../src/train/model-files/checkpoint.node.ts';
import { adjustRows, adjustedEpochs, adjustmentProblem, countsAdjustment, logPriorAdjustment } from '../../src/train/loop/logit-adjust';
import { predictFeatures } from '../../src/train/inference/predict';
import { trainRun } from '../../src/train/protocols/run.node.ts';
import { loadModel } from '../../src/train/model-files/saved-model.node.ts';
import { synthCorpus } from '../../src/train/data/synth';
import { writeSynthCorpus } from '../../src/train/data/synth.node.ts';
import { readValidationLogits } from '../../src/train/scores/val-logits.node.ts';
import { relL2, useGpu } from '../harness';
import { tinyRunOptions } from './tiny-run';

const gpu = useGpu();

describe('the logit adjustment', () => {
  it('is -log of each class share of the training labels, and refuses a class without one', () => {
    const a = logPriorAdjustment([0, 1, 1, 2, 2, 2, 2, 1], 3);
    [1 / 8, 3 / 8, 4 / 8].forEach((p, k) => expect(a[k]).toBeCloseTo(-Math.log(p), 12));
    expect(countsAdjustment([64, 128])).toEqual([-Math.log(1 / 3), -Math.log(2 / 3)]);
    expect(() => logPriorAdjustment([0, 0, 2], 3, ['neutral', 'calm', 'sad'])).toThrow(/class calm has no training examples/);
    expect(Array.from(adjustRows([0, 1, 2, 3], [10, 20]))).toEqual([10, 21, 12, 23]);
    expect(() => adjustRows([0, 1, 2], [1, 2])).toThrow(/not rows of 2 classes/);
    expect(adjustmentProblem([1, 2], 2)).toBeNull();
    expect(adjustmentProblem([1, Number.NaN], 2)).toMatch(/2 finite numbers/);
    expect(adjustmentProblem([1], 2)).toMatch(/2 finite numbers/);
  });

  it('re-scores per-epoch records: an adjustment can turn a decision and the best epoch', () => {
    const lp = (p: number[]) => p.map(Math.log);
    const records = [
      { epoch: 1, classes: 2, val: [0, 1], labels: [0, 1], logp: [...lp([0.4, 0.6]), ...lp([0.2, 0.8])] },
      { epoch: 2, classes: 2, val: [0, 1], labels: [0, 1], logp: [...lp([0.6, 0.4]), ...lp([0.7, 0.3])] },
    ];
    expect(adjustedEpochs(records, [0, 0]).map((e) => e.accuracy)).toEqual([0.5, 0.5]);
    // Class 0 at a third of the training prior: p0 / (1/3) against p1 / (2/3).
    const adjusted = adjustedEpochs(records, countsAdjustment([1, 2]));
    expect(adjusted.map((e) => e.accuracy)).toEqual([1, 0.5]);
    expect(adjusted[0]!.pred).toEqual([0, 1]);
  });
});

describe('a tiny run with --logit-adjust', () => {
  const data = mkdtempSync(join(tmpdir(), 'ser-la-data-'));
  // Unequal classes: 2 neutral clips per speaker against 5 of the others.
  const corpus = synthCorpus({ speakers: 2, clipsPerClassPerSpeaker: 5, seed: 6, classes: ['neutral', 'happy', 'sad', 'angry'] });
  const clips = corpus.filter((c) => c.label !== 'neutral' || c.take < 2);
  writeSynthCorpus(data, clips, { layout: 'ravdess' });
  const extractor = (c: FeatureConfig) => new GpuFeatureExtractor(gpu(), c);
  const loop = { epochs: 2, logitAdjust: true };

  it('trains as without it, reports and saves the adjusted decisions, and refuses a resume without it', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ser-la-a-'));
    const r = await trainRun(gpu(), extractor, tinyRunOptions(data, out, { loop }));
    const plainOut = mkdtempSync(join(tmpdir(), 'ser-la-b-'));
    const plain = await trainRun(gpu(), extractor, tinyRunOptions(data, plainOut, { loop: { epochs: 2 } }));
    const [a, b] = [await readCheckpoint(out, 'checkpoint'), await readCheckpoint(plainOut, 'checkpoint')];
    for (const [n, t] of b.tensors) expect(relL2(a.tensors.get(n)!.data, t.data), n).toBe(0);
    expect(r.state.history.map((e) => e.valLoss)).toEqual(plain.state.history.map((e) => e.valLoss));

    const meta = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    // Training counts: every clip of a class less its validation clips.
    const valLabels = readValidationLogits(out)[0]!.labels;
    const counts = r.classes.map((c, k) => clips.filter((x) => x.label === c).length - valLabels.filter((l) => l === k).length);
    expect(counts[r.classes.indexOf('neutral')]).toBeLessThan(Math.min(...counts.filter((_, k) => r.classes[k] !== 'neutral')));
    expect(meta.logitAdjustment).toEqual(countsAdjustment(counts));
    expect(meta.training).toEqual({ schedule: 'plateau', balance: false, logitAdjust: true });
    // The report is the re-scored records' best epoch, which the loop picked on the adjusted decisions.
    const scored = adjustedEpochs(readValidationLogits(out), meta.logitAdjustment);
    const best = scored.reduce((x, e) => (e.accuracy > x.accuracy ? e : x));
    expect(r.state.bestEpoch).toBe(best.epoch);
    expect(r.report.accuracy).toBeCloseTo(best.accuracy, 12);
    expect(scored.map((e) => e.accuracy)).toEqual(r.state.history.map((e) => e.valAccuracy));
    const loaded = await loadModel(gpu(), out);
    try {
      expect(loaded.meta.logitAdjustment).toEqual(meta.logitAdjustment);
      const files = readdirSync(join(data, 'Actor_01')).sort().map((f) => join(data, 'Actor_01', f));
      const fc = loaded.meta.featureConfig;
      const { clips } = await featuresOfFiles(new FeaturePipeline(fc, extractor(fc)), files, { cacheDir: join(out, 'cache', 'features') });
      const feats = clips.map((c) => c!.features);
      const adjusted = await predictFeatures(gpu(), loaded, feats);
      const raw = await predictFeatures(gpu(), { ...loaded, meta: { ...loaded.meta, logitAdjustment: undefined } }, feats);
      adjusted.forEach((p, i) => {
        const q = r.classes.map((c, k) => raw[i]!.probabilities[c]! * Math.exp(meta.logitAdjustment[k]));
        const sum = q.reduce((x, y) => x + y, 0);
        expect(relL2(r.classes.map((c) => p.probabilities[c]!), q.map((v) => v / sum))).toBeLessThan(1e-5);
      });
    } finally {
      loaded.model.dispose();
    }
    await expect(trainRun(gpu(), extractor, tinyRunOptions(data, out, { loop: { epochs: 3 }, resume: true }))).rejects.toThrow(/another schedule or sampling.*--logit-adjust/);
    writeFileSync(join(out, 'model.json'), JSON.stringify({ ...meta, logitAdjustment: [1, 2] }));
    await expect(loadModel(gpu(), out)).rejects.toThrow(/'logitAdjustment' must list 4 finite numbers/);
  });

  it('decides by the adjusted outputs in validation and in the report: an overwhelming shift makes every clip neutral', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ser-la-c-'));
    const r = await trainRun(gpu(), extractor, tinyRunOptions(data, out, { loop: { epochs: 1, logitAdjust: [100, 0, 0, 0] } }));
    const neutral = r.classes.indexOf('neutral');
    const valLabels = readValidationLogits(out)[0]!.labels;
    const share = valLabels.filter((l) => l === neutral).length / valLabels.length;
    expect(share).toBeGreaterThan(0);
    expect(r.state.history[0]!.valAccuracy).toBeCloseTo(share, 12);
    expect(r.report.accuracy).toBeCloseTo(share, 12);
    expect(r.report.perClass.map((c) => c.recall)).toEqual(r.classes.map((_, k) => (k === neutral ? 1 : 0)));
    await expect(trainRun(gpu(), extractor, tinyRunOptions(data, mkdtempSync(join(tmpdir(), 'ser-la-d-')), { loop: { epochs: 1, logitAdjust: [1, 2] } }))).rejects.toThrow(/'logitAdjustment' must list 4 finite numbers/);
  });
});


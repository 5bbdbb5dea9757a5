// Data sets larger than one GPU buffer: on a device whose buffers are capped at 1 MiB (GpuOptions
// maxBufferBytes), 160 clips whose features take 1.2 MiB train for two epochs (windows, masks, mixup,
// BN recalibration, validation over several windows), evaluate and predict, and give bit for bit the
// weights, history and probabilities of the same run on the uncapped device. Before batches were
// streamed from the host (batches.ts), the whole feature set went to the GPU as one tensor and the
// capped device refused it. The features are generated (class-dependent means plus noise) rather than
// extracted from audio, so the test spends its time on the data path it is about.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { featureConfig } from '../../src/dsp/config';
import { FeaturePipeline, ReferenceExtractor } from '../../src/dsp/pipeline';
import type { Gpu } from '../../src/gpu';
import type { TrainingData } from '../../src/train/data/data.node.ts';
import { predictFeatures } from '../../src/train/inference/predict';
import { trainOnSplit, type TrainRunResult } from '../../src/train/protocols/run.node.ts';
import { loadModel } from '../../src/train/model-files/saved-model.node.ts';
import { stratifiedSplit } from '../../src/train/data/splits';
import { randn, rng, useGpus } from '../harness';
import { tinyRunOptions } from './tiny-run';

const CAP = 2 ** 20;
const [normal, capped] = [0, 1].map((i) => () => gpus()[i]!);
const gpus = useGpus({}, { maxBufferBytes: CAP });

const CLASSES = ['neutral', 'happy', 'sad', 'angry'];
const N = 160;
const FRAMES = 24; // stored frames; the model reads 16-frame windows

/** N clips of 82 x FRAMES features: a class-dependent mean per row plus noise, random lengths. */
function syntheticData(): TrainingData {
  const fc = featureConfig({ frames: FRAMES });
  const pipeline = new FeaturePipeline(fc, new ReferenceExtractor(fc));
  const rows = pipeline.rowNames.length;
  const r = rng(17);
  const means = CLASSES.map(() => Array.from(randn(rows, r)));
  const labels = Array.from({ length: N }, (_, i) => i % CLASSES.length);
  const features = labels.map((c) => {
    const noise = randn(rows * FRAMES, r);
    return Float32Array.from(noise, (v, j) => means[c]![Math.floor(j / FRAMES)]! + v);
  });
  return {
    dataDir: '/synthetic',
    paths: labels.map((_, i) => `/synthetic/clip${i}.wav`),
    examples: labels.map((c, i) => ({ label: CLASSES[c]!, speaker: `s${i % 8}` })),
    features,
    lengths: labels.map(() => 12 + Math.floor(r() * (FRAMES - 11))),
    classes: CLASSES,
    skipped: [],
    pipeline,
    featureConfig: fc,
    cacheDir: '/unused',
  };
}

async function run(g: Gpu, data: TrainingData): Promise<{ out: string; result: TrainRunResult }> {
  const out = mkdtempSync(join(tmpdir(), 'ser-streamed-'));
  const split = stratifiedSplit(data.examples, { valFraction: 0.25, seed: 4 });
  const opts = tinyRunOptions('/synthetic', out, {
    features: { frames: FRAMES },
    windows: { frames: 16, evalWindows: 3 },
    loop: { batch: 4, bnRecalibration: 16, masks: { time: [1, 3], rows: [1, 6] }, mixup: { alpha: 0.4 } },
  });
  return { out, result: await trainOnSplit(g, data, split, [], opts) };
}

describe('data sets larger than one GPU buffer', () => {
  const data = syntheticData();
  const bytes = data.features.length * data.features[0]!.byteLength;

  it('the capped device refuses the whole feature set as one buffer', () => {
    expect(capped().limits.maxStorageBufferBindingSize).toBe(CAP);
    expect(capped().limits.maxBufferSize).toBe(CAP);
    expect(capped().limits.maxComputeWorkgroupsPerDimension).toBe(normal().limits.maxComputeWorkgroupsPerDimension);
    expect(bytes).toBeGreaterThan(CAP);
    expect(() => capped().empty([N, 82, FRAMES, 1], 'f32', 'all')).toThrow(/above this device's storage buffer limit of 1048576 bytes/);
  });

  it('train, evaluate and predict on the capped device exactly as on an uncapped one', async () => {
    const a = await run(normal(), data);
    const b = await run(capped(), data);
    expect(b.result.state.history.length).toBe(2);
    expect(b.result.state.history.map((e) => [e.trainLoss, e.valLoss, e.valAccuracy])).toEqual(a.result.state.history.map((e) => [e.trainLoss, e.valLoss, e.valAccuracy]));
    expect(b.result.report).toEqual(a.result.report);
    expect(readFileSync(join(b.out, 'model.safetensors')).equals(readFileSync(join(a.out, 'model.safetensors'))), 'weights bit for bit').toBe(true);
    expect(readFileSync(join(b.out, 'checkpoint.safetensors')).equals(readFileSync(join(a.out, 'checkpoint.safetensors'))), 'checkpoint bit for bit').toBe(true);
    // Prediction on every clip (more than one buffer of features), each device with its own copy of
    // the model; batches of 4 reuse the pipelines validation compiled.
    const lengths = data.lengths;
    const pa = await predictFeatures(normal(), await loadModel(normal(), a.out), data.features, { lengths, batch: 4 });
    const pb = await predictFeatures(capped(), await loadModel(capped(), b.out), data.features, { lengths, batch: 4 });
    expect(pb).toHaveLength(N);
    expect(pb).toEqual(pa);
    // Outputs that differ from clip to clip, so the comparison is of something.
    expect(new Set(pb.map((p) => p.label)).size).toBeGreaterThan(1);
  }, 600_000);
});

// `ser train` end to end: data set (or the embedded synthetic corpus) -> features (GPU, cached) -> split
// -> scaler fitted on the training split -> model and Adam -> the epoch loop with a checkpoint after
// every epoch -> best weights restored -> evaluation -> model files, report and plots in the output
// folder. --resume continues from the last completed epoch; with the same seed it ends with the same
// weights as an uninterrupted run (shuffles and dropout masks are pure functions of seed and step).

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { featureConfig, type FeatureConfig } from '../dsp/config';
import { featuresOfFiles } from '../dsp/files.node.ts';
import { FeaturePipeline, type FeatureExtractor } from '../dsp/pipeline';
import type { Gpu, Tensor } from '../gpu';
import { modelConfig, SerModel, type ModelConfig } from '../nn/model';
import { Trainer } from '../nn/train-step';
import { readCheckpoint, writeCheckpoint } from './checkpoint.node.ts';
import { loadDataset } from './datasets.node.ts';
import { type DataOnGpu, type LoopHooks, type LoopOptions, type LoopState, argmaxRows, predictLogits, trainLoop } from './loop';
import { classificationReport, type ClassificationReport } from './metrics';
import { CheckpointError, type NamedTensors } from './safetensors';
import { fitScaler, transform } from './scaler';
import { saveModel } from './saved-model.node.ts';
import { speakerSplit, stratifiedSplit, type Split } from './splits';
import { synthCorpus } from './synth';
import { writeSynthCorpus } from './synth.node.ts';
import { validateTrainingData } from './validate';

export interface TrainRunOptions {
  data?: string;
  split: 'random' | 'speaker';
  val: number;
  valSpeakers?: string[];
  out: string;
  resume?: boolean;
  cacheDir: string;
  loop: LoopOptions;
  lr: number;
  model?: Partial<ModelConfig>;
  features?: Partial<FeatureConfig>;
  log: (line: string) => void;
  onProgress?: LoopHooks['onProgress'];
  shouldStop?: () => boolean;
}

export interface TrainRunResult {
  out: string;
  report: ClassificationReport;
  state: LoopState;
  classes: string[];
  split: Split;
  skipped: { name: string; reason: string }[];
  seconds: number;
}

/** The embedded default corpus: synthetic, deterministic, written once into the cache folder. */
function syntheticData(cacheDir: string, seed: number, log: (l: string) => void): string {
  const dir = join(cacheDir, `synthetic-v2-seed${seed}`);
  // The marker (beside the folder, so the loader never sees it) is written last: a corpus interrupted
  // mid-write is regenerated next time.
  const marker = `${dir}.complete`;
  if (!existsSync(marker)) {
    log(`generating the synthetic emotional-speech corpus into ${dir} (8 classes, 6 speakers, 192 clips; NOT real speech)`);
    writeSynthCorpus(dir, synthCorpus({ speakers: 6, clipsPerClassPerSpeaker: 4, seed }), { layout: 'ravdess' });
    writeFileSync(marker, '');
  }
  return dir;
}

export async function trainRun(gpu: Gpu, extractorFor: (c: FeatureConfig) => FeatureExtractor, opts: TrainRunOptions): Promise<TrainRunResult> {
  const started = performance.now();
  const log = opts.log;
  const dataDir = opts.data ? resolve(opts.data) : syntheticData(opts.cacheDir, opts.loop.seed, log);
  const dataset = loadDataset(dataDir);
  for (const w of dataset.warnings) log(`warning: ${w}`);
  log(`data: ${dataDir} — ${dataset.items.length} files, classes: ${dataset.classes.join(', ')}${dataset.skipped.length ? `, ${dataset.skipped.length} files not recognised` : ''}`);

  const fc = featureConfig(opts.features);
  const pipeline = new FeaturePipeline(fc, extractorFor(fc));
  const t0 = performance.now();
  const { clips, skipped, cacheHits } = await featuresOfFiles(
    pipeline,
    dataset.items.map((i) => i.path),
    { cacheDir: join(opts.cacheDir, 'features') },
  );
  log(`features: ${clips.filter(Boolean).length} clips in ${((performance.now() - t0) / 1000).toFixed(1)} s (${cacheHits} from cache), ${skipped.length} skipped`);
  for (const s of skipped) log(`  skipped ${s.name}: ${s.reason}`);

  const keep = dataset.items.map((item, i) => ({ item, clip: clips[i] })).filter((e) => e.clip);
  const classes = dataset.classes.filter((c) => keep.some((e) => e.item.label === c));
  const examples = keep.map((e) => ({ label: e.item.label, speaker: e.item.speaker, sex: e.item.sex }));
  const split =
    opts.split === 'speaker'
      ? speakerSplit(examples, { valSpeakers: opts.valSpeakers, valFraction: opts.val, seed: opts.loop.seed })
      : stratifiedSplit(examples, { valFraction: opts.val, seed: opts.loop.seed });
  const d = split.description;
  log(`split: ${d.kind === 'stratified' ? `random stratified clip split (speakers may appear on both sides), ${Math.round(opts.val * 100)}% validation` : `speaker-independent, validation speakers ${d.valSpeakers?.join(', ')}`}, seed ${d.seed}: ${split.train.length} train / ${split.val.length} val`);

  const feats = keep.map((e) => e.clip!.features);
  const scaler = fitScaler(feats, split.train, { rows: pipeline.rowNames.length, frames: fc.frames });
  const per = pipeline.featureSize;
  const xAll = new Float32Array(keep.length * per);
  feats.forEach((f, i) => xAll.set(transform(scaler, f), i * per));
  const labels = Uint32Array.from(keep.map((e) => classes.indexOf(e.item.label)));

  const mc = modelConfig({ ...opts.model, classes: classes.length, inputRows: pipeline.rowNames.length, inputFrames: fc.frames });
  const shape = [keep.length, pipeline.rowNames.length, fc.frames, 1];
  validateTrainingData({ shape, x: xAll, labels, classes: classes.length }, mc);
  const model = new SerModel(gpu, mc, opts.loop.seed);
  const trainer = new Trainer(model, { learningRate: opts.lr, clipnorm: 1.0 });
  const data: DataOnGpu = {
    x: gpu.upload(xAll, shape, 'f32', 'dataset.x'),
    y: gpu.upload(labels, [keep.length], 'u32', 'dataset.y'),
    labels,
  };
  const meta = { modelConfig: mc, featureConfig: fc, scaler, classes, split: d, seed: opts.loop.seed };
  mkdirSync(opts.out, { recursive: true });

  let resumeState: LoopState | undefined;
  let best: NamedTensors | null = null;
  if (opts.resume) {
    resumeState = await restore(opts.out, model, trainer, mc);
    best = (await readCheckpoint(opts.out, 'model').catch(() => null))?.tensors ?? null;
    log(`resuming after epoch ${resumeState.epoch} (best so far: epoch ${resumeState.bestEpoch})`);
  }
  log(`model: ${model.parameterCount} parameters; Adam lr ${opts.lr}, clipnorm 1.0; batch ${opts.loop.batch}, up to ${opts.loop.epochs} epochs`);

  const state = await trainLoop(gpu, trainer, data, split, opts.loop, {
    onProgress: opts.onProgress,
    shouldStop: opts.shouldStop,
    onEpochEnd: async (s, improved) => {
      if (improved) {
        best = await model.exportTensors();
        await saveModel(opts.out, model, { ...meta, history: s.history });
      }
      await saveState(opts.out, model, trainer, s);
    },
  }, resumeState);

  if (best) model.importTensors(best);
  const logits = await predictLogits(gpu, trainer, data, split.val.length ? split.val : split.train, opts.loop.batch);
  const evalIdx = split.val.length ? split.val : split.train;
  const report = classificationReport(evalIdx.map((i) => labels[i]!), argmaxRows(logits, classes.length), classes);
  await saveModel(opts.out, model, { ...meta, history: state.history, metrics: { accuracy: report.accuracy, uar: report.uar, macroF1: report.macroF1, bestEpoch: state.bestEpoch } });
  for (const t of [data.x, data.y] as Tensor[]) t.dispose();
  trainer.dispose();
  model.dispose();
  return { out: opts.out, report, state, classes, split, skipped, seconds: (performance.now() - started) / 1000 };
}

/** Optimiser moments, counters and loop state after an epoch: what --resume needs. */
async function saveState(dir: string, model: SerModel, trainer: Trainer, state: LoopState): Promise<void> {
  const names = [...model.params.keys()];
  const moments = names.flatMap((n) => {
    const { m, v } = trainer.adam.moments(n);
    return [m, v];
  });
  const arrays = await model.gpu.readMany([...moments, trainer.adam.iterations, model.dropoutState]);
  const tensors: NamedTensors = await model.exportTensors();
  names.forEach((n, i) => {
    tensors.set(`adam.m.${n}`, { shape: [...moments[2 * i]!.shape], data: arrays[2 * i] as Float32Array });
    tensors.set(`adam.v.${n}`, { shape: [...moments[2 * i + 1]!.shape], data: arrays[2 * i + 1] as Float32Array });
  });
  const counters = { iterations: arrays[moments.length]![0]!, dropoutStep: arrays[moments.length + 1]![0]!, dropoutSeed: arrays[moments.length + 1]![1]! };
  await writeCheckpoint(dir, 'checkpoint', tensors, { modelConfig: model.config, loop: state, learningRate: trainer.adam.learningRate, counters });
}

async function restore(dir: string, model: SerModel, trainer: Trainer, mc: ModelConfig): Promise<LoopState> {
  const { tensors, meta } = await readCheckpoint(dir, 'checkpoint');
  if (JSON.stringify(meta.modelConfig) !== JSON.stringify(mc)) {
    throw new CheckpointError(`${dir}/checkpoint.json: written for another model config; resume with the same options`);
  }
  const own = new Map([...tensors].filter(([k]) => !k.startsWith('adam.')));
  model.importTensors(own);
  for (const n of model.params.keys()) {
    const m = tensors.get(`adam.m.${n}`);
    const v = tensors.get(`adam.v.${n}`);
    if (!m || !v) throw new CheckpointError(`${dir}/checkpoint.safetensors: optimiser state for '${n}' is missing`);
    const slot = trainer.adam.moments(n);
    model.gpu.write(slot.m, m.data);
    model.gpu.write(slot.v, v.data);
  }
  const c = meta.counters as { iterations: number; dropoutStep: number; dropoutSeed: number };
  model.gpu.write(trainer.adam.iterations, [c.iterations]);
  model.gpu.write(model.dropoutState, [c.dropoutStep, c.dropoutSeed]);
  trainer.adam.setLearningRate(meta.learningRate as number);
  return meta.loop as LoopState;
}

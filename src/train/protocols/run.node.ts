// `ser train` end to end: data set (or the embedded synthetic corpus) -> features (GPU, cached) -> split
// (its validation files written to OUT/split.json) -> augmented copies of the training clips (--augment)
// -> scaler fitted on the training split -> model and Adam -> the epoch loop with a checkpoint after
// every epoch -> best weights restored -> evaluation -> model files in the output folder. --resume
// continues from the last completed epoch; with the same seed it ends with the same weights as an
// uninterrupted run (shuffles and dropout masks are pure functions of seed and step). trainOnSplit is
// the part after the split, shared with the k-fold runs (folds.node.ts), which load the data once for
// all folds.
//
// The scaler is fitted on the original training clips only, never on augmented copies: it is what
// inference applies to clean audio, and it stays the same with and without --augment.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkAugmentConfig, type AugmentConfig } from '../../dsp/augment';
import type { FeatureConfig } from '../../dsp/config';
import type { FeatureExtractor, Skipped } from '../../dsp/pipeline';
import type { Gpu } from '../../gpu';
import { modelConfig, SerModel, type ModelConfig } from '../../nn/model';
import { Trainer } from '../../nn/train-step';
import { readCheckpoint } from '../model-files/checkpoint.node.ts';
import { augmentFeatures, loadTrainingData, splitRecord, type AugmentedClip, type TrainingData } from '../data/data.node.ts';
import { windowsProblem, type WindowSettings } from '../loop/batches';
import { checkMasks, type MaskSettings } from '../loop/masks';
import { trainingLine, trainingSettings, type TrainingSettings } from '../loop/training-settings';
import { type TrainingExamples, type LoopHooks, type LoopOptions, type LoopState, examplesLogits, trainLoop } from '../loop/loop';
import { argmaxRows, classificationReport, type ClassificationReport } from '../scores/metrics';
import type { NamedTensors } from '../model-files/safetensors';
import type { WeightAverage } from '../loop/average';
import type { RunSettings } from '../model-files/run-settings';
import { restoreState, saveState } from '../model-files/resume.node.ts';
import { adjustRows, logPriorAdjustment } from '../loop/logit-adjust';
import { appendValidationLogits, compactValidationLogits } from '../scores/val-logits.node.ts';
import { fitScaler, transform } from '../data/scaler';
import { saveModel } from '../model-files/saved-model.node.ts';
import { clipSpeakers, speakerNormalised, speakerStats } from '../data/speaker-norm';
import { speakerSplit, stratifiedSplit, withAugmented, type Split } from '../data/splits';
import { checkFitsDevice, validateTrainingData } from '../data/validate';
import { balanceKeys, classMaskOf, corpusReports, maskedArgmaxRows, type CorpusRecord, type CorpusReport, type CorpusSpec } from '../scores/corpora';
import { valCorpusSplit } from '../data/corpus-splits';
import { compileAheadDevices, openHelperDevices } from '../loop/compile-ahead.node.ts';
import { precompileTraining, trainingBatchSizes } from '../loop/warmup';

export interface TrainRunOptions {
  data?: string;
  /** Several corpora (`--data` repeated or named; corpora.ts): replaces `data`. */
  corpora?: CorpusSpec[];
  /** Train on the other corpora, validate on this one (corpus-splits.ts); replaces `split`. */
  valCorpus?: string;
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
  /** Augmented copies of the training clips (training side only); none when absent. */
  augment?: AugmentConfig;
  /**
   * Train on random windows of `frames` frames of the clips' features (their feature config's frames,
   * more than `frames`), predict with the mean of `evalWindows` windows; absent: the model reads whole rows.
   */
  windows?: WindowSettings;
  /** Standardise each clip's feature rows with its speaker's statistics before the scaler (speaker-norm.ts). */
  speakerNorm?: boolean;
  /** The command line's settings (run-settings.ts), kept in every checkpoint so that `--resume DIR` alone restores them. */
  settings?: RunSettings;
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
  /** Original index of each augmented example trained on (empty without --augment). */
  augmentedSources: number[];
  augment: AugmentConfig | null;
  windows: WindowSettings | null;
  masks: MaskSettings | null;
  training: TrainingSettings;
  speakerNorm: boolean;
  skipped: Skipped[];
  seconds: number;
  /** Several corpora: each one, and the evaluation broken down by corpus (over each one's classes). */
  corpora?: CorpusRecord[];
  perCorpus?: CorpusReport[];
}

/** Refuses window settings that cannot work (windowsProblem) before any data is loaded. */
export function checkWindows(w: WindowSettings, clipFrames: number | undefined): void {
  const problem = windowsProblem(w, clipFrames);
  if (problem) throw new RangeError(`window training: ${problem}`);
}

export async function trainRun(gpu: Gpu, extractorFor: (c: FeatureConfig) => FeatureExtractor, opts: TrainRunOptions): Promise<TrainRunResult> {
  const started = performance.now();
  if (opts.augment) checkAugmentConfig(opts.augment);
  if (opts.windows) checkWindows(opts.windows, opts.features?.frames);
  const loaded = await loadTrainingData(extractorFor, { data: opts.data, corpora: opts.corpora, cacheDir: opts.cacheDir, seed: opts.loop.seed, features: opts.features, log: opts.log });
  const byCorpus = opts.valCorpus !== undefined ? valCorpusSplit(loaded, opts.valCorpus, opts.loop.seed) : null;
  const data = byCorpus?.data ?? loaded;
  const split = byCorpus ? byCorpus.split
    : opts.split === 'speaker'
      ? speakerSplit(data.examples, { valSpeakers: opts.valSpeakers, valFraction: opts.val, seed: opts.loop.seed })
      : stratifiedSplit(data.examples, { valFraction: opts.val, seed: opts.loop.seed });
  const d = split.description;
  if (d.kind === 'corpus') opts.log(`split: train on ${data.corpora!.filter((c) => c.name !== d.valCorpus).map((c) => c.name).join(', ')}, validate on corpus ${d.valCorpus} over the shared classes ${data.corpora!.find((c) => c.name === d.valCorpus)!.classes.join(', ')}${d.omitted!.clips ? ` (${d.omitted!.clips} of its clips, of ${d.omitted!.classes.join(', ')}, left out)` : ''}: ${split.train.length} train / ${split.val.length} val`);
  else opts.log(`split: ${d.kind === 'stratified' ? `random stratified clip split (speakers may appear on both sides), ${Math.round(opts.val * 100)}% validation` : `speaker-independent, validation speakers ${d.valSpeakers?.join(', ')}`}, seed ${d.seed}: ${split.train.length} train / ${split.val.length} val`);
  // The validation files by name, so that a later evaluation (or a test) can use exactly the held-out clips.
  mkdirSync(opts.out, { recursive: true });
  writeFileSync(join(opts.out, 'split.json'), `${JSON.stringify(splitRecord(data, split), null, 2)}\n`);
  const augmented = opts.augment ? await augmentFeatures(data, split.train, opts.augment, opts.loop.seed, opts.log) : [];
  const result = await trainOnSplit(gpu, data, split, augmented, opts);
  return { ...result, seconds: (performance.now() - started) / 1000 };
}

/** Trains and evaluates one model on one split of loaded data; `augmented` may hold copies of any clip (only training ones are used). */
export async function trainOnSplit(gpu: Gpu, data: TrainingData, split: Split, augmented: readonly AugmentedClip[], opts: TrainRunOptions): Promise<TrainRunResult> {
  const started = performance.now();
  const log = opts.log;
  const fc = data.featureConfig;
  const rows = data.pipeline.rowNames.length;
  const n = data.features.length;
  const { classes } = data;

  const win = opts.windows ?? null;
  const lengths = win ? data.lengths : undefined;
  const speakerNorm = opts.speakerNorm ?? false;
  let features = data.features;
  let copyFeatures = augmented.map((a) => a.features);
  if (speakerNorm) {
    const speakers = clipSpeakers(data.examples, (i) => data.paths[i]!, '--speaker-norm');
    const stats = speakerStats(data.features, speakers, { rows, frames: fc.frames, lengths });
    features = speakerNormalised(data.features, speakers, stats);
    // An augmented copy is normalised with its source speaker's statistics (of the original clips).
    copyFeatures = speakerNormalised(copyFeatures, augmented.map((a) => speakers[a.source]!), stats);
    log(`speaker normalisation: each clip's feature rows standardised with its own speaker's statistics (${stats.size} speakers, validation speakers included; labels unused)`);
  }
  const scaler = fitScaler(features, split.train, { rows, frames: fc.frames, lengths });
  const { train, copies, copiesOf } = withAugmented(split, augmented.map((a) => a.source), n);
  const total = n + copies.length;
  // Scaled maps stay on the host; the loop uploads each batch as it is used (batches.ts).
  const x = [...features.map((f) => transform(scaler, f)), ...copies.map((j) => transform(scaler, copyFeatures[j]!))];
  const labelOf = (i: number) => classes.indexOf(data.examples[i]!.label);
  const labels = Uint32Array.from([...data.examples.keys(), ...copies.map((j) => augmented[j]!.source)], labelOf);
  // Several corpora: each clip (and copy) may be trained towards and scored on its corpus's classes only.
  const corpusOf = data.corpusOf ? [...data.corpusOf, ...copies.map((j) => data.corpusOf![augmented[j]!.source]!)] : null;
  const classMask = data.corpora && corpusOf ? classMaskOf(data.corpora.map((c) => c.classes), classes, corpusOf) : null;
  if (opts.loop.balanceCorpora && !corpusOf) throw new RangeError('--balance corpus balances corpora against each other: give --data at least twice');
  // Swapped augmentation trains on the originals, each epoch drawing some of them as one of their copies.
  const swap = opts.loop.augmentSwap;
  const trainOn = swap !== undefined ? split.train : train;
  // Refused here, before any training, when a class has no training clip (logit-adjust.ts).
  const given = opts.loop.logitAdjust;
  const adjustment = Array.isArray(given) ? [...given] : given ? logPriorAdjustment(trainOn.map((i) => labels[i]!), classes.length, classes) : null;
  if (copies.length > 0) {
    log(swap !== undefined
      ? `training on ${split.train.length} clips, each drawn every epoch as one of its augmented copies (${copies.length} in all) with probability ${swap}; validation ${split.val.length} clips (no copies)`
      : `training on ${split.train.length} clips + ${copies.length} augmented copies; validation ${split.val.length} clips (no copies)`);
  }

  const mc = modelConfig({ ...opts.model, classes: classes.length, inputRows: rows, inputFrames: win ? win.frames : fc.frames });
  const masks = opts.loop.masks ?? null;
  if (masks) checkMasks(masks, rows, mc.inputFrames);
  validateTrainingData({ shape: [total, rows, fc.frames, 1], x, labels, classes: classes.length }, { ...mc, inputFrames: fc.frames });
  checkFitsDevice(gpu.limits, mc, opts.loop.batch);
  const model = new SerModel(gpu, mc, opts.loop.seed);
  const trainer = new Trainer(model, { learningRate: opts.lr, clipnorm: 1.0, ...(opts.loop.weightDecay ? { weightDecay: opts.loop.weightDecay } : {}) });
  const examples: TrainingExamples = {
    x,
    rows,
    frames: fc.frames,
    labels,
    windows: win ? { ...win, lengths: Uint32Array.from([...data.lengths, ...copies.map((j) => augmented[j]!.length)]) } : undefined,
  };
  const augment = opts.augment ?? null;
  const training = trainingSettings(opts.loop);
  // speakerNorm is recorded only when on: models and checkpoints written before it existed stay valid.
  const meta = { modelConfig: mc, featureConfig: fc, scaler, classes, split: split.description, seed: opts.loop.seed, augment, windows: win, masks, training, ...(speakerNorm ? { speakerNorm } : {}), ...(adjustment ? { logitAdjustment: adjustment } : {}), ...(data.corpora ? { corpora: data.corpora.map(({ name, data: dir, classes: cc }) => ({ name, data: dir, classes: cc })) } : {}) };
  const dataSettings = { augment, windows: win, masks, training, featureConfig: fc, speakerNorm, ...(opts.settings ? { command: opts.settings } : {}) };
  mkdirSync(opts.out, { recursive: true });

  try {
    let resumeState: LoopState | undefined;
    let resumeAverage: WeightAverage | null = null;
    let best: NamedTensors | null = null;
    if (opts.resume) {
      ({ state: resumeState, average: resumeAverage } = await restoreState(opts.out, model, trainer, mc, dataSettings));
      if (resumeState.epoch > opts.loop.epochs) throw new RangeError(`${opts.out} has trained ${resumeState.epoch} epochs already: resume it with --epochs ${resumeState.epoch} or more, not ${opts.loop.epochs}`);
      best = (await readCheckpoint(opts.out, 'model').catch(() => null))?.tensors ?? null;
      log(`resuming after epoch ${resumeState.epoch} (best so far: epoch ${resumeState.bestEpoch})`);
    }
    log(`model: ${model.parameterCount} parameters; Adam lr ${opts.lr}, clipnorm 1.0; batch ${opts.loop.batch}, up to ${opts.loop.epochs} epochs; ${trainingLine(training, opts.loop.epochs)}${adjustment ? `; logit adjustment by the training prior ${adjustment.map((a) => a.toFixed(2)).join(', ')}` : ''}`);

    await precompileRun(gpu, mc, trainOn.length, split.val.length * (win ? win.evalWindows : 1), opts, log);
    // The loop decides with the adjustment computed here (the same one the saved model records).
    const state = await trainLoop(gpu, trainer, examples, { train: trainOn, val: split.val, ...(swap !== undefined ? { copiesOf } : {}), ...(classMask ? { classMask } : {}), ...(opts.loop.balanceCorpora && corpusOf ? { balanceKeys: balanceKeys(corpusOf, labels, classes.length) } : {}) }, adjustment ? { ...opts.loop, logitAdjust: adjustment } : opts.loop, {
      onProgress: opts.onProgress,
      shouldStop: opts.shouldStop,
      onValidated: async (s, improved) => {
        const e = s.history[s.history.length - 1];
        if (e) {
          const pct = (v: number | null) => (v === null ? '-' : `${(100 * v).toFixed(1)}%`);
          log(
            `epoch ${e.epoch}: train loss ${e.trainLoss.toFixed(4)} acc ${pct(e.trainAccuracy)} | val loss ${e.valLoss?.toFixed(4) ?? '-'} acc ${pct(e.valAccuracy)}${e.valUar != null ? ` uar ${pct(e.valUar)}` : ''}` +
              ` | lr ${e.lr.toExponential(2)} | ${e.seconds.toFixed(0)} s, ${e.samplesPerSecond.toFixed(1)} samples/s${improved ? ' | best so far' : ''}`,
          );
        }
        if (!improved) return;
        // The model holds the validated weights (with --swa-from, their average): the best so far.
        best = await model.exportTensors();
        await saveModel(opts.out, model, { ...meta, history: s.history });
      },
      onValidationLogits: (epoch, logits, valLabels) => appendValidationLogits(opts.out, epoch, split.val, valLabels, logits),
      onEpochEnd: async (s, _improved, average, raw) => saveState(opts.out, model, trainer, s, dataSettings, average, raw),
    }, resumeState, resumeAverage);

    if (best) model.importTensors(best);
    const evalIdx = split.val.length ? split.val : split.train;
    const logits = await examplesLogits(gpu, model, examples, evalIdx, opts.loop.batch);
    const truth = evalIdx.map((i) => labels[i]!);
    const pred = classMask ? maskedArgmaxRows(adjustment ? adjustRows(logits, adjustment) : logits, classes.length, evalIdx, classMask) : argmaxRows(adjustment ? adjustRows(logits, adjustment) : logits, classes.length);
    const report = classificationReport(truth, pred, classes);
    const perCorpus = data.corpora && corpusOf ? corpusReports(data.corpora, classMask, corpusOf, classes, evalIdx, truth, pred) : undefined;
    await saveModel(opts.out, model, { ...meta, history: state.history, metrics: { accuracy: report.accuracy, uar: report.uar, macroF1: report.macroF1, bestEpoch: state.bestEpoch } });
    compactValidationLogits(opts.out);
    const augmentedSources = copies.map((j) => augmented[j]!.source);
    return { out: opts.out, report, state, classes, split, augmentedSources, augment, windows: win, masks, training, speakerNorm, skipped: data.skipped, seconds: (performance.now() - started) / 1000, ...(data.corpora ? { corpora: data.corpora, perCorpus } : {}) };
  } finally {
    trainer.dispose();
    model.dispose();
  }
}

/**
 * Compiles the run's pipelines ahead of the first epoch, in parallel (warmup.ts); when SER_COMPILE_AHEAD
 * asks (compile-ahead.node.ts; off by default), also dispatches each once, shared with helper devices,
 * so that a driver compiling at first dispatch (lavapipe) compiles now; says so when it took any.
 */
async function precompileRun(gpu: Gpu, mc: ModelConfig, trainCount: number, evalRows: number, opts: TrainRunOptions, log: (l: string) => void): Promise<void> {
  const sizes = trainingBatchSizes(trainCount, opts.loop.batch, opts.loop.bnRecalibration, evalRows);
  const devices = compileAheadDevices(gpu);
  const helpers = devices > 1 ? await openHelperDevices(gpu, devices - 1) : [];
  try {
    const done = await precompileTraining(gpu, mc, sizes, { weightDecay: opts.loop.weightDecay, classWeights: opts.loop.classWeights === 'balanced', dispatchAhead: devices > 0, helpers });
    const what = `batch sizes: train ${sizes.train.join(', ')}; validation ${sizes.evaluate.join(', ') || '-'}`;
    if (done.dispatched > 0) log(`compiled ${done.dispatched} GPU pipelines ahead of training on ${done.devices} device${done.devices === 1 ? '' : 's'} in ${done.seconds.toFixed(1)} s (a dispatch of each; ${what}; SER_COMPILE_AHEAD=0 skips it)`);
    // "created": the driver may still defer the machine-code compile to first use (lavapipe does, bench/RESULTS.md).
    else if (done.pipelines > 0) log(`created ${done.pipelines} GPU pipelines ahead of training in ${done.seconds.toFixed(1)} s (createComputePipelineAsync; ${what})`);
  } finally {
    helpers.forEach((h) => h.destroy());
  }
}

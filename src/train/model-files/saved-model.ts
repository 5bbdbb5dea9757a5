// A trained model from its two files' contents, as `ser train` writes them: model.json (model config,
// feature config, scaler, classes, split, seed, per-epoch metrics, the weights' SHA-256) and
// model.safetensors (weights and BN moving statistics). Everything is validated against a freshly
// built model, so a checkpoint of another config or a tampered file is refused before any
// prediction. Browser-safe: the caller fetches or reads the bytes (saved-model.node.ts reads files).

import type { AugmentConfig } from '../../dsp/augment';
import type { FeatureConfig } from '../../dsp/config';
import { featureConfig } from '../../dsp/config';
import type { Gpu } from '../../gpu';
import { SerModel, modelConfig, type ModelConfig } from '../../nn/model';
import { expectTensors, parseCheckpoint, type CheckpointSource } from './checkpoint';
import { windowsProblem, type WindowSettings } from '../loop/batches';
import type { MaskSettings } from '../loop/masks';
import { recordedTraining, type TrainingSettings } from '../loop/training-settings';
import { adjustmentProblem } from '../loop/logit-adjust';
import type { EpochMetrics } from '../loop/loop';
import { CheckpointError } from './safetensors';
import { scalerFromJSON, type ScalerStats } from '../data/scaler';
import type { SplitDescription } from '../data/splits';

export interface ModelMeta {
  modelConfig: ModelConfig;
  featureConfig: FeatureConfig;
  scaler: ScalerStats;
  classes: string[];
  split?: SplitDescription;
  seed?: number;
  history?: EpochMetrics[];
  metrics?: Record<string, unknown>;
  /** The --augment settings the training clips were augmented with (null: none). */
  augment?: AugmentConfig | null;
  /** Window training (--clip-frames): the model reads windows of the features and averages them (null: whole rows). */
  windows?: WindowSettings | null;
  /** --speaker-norm: the clips were standardised per speaker before the scaler; inference must be given each clip's speaker. */
  speakerNorm?: boolean;
  /** The feature masks of training (--time-masks / --row-masks; null: none). Recorded only: inference never masks. */
  masks?: MaskSettings | null;
  /** The learning-rate schedule and class balance of training. Recorded only. */
  training?: TrainingSettings;
  /** --logit-adjust: added to the log class probabilities before every decision (logit-adjust.ts). */
  logitAdjustment?: number[];
}

export interface LoadedModel {
  model: SerModel;
  meta: ModelMeta;
  raw: Record<string, unknown>;
}

export interface ModelFiles {
  /** Text of model.json. */
  json: string;
  /** Bytes of model.safetensors. */
  safetensors: Uint8Array;
  /** Names of the two files for messages (defaults: model.json, model.safetensors). */
  from?: CheckpointSource;
}

export async function loadModelFromBytes(gpu: Gpu, files: ModelFiles): Promise<LoadedModel> {
  const from = files.from ?? { json: 'model.json', tensors: 'model.safetensors' };
  const { tensors, meta } = await parseCheckpoint(files.json, files.safetensors, from);
  const field = (k: string) => {
    if (!(k in meta)) throw new CheckpointError(`${from.json}: missing '${k}'`);
    return meta[k];
  };
  let mc: ModelConfig;
  let fc: FeatureConfig;
  try {
    mc = modelConfig(field('modelConfig') as Partial<ModelConfig>);
    fc = featureConfig(field('featureConfig') as Partial<FeatureConfig>);
  } catch (e) {
    throw new CheckpointError(`${from.json}: invalid config (${(e as Error).message})`);
  }
  const classes = field('classes');
  if (!Array.isArray(classes) || classes.length !== mc.classes || !classes.every((c) => typeof c === 'string')) {
    throw new CheckpointError(`${from.json}: 'classes' must list ${mc.classes} class names`);
  }
  let scaler: ScalerStats;
  try {
    scaler = scalerFromJSON(field('scaler'));
  } catch (e) {
    throw new CheckpointError(`${from.json}: invalid scaler (${(e as Error).message})`);
  }
  const windows = meta.windows ?? null;
  if (windows !== null) {
    const w = windows as Partial<WindowSettings>;
    if (typeof w !== 'object' || w.frames !== mc.inputFrames) throw new CheckpointError(`${from.json}: 'windows' must be {frames: ${mc.inputFrames} (the model's input), evalWindows}`);
    const problem = windowsProblem(w, fc.frames);
    if (problem) throw new CheckpointError(`${from.json}: 'windows': ${problem}`);
  } else if (fc.frames !== mc.inputFrames) {
    throw new CheckpointError(`${from.json}: the features have ${fc.frames} frames but the model reads ${mc.inputFrames} (and no 'windows')`);
  }
  if (meta.speakerNorm !== undefined && typeof meta.speakerNorm !== 'boolean') throw new CheckpointError(`${from.json}: 'speakerNorm' must be true or false`);
  const adjustment = meta.logitAdjustment;
  if (adjustment !== undefined) {
    const problem = adjustmentProblem(adjustment, mc.classes);
    if (problem) throw new CheckpointError(`${from.json}: ${problem}`);
  }
  const model = new SerModel(gpu, mc, 0);
  try {
    expectTensors(tensors, model.tensorShapes(), from.tensors);
    model.importTensors(tensors);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return {
    model,
    meta: { modelConfig: mc, featureConfig: fc, scaler, classes: classes as string[], split: meta.split as SplitDescription, seed: meta.seed as number, history: meta.history as EpochMetrics[], windows: windows as WindowSettings | null, masks: (meta.masks ?? null) as MaskSettings | null, training: recordedTraining(meta.training), speakerNorm: meta.speakerNorm === true, ...(adjustment !== undefined ? { logitAdjustment: adjustment as number[] } : {}) },
    raw: meta,
  };
}

/**
 * The loaded model with its windows averaged over `k` evaluation windows instead of the trained
 * setting (`ser evaluate/predict --eval-windows`); refused for a model that reads whole rows.
 */
export function withEvalWindows(loaded: LoadedModel, k: number): LoadedModel {
  if (!loaded.meta.windows) throw new RangeError('--eval-windows applies only to a model trained on windows (ser train --clip-frames); this one reads whole clips');
  const windows = { ...loaded.meta.windows, evalWindows: k };
  const problem = windowsProblem(windows, loaded.meta.featureConfig.frames);
  if (problem) throw new RangeError(problem);
  return { ...loaded, meta: { ...loaded.meta, windows } };
}

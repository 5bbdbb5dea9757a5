// A trained model on disk, as `ser train` writes it: model.safetensors (weights and BN moving
// statistics) and model.json (model config, feature config, scaler, classes, split, seed, per-epoch
// metrics, the weights' SHA-256). Loading validates all of it against a freshly built model, so a
// checkpoint of another config or a tampered file is refused before any prediction.

import type { FeatureConfig } from '../dsp/config';
import { featureConfig } from '../dsp/config';
import type { Gpu } from '../gpu';
import { SerModel, modelConfig, type ModelConfig } from '../nn/model';
import { expectTensors, readCheckpoint, writeCheckpoint } from './checkpoint.node.ts';
import type { EpochMetrics } from './loop';
import { CheckpointError } from './safetensors';
import { scalerFromJSON, scalerToJSON, type ScalerStats } from './scaler';
import type { SplitDescription } from './splits';

export interface ModelMeta {
  modelConfig: ModelConfig;
  featureConfig: FeatureConfig;
  scaler: ScalerStats;
  classes: string[];
  split?: SplitDescription;
  seed?: number;
  history?: EpochMetrics[];
  metrics?: Record<string, unknown>;
}

export async function saveModel(dir: string, model: SerModel, meta: ModelMeta, name = 'model', extra: Record<string, unknown> = {}): Promise<string> {
  const tensors = await model.exportTensors();
  return writeCheckpoint(dir, name, tensors, { ...meta, scaler: scalerToJSON(meta.scaler), ...extra });
}

export interface LoadedModel {
  model: SerModel;
  meta: ModelMeta;
  raw: Record<string, unknown>;
}

export async function loadModel(gpu: Gpu, dir: string, name = 'model'): Promise<LoadedModel> {
  const { tensors, meta } = await readCheckpoint(dir, name);
  const where = `${dir}/${name}.json`;
  const field = (k: string) => {
    if (!(k in meta)) throw new CheckpointError(`${where}: missing '${k}'`);
    return meta[k];
  };
  let mc: ModelConfig;
  let fc: FeatureConfig;
  try {
    mc = modelConfig(field('modelConfig') as Partial<ModelConfig>);
    fc = featureConfig(field('featureConfig') as Partial<FeatureConfig>);
  } catch (e) {
    throw new CheckpointError(`${where}: invalid config (${(e as Error).message})`);
  }
  const classes = field('classes');
  if (!Array.isArray(classes) || classes.length !== mc.classes || !classes.every((c) => typeof c === 'string')) {
    throw new CheckpointError(`${where}: 'classes' must list ${mc.classes} class names`);
  }
  let scaler: ScalerStats;
  try {
    scaler = scalerFromJSON(field('scaler'));
  } catch (e) {
    throw new CheckpointError(`${where}: invalid scaler (${(e as Error).message})`);
  }
  const model = new SerModel(gpu, mc, 0);
  try {
    expectTensors(tensors, model.tensorShapes(), `${dir}/${name}.safetensors`);
    model.importTensors(tensors);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return {
    model,
    meta: { modelConfig: mc, featureConfig: fc, scaler, classes: classes as string[], split: meta.split as SplitDescription, seed: meta.seed as number, history: meta.history as EpochMetrics[] },
    raw: meta,
  };
}

// What --resume needs after an epoch: the model's tensors, Adam's moments and counters, the dropout
// stream's position and the loop state, written as `checkpoint.*` in the run's folder (atomically,
// by checkpoint.node.ts), and the inverse that loads them into a freshly built model and trainer.
// A checkpoint of another model config, other augmentation, window, mask, schedule, sampling or feature
// settings is refused: continuing it would silently train on other data or another network.

import type { AugmentConfig } from '../../dsp/augment';
import type { FeatureConfig } from '../../dsp/config';
import type { WindowSettings } from '../loop/batches';
import type { MaskSettings } from '../loop/masks';
import { recordedTraining, type TrainingSettings } from '../loop/training-settings';
import type { ModelConfig, SerModel } from '../../nn/model';
import type { Trainer } from '../../nn/train-step';
import { readCheckpoint, writeCheckpoint } from './checkpoint.node.ts';
import type { LoopState } from '../loop/loop';
import { CheckpointError, type NamedTensors } from './safetensors';
import type { RunSettings } from './run-settings';
import { AVERAGE_PREFIX, averageFromTensors, averageTensors, type WeightAverage } from '../loop/average';

/**
 * The data settings a checkpoint must have been written with to be resumed, and the command line's
 * settings (`command`, written as `settings`: what `--resume DIR` alone restores, run-settings.ts; not
 * compared here, since --epochs may grow).
 */
export interface DataSettings { augment: AugmentConfig | null; windows: WindowSettings | null; masks: MaskSettings | null; training: TrainingSettings; featureConfig: FeatureConfig; speakerNorm?: boolean; command?: RunSettings }

/**
 * Writes the checkpoint: the model's weights (`weights` when the caller already holds them, exactly
 * as exportTensors gives them, else read back here), Adam's moments and counters, the weight average.
 */
export async function saveState(dir: string, model: SerModel, trainer: Trainer, state: LoopState, settings: DataSettings, average: WeightAverage | null = null, weights: NamedTensors | null = null): Promise<void> {
  const names = [...model.params.keys()];
  const moments = names.flatMap((n) => {
    const { m, v } = trainer.adam.moments(n);
    return [m, v];
  });
  const arrays = await model.gpu.readMany([...moments, trainer.adam.iterations, model.dropoutState]);
  const tensors: NamedTensors = weights ? new Map(weights) : await model.exportTensors();
  names.forEach((n, i) => {
    tensors.set(`adam.m.${n}`, { shape: [...moments[2 * i]!.shape], data: arrays[2 * i] as Float32Array });
    tensors.set(`adam.v.${n}`, { shape: [...moments[2 * i + 1]!.shape], data: arrays[2 * i + 1] as Float32Array });
  });
  if (average) for (const [n, t] of averageTensors(average)) tensors.set(n, t);
  const counters = { iterations: arrays[moments.length]![0]!, dropoutStep: arrays[moments.length + 1]![0]!, dropoutSeed: arrays[moments.length + 1]![1]!, averaged: average?.count ?? 0 };
  await writeCheckpoint(dir, 'checkpoint', tensors, { modelConfig: model.config, augment: settings.augment, windows: settings.windows, masks: settings.masks, training: settings.training, featureConfig: settings.featureConfig, ...(settings.speakerNorm ? { speakerNorm: true } : {}), ...(settings.command ? { settings: settings.command } : {}), loop: state, learningRate: trainer.adam.learningRate, counters });
}

/** Loads the checkpoint into model and trainer; returns the loop state and the weight average (null: none). */
export async function restoreState(dir: string, model: SerModel, trainer: Trainer, mc: ModelConfig, settings: DataSettings): Promise<{ state: LoopState; average: WeightAverage | null }> {
  const { tensors, meta } = await readCheckpoint(dir, 'checkpoint');
  if (JSON.stringify(meta.modelConfig) !== JSON.stringify(mc)) {
    throw new CheckpointError(`${dir}/checkpoint.json: written for another model config; resume with the same options`);
  }
  if (JSON.stringify(meta.augment ?? null) !== JSON.stringify(settings.augment)) {
    throw new CheckpointError(`${dir}/checkpoint.json: written with other augmentation settings (${JSON.stringify(meta.augment ?? null)}); resume with the same --augment options`);
  }
  if (JSON.stringify(meta.windows ?? null) !== JSON.stringify(settings.windows)) {
    throw new CheckpointError(`${dir}/checkpoint.json: written with other window settings (${JSON.stringify(meta.windows ?? null)}); resume with the same --clip-frames and --eval-windows`);
  }
  if (JSON.stringify(meta.masks ?? null) !== JSON.stringify(settings.masks)) {
    throw new CheckpointError(`${dir}/checkpoint.json: written with other feature masks (${JSON.stringify(meta.masks ?? null)}); resume with the same --time-masks and --row-masks`);
  }
  if (JSON.stringify(recordedTraining(meta.training)) !== JSON.stringify(settings.training)) {
    throw new CheckpointError(`${dir}/checkpoint.json: written with another schedule or sampling (${JSON.stringify(recordedTraining(meta.training))}); resume with the same --lr-schedule (and, for cosine, --epochs), --balance, --class-weights, --swa-from, --mixup, --weight-decay, --logit-adjust and --augment-swap`);
  }
  if ((meta.speakerNorm === true) !== (settings.speakerNorm ?? false)) {
    throw new CheckpointError(`${dir}/checkpoint.json: written ${meta.speakerNorm === true ? 'with' : 'without'} --speaker-norm; resume with the same options`);
  }
  // Checkpoints from before the feature config was recorded carry none; those are accepted.
  if (meta.featureConfig !== undefined && JSON.stringify(meta.featureConfig) !== JSON.stringify(settings.featureConfig)) {
    throw new CheckpointError(`${dir}/checkpoint.json: written with other feature settings; resume with the same options`);
  }
  const own = new Map([...tensors].filter(([k]) => !k.startsWith('adam.') && !k.startsWith(AVERAGE_PREFIX)));
  model.importTensors(own);
  for (const n of model.params.keys()) {
    const m = tensors.get(`adam.m.${n}`);
    const v = tensors.get(`adam.v.${n}`);
    if (!m || !v) throw new CheckpointError(`${dir}/checkpoint.safetensors: optimiser state for '${n}' is missing`);
    const slot = trainer.adam.moments(n);
    model.gpu.write(slot.m, m.data);
    model.gpu.write(slot.v, v.data);
  }
  const c = meta.counters as { iterations: number; dropoutStep: number; dropoutSeed: number; averaged?: number };
  model.gpu.write(trainer.adam.iterations, [c.iterations]);
  model.gpu.write(model.dropoutState, [c.dropoutStep, c.dropoutSeed]);
  trainer.adam.setLearningRate(meta.learningRate as number);
  let average: WeightAverage | null;
  try {
    average = averageFromTensors(tensors, c.averaged ?? 0, [...model.params.keys()]);
  } catch (e) {
    throw new CheckpointError(`${dir}/checkpoint.safetensors: ${(e as Error).message}`);
  }
  return { state: meta.loop as LoopState, average };
}

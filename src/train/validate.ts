// Checks a whole training set against the model once, on the CPU, before it is uploaded: shape
// [N, rows, frames, 1] matching the model, one label per example, the data set's class count equal to
// the model's, every label an integer in [0, classes), and every feature finite. On the GPU a NaN or an
// out-of-range label would only surface steps later as a NaN loss (BN spreads one NaN over the batch),
// so the errors here name the example and position instead. One pass over the data; not run per step.

import { ShapeError } from '../gpu';
import type { ModelConfig } from '../nn/model';

export interface TrainingData {
  /** Row-major [N, rows, frames, 1] features (already scaled). */
  x: ArrayLike<number>;
  shape: readonly number[];
  labels: ArrayLike<number>;
  /** How many classes the data set names (its label vocabulary). */
  classes: number;
}

export function validateTrainingData(data: TrainingData, model: Pick<ModelConfig, 'inputRows' | 'inputFrames' | 'classes'>): void {
  const bad = (msg: string) => new ShapeError(`training data: ${msg}`);
  const { shape, x, labels } = data;
  const want = `[N, ${model.inputRows}, ${model.inputFrames}, 1]`;
  if (shape.length !== 4 || shape[1] !== model.inputRows || shape[2] !== model.inputFrames || shape[3] !== 1) {
    throw bad(`shape [${shape.join(', ')}] does not fit the model's input ${want}`);
  }
  const n = shape[0]!;
  if (!Number.isInteger(n) || n < 1) throw bad(`needs at least one example, shape [${shape.join(', ')}]`);
  const per = model.inputRows * model.inputFrames;
  if (x.length !== n * per) throw bad(`${x.length} feature values for shape [${shape.join(', ')}] (expected ${n * per})`);
  if (labels.length !== n) throw bad(`${labels.length} labels for ${n} examples`);
  if (data.classes !== model.classes) throw bad(`the data set has ${data.classes} classes but the model outputs ${model.classes}`);
  for (let i = 0; i < n; i++) {
    const l = labels[i]!;
    if (!Number.isInteger(l) || l < 0 || l >= model.classes) throw bad(`label ${l} of example ${i} is not a class index in [0, ${model.classes})`);
  }
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (!Number.isFinite(v)) {
      const e = Math.floor(i / per);
      const r = Math.floor((i % per) / model.inputFrames);
      throw bad(`feature value ${v} in example ${e} (row ${r}, frame ${(i % per) % model.inputFrames})`);
    }
  }
}

/**
 * Bytes of the largest activation one example makes in the model: a conv output before pooling, at
 * stage i (0 = stem) of (rows >> i) x (frames >> i) pixels and that stage's filters, in f32.
 */
export function largestActivationBytesPerExample(model: Pick<ModelConfig, 'inputRows' | 'inputFrames' | 'stem' | 'blocks' | 'dense'>): number {
  const filters = [model.stem.filters, ...model.blocks.map((b) => b.filters)];
  const conv = filters.map((f, i) => (model.inputRows >> i) * (model.inputFrames >> i) * f);
  return 4 * Math.max(...conv, ...model.dense.map((d) => d.units));
}

/**
 * Refuses, before anything is uploaded, a batch whose largest activation or a data set whose features
 * exceed what one storage buffer of this device may hold; names the largest batch that fits.
 */
export function checkFitsDevice(
  limits: { maxStorageBufferBindingSize: number; maxBufferSize: number },
  model: Pick<ModelConfig, 'inputRows' | 'inputFrames' | 'stem' | 'blocks' | 'dense'>,
  batch: number,
  examples: number,
  /** Frames per example of the resident data set (more than the model reads when training on windows). */
  dataFrames = model.inputFrames,
): void {
  const cap = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const per = largestActivationBytesPerExample(model);
  if (batch * per > cap) {
    throw new ShapeError(
      `--batch ${batch} is too large for this device: its largest activation needs ${mib(batch * per)} in one buffer, ` +
        `the device allows ${mib(cap)}; use --batch ${Math.max(1, Math.floor(cap / per))} or less`,
    );
  }
  const dataBytes = examples * model.inputRows * dataFrames * 4;
  if (dataBytes > cap) {
    throw new ShapeError(
      `the data set's features (${examples} examples, ${mib(dataBytes)}) exceed one buffer of this device (${mib(cap)}); ` +
        `train on at most ${Math.floor(cap / (model.inputRows * dataFrames * 4))} examples (e.g. fewer --augment-copies)`,
    );
  }
}

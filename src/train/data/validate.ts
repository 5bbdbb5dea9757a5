// Checks a whole training set against the model once, on the CPU, before training: shape
// [N, rows, frames, 1] matching the model, one label per example, the data set's class count equal to
// the model's, every label an integer in [0, classes), and every feature finite. On the GPU a NaN or an
// out-of-range label would only surface steps later as a NaN loss (BN spreads one NaN over the batch),
// so the errors here name the example and position instead. One pass over the data; not run per step.

import { ShapeError } from '../../gpu';
import type { ModelConfig } from '../../nn/model';

export interface TrainingData {
  /** Each example's row-major [rows, frames] features (already scaled). */
  x: readonly ArrayLike<number>[];
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
  if (x.length !== n) throw bad(`${x.length} feature maps for shape [${shape.join(', ')}]`);
  const wrong = x.findIndex((f) => f.length !== per);
  if (wrong >= 0) throw bad(`example ${wrong} has ${x[wrong]!.length} feature values (expected ${model.inputRows} x ${model.inputFrames} = ${per})`);
  if (labels.length !== n) throw bad(`${labels.length} labels for ${n} examples`);
  if (data.classes !== model.classes) throw bad(`the data set has ${data.classes} classes but the model outputs ${model.classes}`);
  for (let i = 0; i < n; i++) {
    const l = labels[i]!;
    if (!Number.isInteger(l) || l < 0 || l >= model.classes) throw bad(`label ${l} of example ${i} is not a class index in [0, ${model.classes})`);
  }
  x.forEach((f, e) => {
    for (let i = 0; i < per; i++) {
      const v = f[i]!;
      if (!Number.isFinite(v)) throw bad(`feature value ${v} in example ${e} (row ${Math.floor(i / model.inputFrames)}, frame ${i % model.inputFrames})`);
    }
  });
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
 * Refuses, before training, a batch whose largest activation exceeds what one storage buffer of this
 * device may hold; names the largest batch that fits. The data set itself is not on the GPU (batches
 * are uploaded as they are used, batches.ts), so its size is not limited here.
 */
export function checkFitsDevice(
  limits: { maxStorageBufferBindingSize: number; maxBufferSize: number },
  model: Pick<ModelConfig, 'inputRows' | 'inputFrames' | 'stem' | 'blocks' | 'dense'>,
  batch: number,
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
}

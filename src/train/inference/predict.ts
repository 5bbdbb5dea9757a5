// Inference on feature blocks with a loaded model: the training split's scaler, batched forward
// passes in inference mode (moving BN statistics, or with batchNormGroups statistics re-estimated from
// each group's own blocks, `--adapt-bn`; no dropout; each batch uploaded as it is used, so
// GPU memory holds one batch, not the clips), softmax per clip (for a model trained on windows, the
// mean of its windows' probabilities; for a model trained with --logit-adjust, those probabilities
// divided by the training prior and renormalised, logit-adjust.ts). Browser-safe; the node file front
// end (infer.node.ts) and the browser entry (src/browser.ts) both go through it, so both give the same
// probabilities for the same features.

import type { Gpu } from '../../gpu';
import { type ExampleFeatures, adaptBatchNorm, examplesLogits, softmax } from '../loop/batches';
import type { SerModel } from '../../nn/model';
import type { LoadedModel } from '../model-files/saved-model';
import { transform } from '../data/scaler';
import { normalisePerSpeaker } from '../data/speaker-norm';
import { adjustRows } from '../loop/logit-adjust';

export { softmax } from '../loop/batches';

export interface ClassProbabilities {
  label: string;
  probabilities: Record<string, number>;
}


export interface PredictOptions {
  batch?: number;
  /** Frames of each block before padding (default all). */
  lengths?: readonly number[];
  /** The speaker of each block: required by a model trained with --speaker-norm, which normalises the blocks per speaker. */
  speakers?: readonly string[];
  /**
   * The group of each block (e.g. its corpus): the BN statistics are re-estimated from each group's
   * blocks before that group is predicted (adaptive batch normalisation; labels unused), and the
   * model's own statistics are put back afterwards. Needs many blocks per group.
   */
  batchNormGroups?: readonly string[];
}

/**
 * Class probabilities of each features block (rows x config.frames, unscaled), `batch` forward rows per
 * pass. A model trained on windows averages its windows' probabilities; `lengths` (frames of each block
 * before padding, default all) keeps those windows inside the clip as in training. A model trained
 * with --speaker-norm first standardises the blocks with their speaker's statistics over the blocks
 * given here (speaker-norm.ts), so it needs `speakers` and many blocks per speaker.
 */
export async function predictFeatures(gpu: Gpu, loaded: LoadedModel, features: readonly Float32Array[], opts: PredictOptions = {}): Promise<ClassProbabilities[]> {
  const { model, meta } = loaded;
  if (features.length === 0) return [];
  const rows = meta.modelConfig.inputRows;
  const S = meta.featureConfig.frames;
  const per = rows * S;
  features.forEach((f, k) => {
    if (f.length !== per) throw new RangeError(`predict: features block ${k} has ${f.length} values, the model needs ${rows} x ${S} = ${per}`);
  });
  let blocks = features;
  if (meta.speakerNorm) {
    if (!opts.speakers) throw new RangeError("predict: this model was trained with --speaker-norm and needs each clip's speaker (ser predict --one-speaker; ser evaluate takes them from the data set)");
    blocks = normalisePerSpeaker(features, opts.speakers, { rows, frames: S, lengths: meta.windows ? opts.lengths : undefined });
  }
  const K = meta.classes.length;
  // Scaled on the host; examplesLogits uploads one batch at a time.
  const data: ExampleFeatures = { x: blocks.map((f) => transform(meta.scaler, f)), rows, frames: S };
  if (meta.windows) data.windows = { ...meta.windows, lengths: Uint32Array.from(features, (_, k) => opts.lengths?.[k] ?? S) };
  const batch = opts.batch ?? 32;
  const logits = opts.batchNormGroups
    ? await adaptedLogits(gpu, model, data, opts.batchNormGroups, batch)
    : await examplesLogits(gpu, model, data, [...features.keys()], batch);
  return features.map((_, j) => {
    const row = logits.subarray(j * K, (j + 1) * K);
    const p = softmax(meta.logitAdjustment ? adjustRows(row, meta.logitAdjustment) : row);
    const best = p.indexOf(Math.max(...p));
    return { label: meta.classes[best]!, probabilities: Object.fromEntries(meta.classes.map((c, k) => [c, p[k]!])) };
  });
}

/** Logits of every example, each group predicted with BN statistics of its own examples; the model's statistics restored after. */
async function adaptedLogits(gpu: Gpu, model: SerModel, data: ExampleFeatures, groups: readonly string[], batch: number): Promise<Float32Array> {
  if (groups.length !== data.x.length) throw new RangeError(`predict: ${data.x.length} blocks but ${groups.length} batch-norm groups`);
  const K = model.config.classes;
  const names = [...model.state.keys()];
  const saved = await gpu.readMany(names.map((n) => model.state.get(n)!));
  const out = new Float32Array(data.x.length * K);
  try {
    for (const g of new Set(groups)) {
      const idx = groups.flatMap((h, i) => (h === g ? [i] : []));
      await adaptBatchNorm(gpu, model, data, idx, batch);
      const logits = await examplesLogits(gpu, model, data, idx, batch);
      idx.forEach((i, k) => out.set(logits.subarray(k * K, (k + 1) * K), i * K));
    }
  } finally {
    names.forEach((n, i) => gpu.write(model.state.get(n)!, saved[i] as Float32Array));
  }
  return out;
}

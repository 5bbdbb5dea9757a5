// Batches of examples whose features live on the host, whole or as windows of frames, assembled on
// the CPU and uploaded as they are used: GPU memory holds one batch, not the corpus, so any number of
// clips trains, validates and predicts (the features of 10,000 clips of 82 x 128 frames are 420 MB of
// host memory). A batch holds exactly the values the earlier on-GPU gather produced, so results do not
// change. With `windows` set each example holds S frames (the feature config's `frames`) and the model
// reads W < S of them: each training example is a random window of its clip, drawn afresh every epoch
// (a pure function of seed, epoch and example, so a resumed run sees the same windows), and inference
// averages the class probabilities of `evalWindows` evenly spaced windows. Windows stay inside the
// clip's own frames (`lengths`, before padding) wherever the clip is longer than W, so padding is seen
// only by clips shorter than the window, as without windows. Browser-safe.

import { createRng } from '../../common/random';
import type { Gpu, Tensor } from '../../gpu';
import type { SerModel } from '../../nn/model';
import { predictLogits as modelLogits, refreshBatchNorm, type Trainer } from '../../nn/train-step';

export interface WindowSettings {
  /** Frames the model reads (its inputFrames). */
  frames: number;
  /** Windows averaged per clip at evaluation and inference. */
  evalWindows: number;
}

/** Examples' (scaled) features on the host. */
export interface ExampleFeatures {
  /** Each example's [rows, frames] map, row-major (one channel). */
  x: readonly Float32Array[];
  rows: number;
  /** Frames of each stored map (S: the model's inputFrames without windows, more with them). */
  frames: number;
  /** Windows: the settings and each example's frames before padding. */
  windows?: WindowSettings & { lengths: Uint32Array };
}

/** A training set: features and each example's class index. */
export interface TrainingExamples extends ExampleFeatures {
  labels: Uint32Array;
}

/** The n examples of a row-major [n, rows, frames] block as views (no copy). */
export function exampleMaps(block: Float32Array, n: number): Float32Array[] {
  const per = block.length / n;
  if (!Number.isInteger(per)) throw new RangeError(`a block of ${block.length} values does not split into ${n} examples`);
  return Array.from({ length: n }, (_, i) => block.subarray(i * per, (i + 1) * per));
}

/**
 * Why window settings cannot work, or null: a window under 8 frames, clips (`clipFrames`, the
 * feature config's frames) not longer than the window, or evaluation windows outside 1..32. One rule
 * for training (checkWindows), loading a saved model and --eval-windows.
 */
export function windowsProblem(w: Partial<WindowSettings>, clipFrames: number | undefined): string | null {
  if (!Number.isInteger(w.frames) || w.frames! < 8) return `the window must be a whole number of at least 8 frames, got ${w.frames}`;
  if (clipFrames === undefined || !Number.isInteger(clipFrames) || clipFrames <= w.frames!) {
    return `the clips' features must have more frames than the ${w.frames}-frame window (got ${clipFrames ?? 'the default'})`;
  }
  if (!Number.isInteger(w.evalWindows) || w.evalWindows! < 1 || w.evalWindows! > 32) return `evaluation windows must be a whole number in 1..32, got ${w.evalWindows}`;
  return null;
}

/** Latest start of a W-frame window in a clip of `length` frames stored in S: 0 when the clip is shorter than W. */
function lastStart(length: number, W: number, S: number): number {
  return Math.max(0, Math.min(length, S) - W);
}

/** Random window starts of examples `ids` in epoch `epoch`: a pure function of (seed, epoch, example, its repeat). */
export function randomStarts(ids: readonly number[], lengths: Uint32Array, W: number, S: number, seed: number, epoch: number): Uint32Array {
  const seen = new Map<number, number>();
  return Uint32Array.from(ids, (i) => {
    const repeat = seen.get(i) ?? 0; // a clip repeated in one epoch (balanced epochs) gets another window
    seen.set(i, repeat + 1);
    const rng = createRng((seed * 2654435761 + epoch * 40503 + i * 9176 + repeat * 1234567 + 17) >>> 0);
    return rng.int(lastStart(lengths[i]!, W, S) + 1);
  });
}

/** `count` evenly spaced window starts over a clip of `length` frames (fewer when they would coincide). */
export function evalStarts(length: number, W: number, S: number, count: number): number[] {
  const last = lastStart(length, W, S);
  if (count <= 1 || last === 0) return [Math.floor(last / 2)];
  return [...new Set(Array.from({ length: count }, (_, k) => Math.round((k * last) / (count - 1))))];
}

/**
 * The model's input for examples `ids` as one row-major block [B, rows, W, 1]: whole maps (W = S), or
 * the windows of W frames at `starts` (all 0 when absent). Refuses an unknown example, a map of
 * another size or a window past the map.
 */
export function batchFeatures(data: ExampleFeatures, ids: readonly number[], starts?: ArrayLike<number>): Float32Array {
  const { rows: H, frames: S } = data;
  const W = data.windows ? data.windows.frames : S;
  const out = new Float32Array(ids.length * H * W);
  ids.forEach((id, b) => {
    const f = data.x[id];
    if (!f || f.length !== H * S) throw new RangeError(`batch: example ${id} ${f ? `has ${f.length} values, expected ${H} x ${S}` : `is not among the ${data.x.length} examples`}`);
    if (W === S) return out.set(f, b * H * S);
    const s = starts?.[b] ?? 0;
    if (!Number.isInteger(s) || s < 0 || s + W > S) throw new RangeError(`batch: a window of ${W} frames at ${s} runs past example ${id}'s ${S} frames`);
    for (let h = 0; h < H; h++) out.set(f.subarray(h * S + s, h * S + s + W), (b * H + h) * W);
  });
  return out;
}

/** The batch of examples `ids` as the model's input on the GPU: whole maps, or windows starting at `starts`. */
export function gatherBatch(gpu: Gpu, data: ExampleFeatures, ids: readonly number[], starts?: ArrayLike<number>): Tensor {
  const W = data.windows ? data.windows.frames : data.frames;
  return gpu.upload(batchFeatures(data, ids, starts), [ids.length, data.rows, W, 1], 'f32', 'batch.x');
}

/** A training batch: the model's input (as gatherBatch) and the labels [B] u32. */
export function gatherTrainingBatch(gpu: Gpu, data: TrainingExamples, ids: readonly number[], starts?: ArrayLike<number>): { x: Tensor; y: Tensor } {
  const y = Uint32Array.from(ids, (i) => data.labels[i]!);
  return { x: gatherBatch(gpu, data, ids, starts), y: gpu.upload(y, [ids.length], 'u32', 'batch.y') };
}

/** Softmax of one row of logits, in float64. */
export function softmax(row: ArrayLike<number>): number[] {
  const m = Math.max(...Array.from(row));
  const e = Array.from(row, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/**
 * Logits of the given examples in inference mode, in batches. With windows: log of the mean class
 * probabilities over each clip's evaluation windows (a log-softmax, so argmax and cross-entropy apply).
 */
export async function examplesLogits(gpu: Gpu, model: SerModel, data: ExampleFeatures, indices: readonly number[], batch: number): Promise<Float32Array> {
  const K = model.config.classes;
  const w = data.windows;
  const rows = forwardRows(data, indices);
  const raw = new Float32Array(rows.length * K);
  for (let s = 0; s < rows.length; s += batch) {
    const part = rows.slice(s, s + batch);
    const xb = gatherBatch(gpu, data, part.map((r) => indices[r.at]!), Uint32Array.from(part, (r) => r.start));
    const logits = modelLogits(model, xb);
    raw.set((await logits.read()) as Float32Array, s * K);
    xb.dispose();
    logits.dispose();
  }
  if (!w) return raw;
  const probs = new Float64Array(indices.length * K);
  const count = new Uint32Array(indices.length);
  rows.forEach((r, j) => {
    softmax(raw.subarray(j * K, (j + 1) * K)).forEach((p, k) => (probs[r.at * K + k] += p));
    count[r.at]++;
  });
  return Float32Array.from(probs, (p, j) => Math.log(Math.max(p / count[Math.floor(j / K)]!, 1e-30)));
}

/** One entry per forward row of inference on `indices`: (position in indices, window start; 0 without windows). */
function forwardRows(data: ExampleFeatures, indices: readonly number[]): { at: number; start: number }[] {
  const w = data.windows;
  const rows: { at: number; start: number }[] = [];
  indices.forEach((i, at) => {
    const starts = w ? evalStarts(w.lengths[i]!, w.frames, data.frames, w.evalWindows) : [0];
    for (const start of starts) rows.push({ at, start });
  });
  return rows;
}

/**
 * Replace the model's BN moving statistics by the mean of the batch statistics of the inference rows
 * of `indices` (every evaluation window, as examplesLogits reads them), in batches, without dropout:
 * the statistics of the data about to be predicted, labels unused (adaptive batch normalisation, Li et
 * al. 2016). Weights are untouched; the caller keeps the old statistics if it needs them back.
 */
export async function adaptBatchNorm(gpu: Gpu, model: SerModel, data: ExampleFeatures, indices: readonly number[], batch: number): Promise<void> {
  const rows = forwardRows(data, indices);
  await batchStatistics(gpu, model, data, rows.map((r) => indices[r.at]!), batch, Uint32Array.from(rows, (r) => r.start));
}

/**
 * Replace the BN moving statistics by the mean of the batch statistics of `indices` (in batches),
 * computed in training mode without dropout ("precise BN"), on the windows `starts` when the data has
 * windows. The moving averages collected during training see dropout's inflated variance and lag the
 * weights; on RAVDESS with the seed model they made inference collapse to one class (val 15.6%) where
 * these statistics give 46.9%.
 */
export async function recalibrateBatchNorm(gpu: Gpu, trainer: Trainer, data: ExampleFeatures, indices: readonly number[], batch: number, starts?: Uint32Array): Promise<void> {
  await batchStatistics(gpu, trainer.model, data, indices, batch, starts);
}

/** The model's BN moving statistics := the mean of the batch statistics of `ids` (windows at `starts`), `batch` at a time. */
async function batchStatistics(gpu: Gpu, model: SerModel, data: ExampleFeatures, ids: readonly number[], batch: number, starts?: Uint32Array): Promise<void> {
  for (let s = 0, i = 0; s < ids.length; s += batch, i++) {
    const xb = gatherBatch(gpu, data, ids.slice(s, s + batch), starts?.subarray(s, s + batch));
    refreshBatchNorm(model, xb, i / (i + 1)); // batch i gets weight 1/(i+1): a running mean
    xb.dispose();
    await gpu.sync();
  }
}

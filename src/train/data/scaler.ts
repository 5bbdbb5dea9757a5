// Standard scaler for feature maps: one mean and one standard deviation per feature ROW, computed
// over every frame of every training example (features are row-major [rows][frames] float32, by
// default 82 x 64; with `lengths`, over each example's frames before padding only). Statistics are accumulated in float64 in two passes (mean, then squared
// deviations) so large dB offsets do not cancel away the variance; std is the population std.
// A row whose std is below stdFloor is constant in training (e.g. a padded-out feature): it is
// centred but divided by 1, as scikit-learn does, since dividing by a tiny floor would blow up any
// variation it shows at inference time.

export interface ScalerStats {
  rows: number;
  frames: number;
  mean: Float32Array;
  std: Float32Array;
}

export interface ScalerOptions {
  rows?: number;
  frames?: number;
  stdFloor?: number;
  /** Frames of each example before padding (indexed like `examples`): only those are counted. Default: all frames. */
  lengths?: readonly number[];
}

const DEFAULTS = { rows: 82, frames: 64, stdFloor: 1e-6 };

export class ScalerError extends Error {
  override name = 'ScalerError';
}

/** Fits on examples[i] for i in indices only (pass the training split, never validation). */
export function fitScaler(examples: readonly Float32Array[], indices: readonly number[], options: ScalerOptions = {}): ScalerStats {
  const { rows, frames, stdFloor } = { ...DEFAULTS, ...options };
  const used = (i: number) => Math.max(1, Math.min(frames, options.lengths?.[i] ?? frames));
  if (indices.length === 0) throw new ScalerError('cannot fit a scaler on zero examples');
  const size = rows * frames;
  for (const i of indices) {
    const x = examples[i];
    if (!x) throw new ScalerError(`index ${i} is outside the ${examples.length} examples`);
    if (x.length !== size) throw new ScalerError(`example ${i} has ${x.length} values, expected ${rows} x ${frames} = ${size}`);
  }
  let count = 0;
  const mean = new Float64Array(rows);
  for (const i of indices) {
    const x = examples[i];
    const n = used(i);
    count += n;
    for (let r = 0; r < rows; r++) for (let t = 0, o = r * frames; t < n; t++) mean[r] += x[o + t];
  }
  for (let r = 0; r < rows; r++) mean[r] /= count;
  const sq = new Float64Array(rows);
  for (const i of indices) {
    const x = examples[i];
    const n = used(i);
    for (let r = 0; r < rows; r++) {
      for (let t = 0, o = r * frames; t < n; t++) {
        const d = x[o + t] - mean[r];
        sq[r] += d * d;
      }
    }
  }
  const std = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const s = Math.sqrt(sq[r] / count);
    std[r] = s < stdFloor ? 1 : s;
  }
  return { rows, frames, mean: Float32Array.from(mean), std };
}

/** (x - mean[row]) / std[row]; writes into x when inPlace, else into a new array. */
export function transform(stats: ScalerStats, x: Float32Array, options: { inPlace?: boolean } = {}): Float32Array {
  const { rows, frames, mean, std } = stats;
  if (x.length !== rows * frames) throw new ScalerError(`feature map has ${x.length} values, scaler expects ${rows} x ${frames}`);
  const out = options.inPlace ? x : new Float32Array(x.length);
  for (let r = 0; r < rows; r++) {
    const m = mean[r];
    const inv = 1 / std[r];
    for (let t = 0, o = r * frames; t < frames; t++) out[o + t] = (x[o + t] - m) * inv;
  }
  return out;
}

export interface ScalerJSON { kind: 'standard-scaler'; rows: number; frames: number; mean: number[]; std: number[] }

export function scalerToJSON(stats: ScalerStats): ScalerJSON {
  return { kind: 'standard-scaler', rows: stats.rows, frames: stats.frames, mean: Array.from(stats.mean), std: Array.from(stats.std) };
}

/** Validates everything (it comes from a checkpoint on disk) and never trusts the shape. */
export function scalerFromJSON(json: unknown): ScalerStats {
  const o = json as Partial<Record<keyof ScalerJSON, unknown>> | null;
  if (typeof o !== 'object' || o === null || o.kind !== 'standard-scaler') throw new ScalerError("scaler JSON must be an object with kind 'standard-scaler'");
  const { rows, frames, mean, std } = o;
  const positiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;
  if (!positiveInt(rows) || !positiveInt(frames)) throw new ScalerError('scaler JSON: rows and frames must be positive integers');
  const numbers = (v: unknown, name: string): Float32Array => {
    if (!Array.isArray(v) || v.length !== rows) throw new ScalerError(`scaler JSON: ${name} must be an array of ${rows} numbers`);
    if (!v.every((n) => typeof n === 'number' && Number.isFinite(n))) throw new ScalerError(`scaler JSON: ${name} holds a non-finite value`);
    return Float32Array.from(v as number[]);
  };
  const stdArr = numbers(std, 'std');
  if (stdArr.some((s) => s <= 0)) throw new ScalerError('scaler JSON: every std must be positive');
  return { rows, frames, mean: numbers(mean, 'mean'), std: stdArr };
}

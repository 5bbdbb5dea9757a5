// Shared inputs for the peer benchmarks: one set of named weights (our SerModel from a seed, with its BN
// scales, shifts and moving statistics randomised so inference-mode BN is not the identity), one fixed
// input batch and labels, and our own logits on them in inference mode. Every peer builds the same
// network from these weights, so its logits can be checked against ours before it is timed.

import { createRng } from '../../src/common/random';
import type { Gpu } from '../../src/gpu';
import { SerModel, modelConfig, type ModelConfig } from '../../src/nn/model';
import { Tape } from '../../src/nn/tape';

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}
export type Weights = Map<string, NamedTensor>;

export const BATCH = 32;
export const MODEL_SEED = 7;

export function benchConfig(): ModelConfig {
  return modelConfig();
}

/** A fixed batch [n, rows, frames, 1] of standard-normal-ish inputs (same memory as NCHW with C = 1). */
export function inputBatch(config: ModelConfig, n = BATCH, seed = 3): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n * config.inputRows * config.inputFrames }, () => rng.normal());
}

export function labelBatch(config: ModelConfig, n = BATCH, seed = 4): Int32Array {
  const rng = createRng(seed);
  return Int32Array.from({ length: n }, () => rng.int(config.classes));
}

/** Relative L2 error ||a - b|| / ||b||, NaN if either holds a non-finite value or the lengths differ. */
export function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return NaN;
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    if (!Number.isFinite(a[i]!) || !Number.isFinite(b[i]!)) return NaN;
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

/** Throws unless `got` matches `want` within `tol` relative L2 (a peer that computes something else is not timed). */
export function checkParity(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: number): number {
  const err = relL2(got, want);
  if (!(err <= tol)) throw new Error(`${what}: relative L2 error ${err} vs ours exceeds ${tol} (or non-finite output)`);
  return err;
}

export interface Reference {
  config: ModelConfig;
  weights: Weights;
  input: Float32Array;
  labels: Int32Array;
  /** Our inference-mode logits [BATCH, classes] on `input`. */
  logits: Float32Array;
}

let cached: Promise<Reference> | null = null;

/** The reference weights and logits, computed once per process on our runtime. */
export function reference(gpu: Gpu): Promise<Reference> {
  cached ??= build(gpu);
  return cached;
}

async function build(gpu: Gpu): Promise<Reference> {
  const config = benchConfig();
  const model = new SerModel(gpu, config, MODEL_SEED);
  try {
    const rng = createRng(MODEL_SEED + 1);
    const weights = await model.exportTensors();
    const uniform = (lo: number, hi: number) => lo + (hi - lo) * rng.next();
    const ranges: [RegExp, number, number][] = [
      [/\.bn\.gamma$/, 0.8, 1.2],
      [/\.bn\.beta$/, -0.1, 0.1],
      [/\.bn\.moving_mean$/, -0.1, 0.1],
      [/\.bn\.moving_var$/, 0.5, 1.5],
    ];
    for (const [name, t] of weights) {
      const r = ranges.find(([re]) => re.test(name));
      if (r) t.data = Float32Array.from(t.data, () => uniform(r[1], r[2]));
    }
    model.importTensors(weights);
    const input = inputBatch(config);
    const x = gpu.upload(input, [BATCH, config.inputRows, config.inputFrames, 1], 'f32', 'peers.x');
    const tape = new Tape(gpu);
    tape.training = false;
    try {
      const out = tape.noGrad(() => model.forward(tape, tape.input(x)));
      const logits = (await gpu.read(out.value)) as Float32Array;
      return { config, weights, input, labels: labelBatch(config), logits: Float32Array.from(logits) };
    } finally {
      tape.release();
      x.dispose();
    }
  } finally {
    model.dispose();
  }
}

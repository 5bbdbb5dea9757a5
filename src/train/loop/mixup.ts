// Mixup for training (`ser train --mixup ALPHA`; Zhang et al., "mixup: Beyond Empirical Risk
// Minimization", ICLR 2018): each training batch is blended with a shuffled copy of itself,
// x = w x_i + (1 - w) x_partner(i), and the loss targets the same blend of the two (label-smoothed)
// labels. One share per batch, as the paper's reference code: w = max(l, 1 - l) with l ~ Beta(alpha,
// alpha), so each example's own label keeps the larger share and training accuracy counts hits on it.
// The share and the partners are a pure function of (seed, epoch, step), like the windows and masks,
// so --resume repeats them. Validation, BN recalibration and inference never mix. Browser-safe.

import { createRng, type Rng } from '../../common/random';
import type { Gpu, Tensor } from '../../gpu';
import { mixRows } from '../../kernels/gather';
import type { LossMix } from '../../nn/layers';

export interface MixupSettings {
  /** Beta(alpha, alpha) concentration: small alpha keeps most batches nearly unmixed. */
  alpha: number;
}

export const MIXUP_ALPHA_RANGE = [0.05, 10] as const;

export function checkMixup(m: MixupSettings): void {
  const [lo, hi] = MIXUP_ALPHA_RANGE;
  if (!Number.isFinite(m.alpha) || m.alpha < lo || m.alpha > hi) throw new RangeError(`mixup: alpha must lie in ${lo}..${hi}, got ${m.alpha}`);
}

/** Gamma(shape, 1) by Marsaglia and Tsang's method (shape < 1 boosted: Gamma(a + 1) * U^(1/a)). */
export function sampleGamma(rng: Rng, shape: number): number {
  if (shape < 1) return sampleGamma(rng, shape + 1) * Math.pow(1 - rng.next(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rng.next();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** Beta(a, b) as G_a / (G_a + G_b). */
export function sampleBeta(rng: Rng, a: number, b: number): number {
  const x = sampleGamma(rng, a);
  const y = sampleGamma(rng, b);
  return x + y > 0 ? x / (x + y) : 0.5;
}

/** The blend of step `step` of epoch `epoch`: its own label's share (>= 0.5) and each row's partner row. */
export function drawMixup(batch: number, m: MixupSettings, seed: number, epoch: number, step: number): { weight: number; partners: Uint32Array } {
  const rng = createRng((seed * 2654435761 + epoch * 2246822519 + step * 3266489917 + 668265263) >>> 0);
  const l = sampleBeta(rng, m.alpha, m.alpha);
  const partners = Uint32Array.from(rng.shuffle(Array.from({ length: batch }, (_, i) => i)));
  return { weight: Math.max(l, 1 - l), partners };
}

/**
 * The blended batch of step `step`: x [B, ...] of examples `ids` mixed with their partners, and the
 * loss's mixup targets (partner labels from `labels`, the own share). The caller disposes all three.
 */
export function mixBatch(gpu: Gpu, x: Tensor, ids: readonly number[], labels: ArrayLike<number>, m: MixupSettings, seed: number, epoch: number, step: number): { x: Tensor; mix: LossMix } {
  const d = drawMixup(ids.length, m, seed, epoch, step);
  const rows = gpu.upload(d.partners, [ids.length], 'u32', 'mixup.rows');
  const weight = gpu.upload([d.weight], [1], 'f32', 'mixup.weight');
  const partners = gpu.upload(Array.from(d.partners, (p) => labels[ids[p]!]!), [ids.length], 'u32', 'mixup.partners');
  try {
    return { x: mixRows(gpu, x, rows, weight), mix: { partners, weight } };
  } finally {
    rows.dispose();
  }
}

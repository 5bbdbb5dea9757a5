// Feature masking for training (`ser train --time-masks K:T --row-masks K:F`, "SpecAugment" on the
// scaled feature map): every training example of every epoch gets up to K bands of up to T frames and
// up to K bands of up to F feature rows set to 0 (each row's training mean). Widths and positions are
// a pure function of (seed, epoch, example), like the window starts, so --resume sees the same masks.
// Validation, BN recalibration and inference never mask. Browser-safe.

import { createRng } from '../../common/random';
import type { Gpu, Tensor } from '../../gpu';
import { maskBands } from '../../kernels/mask';

export interface MaskSettings {
  /** Time masks per example and the widest, in frames ([0, 0]: none). */
  time: [count: number, maxWidth: number];
  /** Row (feature) masks per example and the widest, in rows ([0, 0]: none). */
  rows: [count: number, maxWidth: number];
}

/** Limits of the flags: a few masks, each well under the map's size. */
export const MASK_LIMITS = { count: [0, 4], width: [1, 32] } as const;

/** Refuses settings that cannot work on an H x W map: counts or widths out of range, a band as wide as the map. */
export function checkMasks(m: MaskSettings, H: number, W: number): void {
  const bad = (msg: string) => new RangeError(`feature masks: ${msg}`);
  for (const [what, [count, width], size, unit] of [['time', m.time, W, 'frames'], ['row', m.rows, H, 'rows']] as const) {
    if (!Number.isInteger(count) || count < MASK_LIMITS.count[0] || count > MASK_LIMITS.count[1]) throw bad(`${what} mask count must be a whole number in ${MASK_LIMITS.count.join('..')}, got ${count}`);
    if (count > 0 && (!Number.isInteger(width) || width < 1 || width >= size)) throw bad(`${what} masks must be 1..${size - 1} ${unit} wide (the map has ${size}), got ${width}`);
  }
  if (m.time[0] + m.rows[0] === 0) throw bad('at least one mask is needed (or leave the masks out)');
}

/** A span [start, end) of width uniform in 0..maxWidth at a uniform position inside `size`. */
function span(rng: ReturnType<typeof createRng>, maxWidth: number, size: number): [number, number] {
  const width = rng.int(maxWidth + 1);
  const start = rng.int(size - width + 1);
  return [start, start + width];
}

/** The spans of examples `ids` in epoch `epoch`, [ids.length, 2 * (time + row masks)]: time spans first. */
export function drawSpans(ids: readonly number[], m: MaskSettings, H: number, W: number, seed: number, epoch: number): Uint32Array {
  const P = 2 * (m.time[0] + m.rows[0]);
  const out = new Uint32Array(ids.length * P);
  ids.forEach((id, b) => {
    const rng = createRng((seed * 2246822519 + epoch * 3266489917 + id * 668265263 + 374761393) >>> 0);
    const pairs = [...Array.from({ length: m.time[0] }, () => span(rng, m.time[1], W)), ...Array.from({ length: m.rows[0] }, () => span(rng, m.rows[1], H))];
    out.set(pairs.flat(), b * P);
  });
  return out;
}

/** `x` [B, H, W, 1] with the masks of examples `ids` in `epoch` applied (a new tensor; x is not changed). */
export function applyMasks(gpu: Gpu, x: Tensor, ids: readonly number[], m: MaskSettings, seed: number, epoch: number): Tensor {
  const [, H, W] = x.shape as [number, number, number, number];
  const spans = gpu.upload(drawSpans(ids, m, H, W, seed, epoch), [ids.length, 2 * (m.time[0] + m.rows[0])], 'u32', 'batch.masks');
  try {
    return maskBands(gpu, x, spans, m.time[0], m.rows[0]);
  } finally {
    spans.dispose();
  }
}

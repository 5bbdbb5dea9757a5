// Float64 tensors for the reference ops: a row-major Float64Array with its shape (NHWC for images,
// [kh, kw, cin, cout] for conv weights, [in, out] for dense weights), a seeded RNG and the error
// measures the tests state their tolerances in.

import { relativeL2 } from '../../src/tune/gate';

export interface Tensor {
  data: Float64Array;
  shape: number[];
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function tensor(shape: number[], data?: ArrayLike<number>): Tensor {
  const n = sizeOf(shape);
  if (data && data.length !== n) throw new Error(`tensor: ${data.length} values for shape [${shape}]`);
  return { data: data ? Float64Array.from(data) : new Float64Array(n), shape: [...shape] };
}

/** mulberry32: seeded, uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One standard-normal draw by Box-Muller (the sine half is discarded to keep the stream simple). */
export function normal(rand: () => number): number {
  const u = Math.max(rand(), 1e-300);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

export function randn(shape: number[], rand: () => number, scale = 1): Tensor {
  const t = tensor(shape);
  for (let i = 0; i < t.data.length; i++) t.data[i] = scale * normal(rand);
  return t;
}

/** ||a - b|| / ||b||; 0/0 counts as 0, x/0 as ||a - b||. */
export function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`relL2: lengths ${a.length} and ${b.length}`);
  return relativeL2(a, b);
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxAbsDiff: lengths ${a.length} and ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** sum(a * b): the scalar the backward tests differentiate (its gradient wrt a is b). */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`dot: lengths ${a.length} and ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

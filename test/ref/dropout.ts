// Reference inverted dropout with a counter-based mask that a WGSL kernel reproduces bit-exactly using
// u32 arithmetic only (no state carried between steps, so forward and backward regenerate the mask).
//
// The exact formula (all operations on u32, wrapping mod 2^32; >> is a logical shift):
//   pcg(v):   s = v * 747796405u + 2891336453u
//             w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u
//             return (w >> 22u) ^ w
//   hash(seed, step, index) = pcg(pcg(pcg(seed) ^ step) ^ index)
//   threshold(p) = floor(p * 2^32)        (computed on the CPU in float64, 0 <= p < 1, passed as a u32)
//   keep(seed, step, index, p)  <=>  hash(seed, step, index) >= threshold(p)
//   y[index] = keep ? x[index] / (1 - p) : 0;   dx[index] = keep ? dy[index] / (1 - p) : 0
// index is the flat row-major element index of the tensor being dropped. pcg is the PCG RXS-M-XS hash
// (Jarzynski & Olano, "Hash Functions for GPU Rendering", 2020); each stage is a bijection of u32, so a
// fixed (seed, step) gives distinct hashes for distinct indices.

import { type Tensor, tensor } from './tensor';

export function pcgHash(v: number): number {
  const s = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const w = Math.imul(((s >>> ((s >>> 28) + 4)) ^ s) >>> 0, 277803737) >>> 0;
  return ((w >>> 22) ^ w) >>> 0;
}

export function dropoutHash(seed: number, step: number, index: number): number {
  return pcgHash((pcgHash((pcgHash(seed >>> 0) ^ step) >>> 0) ^ index) >>> 0);
}

export function dropoutThreshold(p: number): number {
  if (!(p >= 0 && p < 1)) throw new Error(`dropout: rate ${p} must be in [0, 1)`);
  return Math.floor(p * 4294967296);
}

export function dropoutKeep(seed: number, step: number, index: number, p: number): boolean {
  return dropoutHash(seed, step, index) >= dropoutThreshold(p);
}

export interface DropoutOptions {
  /** Probability of dropping an element. */
  p: number;
  seed: number;
  step: number;
}

/** 1 where the element is kept. */
export function dropoutMask(n: number, options: DropoutOptions): Uint8Array {
  const threshold = dropoutThreshold(options.p);
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) mask[i] = dropoutHash(options.seed, options.step, i) >= threshold ? 1 : 0;
  return mask;
}

export function dropoutForward(x: Tensor, options: DropoutOptions): { y: Tensor; mask: Uint8Array } {
  const mask = dropoutMask(x.data.length, options);
  const scale = 1 / (1 - options.p);
  const y = tensor(x.shape);
  for (let i = 0; i < y.data.length; i++) y.data[i] = mask[i] ? x.data[i]! * scale : 0;
  return { y, mask };
}

export function dropoutBackward(dy: Tensor, mask: Uint8Array, p: number): Tensor {
  const scale = 1 / (1 - p);
  const dx = tensor(dy.shape);
  for (let i = 0; i < dx.data.length; i++) dx.data[i] = mask[i] ? dy.data[i]! * scale : 0;
  return dx;
}

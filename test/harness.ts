// The kernel test harness: one poisoned runtime per test file (every new tensor starts as NaN, so an
// element a kernel forgets to write fails the comparison), seeded inputs, and relative-L2 comparison
// against float64 references with a stated tolerance.

import { relativeL2 } from '../src/tune/gate';
import { afterAll, beforeAll, expect } from 'vitest';
import { createRng } from '../src/common/random';
import type { Gpu, GpuOptions } from '../src/gpu';
import { createNodeGpu } from '../src/gpu/node.node.ts';

/** A runtime for the tests of one file: created before them, destroyed after (so the process exits). */
export function useGpu(options: GpuOptions = {}): () => Gpu {
  const gpus = useGpus(options);
  return () => gpus()[0]!;
}

/**
 * Several poisoned runtimes for one file, one per options object (e.g. a device feature off and on),
 * created before its tests and destroyed after (so the process exits); the getter returns them in order.
 */
export function useGpus(...options: GpuOptions[]): () => Gpu[] {
  let gpus: Gpu[] = [];
  beforeAll(async () => {
    gpus = await Promise.all(options.map((o) => createNodeGpu({ poison: true, ...o })));
  });
  afterAll(() => gpus.forEach((g) => g.destroy()));
  return () => {
    if (gpus.length === 0) throw new Error('useGpu: runtime not created yet (call inside a test or hook)');
    return gpus;
  };
}

/** A seeded uniform generator in [0, 1) (the project's mulberry32). */
export function rng(seed: number): () => number {
  return createRng(seed).next;
}

/** n standard-normal values (Box-Muller), as float64. */
export function randn(n: number, rand: () => number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(rand(), 1e-12);
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/** Random integer in [lo, hi]. */
export function randint(lo: number, hi: number, rand: () => number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

/** ||a - b|| / ||b|| (0/0 counts as 0): the measure the tuner's correctness gate uses too. */
export const relL2 = relativeL2;

/** Fails on length mismatch, on any non-finite value, and on relative L2 error above tol. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what = 'result'): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    if (!Number.isFinite(actual[i]!)) {
      throw new Error(`${what}: element ${i} is ${actual[i]} (unwritten or overflowed); expected ${expected[i]}`);
    }
  }
  const err = relL2(actual, expected);
  expect(err, `${what}: relative L2 error ${err.toExponential(2)} > ${tol}`).toBeLessThanOrEqual(tol);
}

/** Float32 tolerance for most kernels (relative L2). */
export const TOL_F32 = 1e-5;

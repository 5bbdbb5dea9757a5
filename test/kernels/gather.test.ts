// Row gather (batches from a resident data set) against a plain reference, f32 and u32, vec4 and
// scalar rows, repeated and out-of-range indices; window gather (random crops) on odd shapes; row
// blends (mixup) against a float64 reference.

import { describe, expect, it } from 'vitest';
import { gatherRows, gatherWindows, mixRows } from '../../src/kernels/gather';
import { TOL_F32, expectClose, randint, randn, rng, useGpu } from '../harness';

const gpu = useGpu();

describe('gatherRows', () => {
  for (const [N, D, B] of [[10, 4, 3], [37, 82 * 64, 32], [5, 3, 9], [100, 1, 17]] as const) {
    it(`gathers ${B} rows of ${D} from ${N}`, async () => {
      const r = rng(N * D + B);
      const src = Float32Array.from({ length: N * D }, () => r() - 0.5);
      const idx = Uint32Array.from({ length: B }, () => randint(0, N - 1, r));
      const g = gpu();
      const out = await gatherRows(g, g.upload(src, [N, D]), g.upload(idx, [B], 'u32')).read();
      const want = new Float32Array(B * D);
      idx.forEach((k, b) => want.set(src.subarray(k * D, (k + 1) * D), b * D));
      expect(out).toEqual(want);
    });
  }

  it('gathers u32 labels and marks out-of-range indices instead of reading past the end', async () => {
    const g = gpu();
    const out = await gatherRows(g, g.upload([7, 8, 9], [3], 'u32'), g.upload([2, 0, 5], [3], 'u32')).read();
    expect(Array.from(out)).toEqual([9, 7, 0xffffffff]);
    const f = await gatherRows(g, g.upload([1, 2, 3, 4], [1, 4]), g.upload([1], [1], 'u32')).read();
    expect(Array.from(f).every(Number.isNaN)).toBe(true);
  });

  it('refuses indices that are not u32', () => {
    const g = gpu();
    expect(() => gatherRows(g, g.zeros([3, 2]), g.zeros([2]))).toThrow(/gatherRows: .* is f32\[2\], expected u32/);
  });
});

describe('gatherWindows', () => {
  /** Plain reference: out[b, h, w, c] = src[idx[b], h, off[b] + w, c]. */
  function reference(src: Float32Array, [N, H, S, C]: number[], idx: Uint32Array, off: Uint32Array, W: number): Float32Array {
    const out = new Float32Array(idx.length * H * W * C);
    idx.forEach((r, b) => {
      for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let c = 0; c < C; c++) {
        out[((b * H + h) * W + w) * C + c] = r < N && off[b]! + w < S ? src[((r * H + h) * S + off[b]! + w) * C + c]! : NaN;
      }
    });
    return out;
  }

  for (const [N, H, S, C, W, B] of [[12, 82, 128, 1, 64, 32], [5, 3, 7, 2, 7, 4], [9, 4, 11, 3, 5, 13], [3, 1, 5, 1, 1, 2]] as const) {
    it(`gathers ${B} windows of ${W} of ${S} frames from [${N}, ${H}, ${S}, ${C}]`, async () => {
      const r = rng(N * S + W * 31 + B);
      const shape = [N, H, S, C];
      const src = Float32Array.from({ length: N * H * S * C }, () => r() - 0.5);
      const idx = Uint32Array.from({ length: B }, () => randint(0, N - 1, r));
      const off = Uint32Array.from({ length: B }, () => randint(0, S - W, r));
      const g = gpu();
      const out = await gatherWindows(g, g.upload(src, shape), g.upload(idx, [B], 'u32'), g.upload(off, [B], 'u32'), W).read();
      expect(out).toEqual(reference(src, shape, idx, off, W));
    });
  }

  it('writes NaN for an index past N or a window past the end, never reading out of bounds', async () => {
    const g = gpu();
    const src = Float32Array.from({ length: 2 * 1 * 4 * 1 }, (_, i) => i);
    const out = await gatherWindows(g, g.upload(src, [2, 1, 4, 1]), g.upload([1, 2, 0], [3], 'u32'), g.upload([1, 0, 2], [3], 'u32'), 3).read();
    expect(Array.from(out.subarray(0, 3))).toEqual([5, 6, 7]);
    expect(Array.from(out.subarray(3, 6)).every(Number.isNaN)).toBe(true);
    expect(Array.from(out.subarray(6, 8))).toEqual([2, 3]);
    expect(Number.isNaN(out[8])).toBe(true);
  });

  it('refuses bad windows and mismatched offsets', () => {
    const g = gpu();
    const src = g.zeros([2, 3, 8, 1]);
    const idx = g.upload([0, 1], [2], 'u32');
    expect(() => gatherWindows(g, src, idx, g.upload([0, 1], [2], 'u32'), 9)).toThrow(/window 9 must be an integer in 1..8/);
    expect(() => gatherWindows(g, src, idx, g.upload([0], [1], 'u32'), 4)).toThrow(/same length/);
    expect(() => gatherWindows(g, g.zeros([2, 8]), idx, g.upload([0, 1], [2], 'u32'), 4)).toThrow(/must be \[N, H, S, C\]/);
  });
});

describe('mixRows', () => {
  for (const [shape, w] of [[[32, 82, 64, 1], 0.71], [[5, 3, 7], 0.5], [[1, 4], 1], [[9, 6], 0.93]] as const) {
    it(`blends rows of ${JSON.stringify(shape)} with share ${w}`, async () => {
      const B = shape[0];
      const D = shape.reduce((a: number, b: number) => a * b, 1) / B;
      const r = rng(B * D + 5);
      const x = randn(B * D, r);
      const partners = Uint32Array.from({ length: B }, () => randint(0, B - 1, r));
      const g = gpu();
      const out = await mixRows(g, g.upload(Float32Array.from(x), [...shape]), g.upload(partners, [B], 'u32'), g.upload([w], [1])).read();
      const xf = Float32Array.from(x);
      const want = Float64Array.from({ length: B * D }, (_, i) => w * xf[i]! + (1 - w) * xf[partners[Math.floor(i / D)]! * D + (i % D)]!);
      expectClose(out, want, TOL_F32, 'blended rows');
    });
  }

  it('writes NaN for a partner past the batch and refuses mismatched partners or shares', async () => {
    const g = gpu();
    const out = await mixRows(g, g.upload([1, 2, 3, 4], [2, 2]), g.upload([1, 2], [2], 'u32'), g.upload([0.5], [1])).read();
    expect(Array.from(out.subarray(0, 2))).toEqual([2, 3]);
    expect(Array.from(out.subarray(2)).every(Number.isNaN)).toBe(true);
    expect(() => mixRows(g, g.zeros([2, 2]), g.zeros([3], 'u32'), g.zeros([1]))).toThrow(/partners \[3\] must be \[2\]/);
    expect(() => mixRows(g, g.zeros([2, 2]), g.zeros([2], 'u32'), g.zeros([2]))).toThrow(/should hold one value/);
    expect(() => mixRows(g, g.zeros([2, 2]), g.zeros([2]), g.zeros([1]))).toThrow(/expected u32/);
  });
});

// Row gather (batches from a resident data set) against a plain reference, f32 and u32, vec4 and
// scalar rows, repeated and out-of-range indices.

import { describe, expect, it } from 'vitest';
import { gatherRows } from '../../src/kernels/gather';
import { randint, rng, useGpu } from '../harness';

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

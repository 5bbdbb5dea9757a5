// Band masking (SpecAugment on the feature map) against a plain reference on NaN-poisoned outputs:
// odd shapes, several channels, empty, overlapping and out-of-range spans, time-only and row-only.

import { describe, expect, it } from 'vitest';
import { maskBands } from '../../src/kernels/mask';
import { randint, rng, useGpu } from '../harness';

const gpu = useGpu();

/** Plain reference: 0 where the frame is in a time span or the row in a row span of its example. */
function reference(x: Float32Array, [B, H, W, C]: number[], spans: Uint32Array, nt: number, nr: number): Float32Array {
  const P = 2 * (nt + nr);
  const out = Float32Array.from(x);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
    let masked = false;
    for (let k = 0; k < nt + nr; k++) {
      const at = k < nt ? w : h;
      masked ||= at >= spans[b * P + 2 * k]! && at < spans[b * P + 2 * k + 1]!;
    }
    if (masked) for (let c = 0; c < C; c++) out[((b * H + h) * W + w) * C + c] = 0;
  }
  return out;
}

describe('maskBands', () => {
  for (const [B, H, W, C, nt, nr] of [[32, 82, 64, 1, 2, 2], [3, 5, 7, 2, 1, 0], [5, 9, 4, 3, 0, 3], [1, 1, 1, 1, 1, 1]] as const) {
    it(`masks ${nt} time and ${nr} row bands of [${B}, ${H}, ${W}, ${C}]`, async () => {
      const r = rng(B * H + W * 7 + nt * 3 + nr);
      const shape = [B, H, W, C];
      const x = Float32Array.from({ length: B * H * W * C }, () => r() + 0.5); // never 0 before masking
      // Spans of any width, some empty (end <= start), some running past the map.
      const spans = Uint32Array.from({ length: B * 2 * (nt + nr) }, (_, i) => randint(0, (i % 2 ? 2 : 1) * Math.max(H, W), r));
      const g = gpu();
      const out = await maskBands(g, g.upload(x, shape), g.upload(spans, [B, 2 * (nt + nr)], 'u32'), nt, nr).read();
      const want = reference(x, shape, spans, nt, nr);
      expect(out).toEqual(want);
      // The random spans mask something but not everything, so the comparison tests both branches.
      if (B * H * W > 100) {
        const zeros = want.filter((v) => v === 0).length;
        expect(zeros).toBeGreaterThan(0);
        expect(zeros).toBeLessThan(want.length);
      }
    });
  }

  it('masks exactly the given bands', async () => {
    const g = gpu();
    // One example of 3 rows x 4 frames: frames 1..2 and row 2 masked.
    const out = await maskBands(g, g.upload(new Float32Array(12).fill(1), [1, 3, 4, 1]), g.upload([1, 3, 2, 3], [1, 4], 'u32'), 1, 1).read();
    expect(Array.from(out)).toEqual([1, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0]);
  });

  it('refuses spans of the wrong shape and no spans at all', () => {
    const g = gpu();
    const x = g.zeros([2, 3, 4, 1]);
    expect(() => maskBands(g, x, g.upload([0, 1, 0, 1], [2, 2], 'u32'), 1, 1)).toThrow(/spans \[2, 2\] must be \[2, 4\]/);
    expect(() => maskBands(g, x, g.upload([0, 1], [2, 1], 'u32'), 0, 0)).toThrow(/not both 0/);
    expect(() => maskBands(g, g.zeros([2, 12]), g.upload([0, 1, 0, 1], [2, 2], 'u32'), 1, 0)).toThrow(/must be \[B, H, W, C\]/);
  });
});

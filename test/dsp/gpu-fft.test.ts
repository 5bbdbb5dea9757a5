// The WGSL real FFT against a float64 DFT on random power-of-two lengths and row counts.

import { describe, expect, it } from 'vitest';
import { FFT_FAMILY, fftPlan, rfft, twiddleTable } from '../../src/kernels/fft';
import { withVariant } from '../../src/gpu/choices';
import { fft } from '../../src/dsp/reference/fft';
import { TOL_F32, expectClose, randint, randn, rng, useGpu } from '../harness';

const gpu = useGpu();

/** Float64 bins 0..N/2 of each row, interleaved (re, im). */
function rfftRef(x: Float32Array, rows: number, n: number): Float64Array {
  const bins = n / 2 + 1;
  const out = new Float64Array(rows * bins * 2);
  for (let r = 0; r < rows; r++) {
    const re = Float64Array.from(x.subarray(r * n, (r + 1) * n));
    const im = new Float64Array(n);
    fft(re, im);
    for (let k = 0; k < bins; k++) {
      out[(r * bins + k) * 2] = re[k]!;
      out[(r * bins + k) * 2 + 1] = im[k]!;
    }
  }
  return out;
}

describe('real FFT (Stockham radix-4/2 in workgroup memory) matches a float64 DFT', () => {
  const r = rng(7);
  const cases: [number, number][] = [8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096].map((n) => [n, randint(1, 5, r)]);
  cases.push([2048, 37], [4096, 3], [16, 70_001]);
  for (const [n, rows] of cases) {
    it(`N = ${n}, ${rows} rows`, async () => {
      const x = Float32Array.from(randn(rows * n, rng(n + rows)));
      const g = gpu();
      const out = rfft(g, g.upload(x, [rows, n]), g.upload(twiddleTable(n), [2 * n]));
      expect(out.shape).toEqual([rows, n / 2 + 1, 2]);
      expectClose(await out.read(), rfftRef(x, rows, n), TOL_F32, `rfft ${n}`);
    });
  }

  it('refuses lengths that are not powers of two or exceed 4096', () => {
    expect(() => fftPlan(1000)).toThrow(/power of two in 8..4096/);
    expect(() => fftPlan(8192)).toThrow(/power of two/);
  });
});

describe("the GPU-shaped FFT ('wg256': 256 invocations per frame) matches a float64 DFT", () => {
  // The lengths where it differs from the default (64 invocations, 128 at N = 4096), odd row counts.
  for (const [n, rows] of [[1024, 3], [2048, 37], [4096, 5]] as const) {
    it(`N = ${n}, ${rows} rows`, async () => {
      const x = Float32Array.from(randn(rows * n, rng(3 * n + rows)));
      const g = gpu();
      const wg = fftPlan(n, 256).workgroup; // 256, at most M/4: 128 at N = 1024
      expect(wg).toBeGreaterThan(fftPlan(n).workgroup);
      const out = withVariant(g, FFT_FAMILY, String(n), 'wg256', () => rfft(g, g.upload(x, [rows, n]), g.upload(twiddleTable(n), [2 * n])));
      expectClose(await out.read(), rfftRef(x, rows, n), TOL_F32, `rfft ${n} wg256`);
      expect(g.pipelines.has(`rfft:${n}:${wg}`)).toBe(true);
    });
  }
});

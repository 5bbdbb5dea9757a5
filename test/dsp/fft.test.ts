// The float64 reference FFT against a naive O(N^2) DFT on seeded random inputs of random sizes
// (powers of two and not), forward and inverse, plus the real-frame magnitude helper.

import { describe, expect, it } from 'vitest';
import { fft, rfftMagnitude } from '../../src/dsp/reference/fft';

function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function naiveDft(re: Float64Array, im: Float64Array, inverse: boolean) {
  const n = re.length;
  const sign = inverse ? 1 : -1;
  const outRe = new Float64Array(n);
  const outIm = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < n; j++) {
      const angle = (sign * 2 * Math.PI * ((k * j) % n)) / n;
      outRe[k] += re[j] * Math.cos(angle) - im[j] * Math.sin(angle);
      outIm[k] += re[j] * Math.sin(angle) + im[j] * Math.cos(angle);
    }
  }
  return { outRe, outIm };
}

const random = seeded(2024);
const sizes = [1, 2, 3, 8, 64, 2048, ...Array.from({ length: 10 }, () => 2 + Math.floor(random() * 700))];

describe('reference fft matches a naive DFT (max error < 1e-10 x sqrt(N) x max|x|)', () => {
  it.each(sizes)('N = %i, forward and inverse', (n) => {
    const re = Float64Array.from({ length: n }, () => random() * 2 - 1);
    const im = Float64Array.from({ length: n }, () => random() * 2 - 1);
    for (const inverse of [false, true]) {
      const { outRe, outIm } = naiveDft(re, im, inverse);
      const gotRe = re.slice();
      const gotIm = im.slice();
      fft(gotRe, gotIm, inverse);
      let worst = 0;
      for (let k = 0; k < n; k++) worst = Math.max(worst, Math.abs(gotRe[k] - outRe[k]), Math.abs(gotIm[k] - outIm[k]));
      expect(worst).toBeLessThan(1e-10 * Math.sqrt(n));
    }
  });

  it('rfftMagnitude gives |X[k]| for k = 0..N/2 of a real frame', () => {
    const n = 300;
    const x = Float64Array.from({ length: n }, () => random() - 0.5);
    const { outRe, outIm } = naiveDft(x, new Float64Array(n), false);
    const mag = rfftMagnitude(x);
    expect(mag.length).toBe(151);
    for (let k = 0; k <= 150; k++) expect(mag[k]).toBeCloseTo(Math.hypot(outRe[k], outIm[k]), 10);
  });
});

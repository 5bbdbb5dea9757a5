// Synthetic room reverberation: the generated impulse response decays 60 dB in RT60 (measured by
// Schroeder backward integration of its energy, as T30 is measured on real rooms), has the drawn
// direct-to-reverberant ratio and one velvet pulse per cell, is a function of the seed; the FFT
// convolution equals a plain float64 dense convolution, keeps the clip's length and RMS.

import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/common/random';
import { applyReverb, denseImpulseResponse, roomImpulseResponse, VELVET_DENSITY } from '../../src/dsp/reverb';

/** RT60 from the energy decay curve of h (from lag `from` on): least-squares line over -5..-35 dB, extrapolated to -60 dB. */
function schroederRt60(h: Float64Array, from: number, rate: number): number {
  const edc = new Float64Array(h.length - from);
  let acc = 0;
  for (let i = h.length - 1; i >= from; i--) edc[i - from] = acc += h[i]! * h[i]!;
  const pts: [number, number][] = [];
  edc.forEach((e, i) => {
    const db = 10 * Math.log10(e / edc[0]!);
    if (db <= -5 && db >= -35) pts.push([i / rate, db]);
  });
  const mt = pts.reduce((s, p) => s + p[0], 0) / pts.length;
  const md = pts.reduce((s, p) => s + p[1], 0) / pts.length;
  const slope = pts.reduce((s, p) => s + (p[0] - mt) * (p[1] - md), 0) / pts.reduce((s, p) => s + (p[0] - mt) ** 2, 0);
  return -60 / slope;
}

const rms = (x: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / x.length);
};

describe('roomImpulseResponse', () => {
  it('decays 60 dB in RT60 (Schroeder integration), within 3%', () => {
    for (const [rt60, drr, rate, seed] of [[0.2, 0, 22050, 1], [0.5, 6, 22050, 2], [1.2, -3, 16000, 3], [2, 12, 22050, 4]] as const) {
      const h = denseImpulseResponse(roomImpulseResponse(rt60, drr, rate, createRng(seed)));
      expect(h.length).toBe(Math.ceil(rt60 * rate));
      expect(Math.abs(schroederRt60(h, 1, rate) / rt60 - 1), `RT60 ${rt60}`).toBeLessThan(0.03);
    }
  });

  it('has the direct-to-reverberant ratio asked for and one pulse of random sign in each velvet cell', () => {
    const rate = 22050;
    for (const [rt60, drr] of [[0.3, -3], [0.8, 4.5], [1.5, 12]] as const) {
      const rir = roomImpulseResponse(rt60, drr, rate, createRng(9));
      expect(rir.lags[0]).toBe(0);
      expect(rir.gains[0]).toBe(1);
      let tail = 0;
      for (let k = 1; k < rir.gains.length; k++) tail += rir.gains[k]! ** 2;
      expect(10 * Math.log10(1 / tail)).toBeCloseTo(drr, 9);
      const cell = rate / VELVET_DENSITY;
      // Pulse k lies in cell k: lags 1 + [floor(k cell), (k + 1) cell).
      const pulses = Array.from(rir.lags.subarray(1));
      expect(pulses.every((lag, k) => lag - 1 >= Math.floor(k * cell) && lag - 1 < (k + 1) * cell)).toBe(true);
      expect(Math.abs(pulses.length - VELVET_DENSITY * rt60)).toBeLessThanOrEqual(1);
      const negative = Array.from(rir.gains.subarray(1)).filter((g) => g < 0).length;
      expect(Math.abs(negative / pulses.length - 0.5)).toBeLessThan(0.1);
    }
  });

  it('is a function of the seed', () => {
    const a = roomImpulseResponse(0.6, 3, 22050, createRng(5));
    expect(roomImpulseResponse(0.6, 3, 22050, createRng(5))).toEqual(a);
    expect(roomImpulseResponse(0.6, 3, 22050, createRng(6)).lags).not.toEqual(a.lags);
  });

  it('refuses a non-positive RT60', () => {
    expect(() => roomImpulseResponse(0, 3, 22050, createRng(1))).toThrow(/RT60 must be a positive number of seconds, got 0/);
  });
});

describe('applyReverb', () => {
  it('equals the float64 dense convolution truncated to the clip and scaled to its RMS', () => {
    const rng = createRng(11);
    const x = Float32Array.from({ length: 4000 }, () => rng.normal() * 0.2);
    const rir = roomImpulseResponse(0.1, 2, 22050, createRng(12));
    const h = denseImpulseResponse(rir);
    const ref = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) for (let j = 0; j <= i && j < h.length; j++) ref[i]! += h[j]! * x[i - j]!;
    const k = rms(x) / rms(ref);
    const y = applyReverb(x, rir);
    expect(y.length).toBe(x.length);
    let err = 0;
    let norm = 0;
    for (let i = 0; i < x.length; i++) {
      err += (y[i]! - k * ref[i]!) ** 2;
      norm += (k * ref[i]!) ** 2;
    }
    expect(Math.sqrt(err / norm)).toBeLessThan(1e-6);
    expect(rms(y) / rms(x)).toBeCloseTo(1, 6);
  });

  it('leaves a silent clip silent and does not touch its input', () => {
    const rir = roomImpulseResponse(0.3, 0, 22050, createRng(1));
    expect(applyReverb(new Float32Array(500), rir).every((v) => v === 0)).toBe(true);
    const x = Float32Array.from({ length: 3000 }, (_, i) => Math.sin(i / 7));
    const before = x.slice();
    applyReverb(x, rir);
    expect(x).toEqual(before);
  });
});

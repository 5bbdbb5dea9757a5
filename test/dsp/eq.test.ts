// Microphone colouring: the Butterworth low-pass and the tilt shelf give pure tones the gains of
// their analytic magnitude responses (the bilinear-transform formulas in src/dsp/eq.ts, evaluated in
// float64), so a tone above the cutoff loses the expected dB and one well below passes; the tilt moves
// the low/high level ratio by its dB; corners at or above the Nyquist frequency are refused.

import { describe, expect, it } from 'vitest';
import { FilterError, LOWPASS_ORDER, lowPass, tilt, TILT_CORNER_HZ } from '../../src/dsp/eq';

const RATE = 22050;

function tone(hz: number, seconds = 1): Float32Array {
  return Float32Array.from({ length: Math.round(seconds * RATE) }, (_, i) => 0.5 * Math.sin((2 * Math.PI * hz * i) / RATE + 0.3));
}

/** Steady-state gain in dB of `filter` on a tone at hz: RMS ratio over the second half (the transient is long gone). */
function toneGainDb(filter: (x: Float32Array) => Float32Array, hz: number): number {
  const x = tone(hz);
  const y = filter(x);
  const half = Math.floor(x.length / 2);
  let px = 0;
  let py = 0;
  for (let i = half; i < x.length; i++) {
    px += x[i]! * x[i]!;
    py += y[i]! * y[i]!;
  }
  return 10 * Math.log10(py / px);
}

const prewarp = (hz: number): number => Math.tan((Math.PI * hz) / RATE);
const lowPassDb = (hz: number, fc: number): number => -10 * Math.log10(1 + (prewarp(hz) / prewarp(fc)) ** (2 * LOWPASS_ORDER));
function tiltDb(hz: number, t: number): number {
  const k = prewarp(TILT_CORNER_HZ);
  const w = prewarp(hz);
  const g0 = 10 ** (-t / 40);
  const gN = 10 ** (t / 40);
  return 10 * Math.log10((g0 * g0 * k * k + gN * gN * w * w) / (k * k + w * w));
}

describe('lowPass', () => {
  it('gives tones the Butterworth gains: passes well below the cutoff, -3 dB at it, the expected loss above', () => {
    for (const fc of [3400, 8000]) {
      for (const hz of [fc / 8, fc / 2, fc, Math.min(2 * fc, 10000)]) {
        expect(toneGainDb((x) => lowPass(x, fc, RATE), hz), `${hz} Hz through ${fc} Hz`).toBeCloseTo(lowPassDb(hz, fc), 1);
      }
      expect(Math.abs(toneGainDb((x) => lowPass(x, fc, RATE), fc / 8))).toBeLessThan(0.01);
      expect(toneGainDb((x) => lowPass(x, fc, RATE), fc)).toBeCloseTo(-3.01, 1);
    }
    // An octave above a telephone cutoff a 4th-order Butterworth takes away about 35 dB (prewarped).
    const above = toneGainDb((x) => lowPass(x, 3400, RATE), 6800);
    expect(above).toBeCloseTo(lowPassDb(6800, 3400), 1);
    expect(above).toBeLessThan(-30);
  });

  it('keeps the length, does not touch its input, refuses a cutoff at or above the Nyquist frequency', () => {
    const x = tone(440, 0.1);
    const before = x.slice();
    expect(lowPass(x, 3000, RATE).length).toBe(x.length);
    expect(x).toEqual(before);
    expect(() => lowPass(x, 11025, RATE)).toThrow(FilterError);
    expect(() => lowPass(x, 12000, RATE)).toThrow(/low-pass cutoff 12000 Hz must be above 0 and below the Nyquist frequency 11025 Hz/);
  });
});

describe('tilt', () => {
  it('gives tones the shelf gains, and changes the low/high level ratio by the tilt', () => {
    for (const t of [-12, -3, 6, 12]) {
      const low = toneGainDb((x) => tilt(x, t, RATE), 50);
      const high = toneGainDb((x) => tilt(x, t, RATE), 10000);
      expect(low).toBeCloseTo(tiltDb(50, t), 1);
      expect(high).toBeCloseTo(tiltDb(10000, t), 1);
      expect(toneGainDb((x) => tilt(x, t, RATE), 1000)).toBeCloseTo(tiltDb(1000, t), 1);
      expect(Math.abs(high - low - t), `tilt ${t}`).toBeLessThan(0.25);
    }
  });

  it('with 0 dB is the identity', () => {
    const x = tone(300, 0.2);
    const y = tilt(x, 0, RATE);
    expect(y.every((v, i) => Math.abs(v - x[i]!) < 1e-6)).toBe(true);
  });
});

// Waveform augmentation: each transform does what its definition says (SNR achieved, shift,
// gain, speed changes length and pitch by the factor), the random draws stay within the configured
// ranges, the same seed gives the same samples, nothing turns into NaN, and bad settings are refused.
// The optional room and microphone transforms (reverb, low-pass, tilt) leave the copies of configs
// without them bit-identical to those made before they existed, add their draws after the first four,
// and do what their draws say.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/common/random';
import {
  addNoise, applyGain, augmentWaveform, checkAugmentConfig, defaultAugmentConfig, describeAugmentConfig, drawAugmentation, speedPerturb, timeShift,
  type AugmentConfig,
} from '../../src/dsp/augment';
import { REVERB_DRR_DB } from '../../src/dsp/reverb';

const RATE = 22050;

/** A voiced-like test signal: two partials under a slow envelope, plus silence at both ends. */
function signal(n: number, seed = 1): Float32Array {
  const rng = createRng(seed);
  const f0 = 120 + 80 * rng.next();
  const x = new Float32Array(n);
  for (let i = Math.floor(n / 10); i < n - Math.floor(n / 10); i++) {
    const t = i / RATE;
    x[i] = (0.3 * Math.sin(2 * Math.PI * f0 * t) + 0.1 * Math.sin(2 * Math.PI * 3 * f0 * t)) * (0.6 + 0.4 * Math.sin(2 * Math.PI * 2 * t));
  }
  return x;
}

const meanSquare = (x: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return s / x.length;
};
const allFinite = (x: Float32Array): boolean => x.every(Number.isFinite);

/** Frequency of a pure tone from its positive-going zero crossings. */
function toneFrequency(x: Float32Array, rate: number): number {
  const ups: number[] = [];
  for (let i = 1; i < x.length; i++) if (x[i - 1]! < 0 && x[i]! >= 0) ups.push(i - x[i]! / (x[i]! - x[i - 1]!));
  return ((ups.length - 1) * rate) / (ups[ups.length - 1]! - ups[0]!);
}

describe('addNoise', () => {
  it('achieves the requested SNR on each clip within 0.01 dB, with noise of mean about 0', () => {
    for (const [seed, snr] of [[1, 10], [2, 20], [3, 30], [4, -5], [5, 55]] as const) {
      const x = signal(20000 + 333 * seed, seed);
      const y = addNoise(x, snr, createRng(seed * 7));
      const noise = y.map((v, i) => v - x[i]!);
      expect(allFinite(y)).toBe(true);
      expect(10 * Math.log10(meanSquare(x) / meanSquare(noise))).toBeCloseTo(snr, 2);
      const mean = noise.reduce((a, b) => a + b, 0) / noise.length;
      expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(meanSquare(noise) / noise.length));
    }
  });

  it('leaves a silent clip silent and does not touch its input', () => {
    const silent = new Float32Array(1000);
    expect(addNoise(silent, 20, createRng(1)).every((v) => v === 0)).toBe(true);
    const x = signal(5000);
    const before = x.slice();
    addNoise(x, 20, createRng(2));
    expect(x).toEqual(before);
  });
});

describe('timeShift and applyGain', () => {
  it('delays or advances by the shift, keeps the length and zero-fills the vacated samples', () => {
    const x = Float32Array.from({ length: 50 }, (_, i) => i + 1);
    const later = timeShift(x, 7);
    expect(later.length).toBe(50);
    expect([...later.subarray(0, 7)]).toEqual(new Array(7).fill(0));
    expect([...later.subarray(7)]).toEqual([...x.subarray(0, 43)]);
    const earlier = timeShift(x, -5);
    expect([...earlier.subarray(0, 45)]).toEqual([...x.subarray(5)]);
    expect([...earlier.subarray(45)]).toEqual(new Array(5).fill(0));
    expect(timeShift(x, 0)).toEqual(x);
    expect(timeShift(x, 80).every((v) => v === 0)).toBe(true);
    expect(timeShift(x, -80).every((v) => v === 0)).toBe(true);
  });

  it('scales the amplitude by 10^(dB/20)', () => {
    const x = signal(4000);
    for (const db of [-6, 0, 3.5, 12]) {
      const y = applyGain(x, db);
      expect(Math.sqrt(meanSquare(y) / meanSquare(x))).toBeCloseTo(10 ** (db / 20), 5);
    }
  });
});

describe('speedPerturb', () => {
  it('changes the length to ceil(n / factor) and every frequency by the factor', () => {
    const n = 22050;
    const tone = Float32Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * 440 * i) / RATE));
    for (const f of [0.9, 0.95, 1.07, 1.1, 1.23]) {
      const y = speedPerturb(tone, f);
      expect(y.length).toBe(Math.ceil(n / f - 1e-9));
      expect(allFinite(y)).toBe(true);
      // Away from the edges (the resampler's filter ramps there) the tone is 440 f Hz.
      const mid = y.subarray(2000, y.length - 2000);
      expect(toneFrequency(mid, RATE) / (440 * f)).toBeCloseTo(1, 3);
    }
    expect(speedPerturb(tone, 1)).toEqual(tone);
    expect(() => speedPerturb(tone, 3)).toThrow(/0\.5\.\.2/);
  });
});

describe('augmentWaveform', () => {
  const config: AugmentConfig = { copies: 2, snrDb: [10, 30], shiftMs: 100, speed: [0.9, 1.1], gainDb: 6 };

  it('is a function of the seed: same seed same samples, another seed other samples; never NaN', () => {
    const x = signal(30000);
    const a = augmentWaveform(x, RATE, config, createRng(42));
    const b = augmentWaveform(x, RATE, config, createRng(42));
    const c = augmentWaveform(x, RATE, config, createRng(43));
    expect(b.samples).toEqual(a.samples);
    expect(b.draw).toEqual(a.draw);
    expect(c.samples).not.toEqual(a.samples);
    for (const r of [a, c]) expect(allFinite(r.samples)).toBe(true);
    expect(a.samples.length).toBe(Math.ceil(x.length / a.draw.speed - 1e-9));
  });

  it('draws every parameter within its configured range, speeds on a 1% grid', () => {
    const rng = createRng(5);
    const maxShift = Math.round(0.1 * RATE);
    const draws = Array.from({ length: 500 }, () => drawAugmentation(config, RATE, rng));
    for (const d of draws) {
      expect(d.speed).toBeGreaterThanOrEqual(0.9);
      expect(d.speed).toBeLessThanOrEqual(1.1);
      expect(Math.abs(d.speed * 100 - Math.round(d.speed * 100))).toBeLessThan(1e-9);
      expect(Math.abs(d.shiftSamples)).toBeLessThanOrEqual(maxShift);
      expect(Math.abs(d.gainDb)).toBeLessThanOrEqual(6);
      expect(d.snrDb!).toBeGreaterThanOrEqual(10);
      expect(d.snrDb!).toBeLessThanOrEqual(30);
    }
    // The ranges are used, not just respected.
    expect(Math.max(...draws.map((d) => d.speed)) - Math.min(...draws.map((d) => d.speed))).toBeGreaterThan(0.15);
    expect(Math.max(...draws.map((d) => d.snrDb!)) - Math.min(...draws.map((d) => d.snrDb!))).toBeGreaterThan(15);
  });

  it('with every transform switched off returns the input unchanged', () => {
    const x = signal(8000);
    const off: AugmentConfig = { copies: 1, snrDb: null, shiftMs: 0, speed: [1, 1], gainDb: 0 };
    expect(augmentWaveform(x, RATE, off, createRng(1)).samples).toEqual(x);
  });

  it('refuses settings outside their limits, naming the field', () => {
    expect(() => checkAugmentConfig(defaultAugmentConfig)).not.toThrow();
    const bad: [Partial<AugmentConfig>, RegExp][] = [
      [{ copies: 0 }, /copies/], [{ copies: 1.5 }, /copies/], [{ snrDb: [30, 10] }, /snrDb/], [{ snrDb: [-20, 10] }, /snrDb/],
      [{ shiftMs: -1 }, /shiftMs/], [{ speed: [0.2, 1] }, /speed/], [{ gainDb: Number.NaN }, /gainDb/],
    ];
    for (const [patch, msg] of bad) expect(() => checkAugmentConfig({ ...defaultAugmentConfig, ...patch })).toThrow(msg);
  });
});

describe('augmentWaveform with reverberation, low-pass and tilt', () => {
  const base: AugmentConfig = { copies: 2, snrDb: [10, 30], shiftMs: 100, speed: [0.9, 1.1], gainDb: 6 };
  const twoTones = (): Float32Array => Float32Array.from({ length: 30000 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 150 * i) / RATE) + 0.1 * Math.sin((2 * Math.PI * 450 * i) / RATE));
  const sha = (x: Float32Array): string => createHash('sha256').update(new Uint8Array(x.buffer, x.byteOffset, x.byteLength)).digest('hex');

  it('gives configs without them the copies made before they existed, bit for bit', () => {
    // SHA-256 of the samples made by the code before the optional transforms were added (commit 33e40a0).
    const x = twoTones();
    expect(sha(augmentWaveform(x, RATE, base, createRng(42)).samples)).toBe('e68dfaeb4dc1a96d6dc3f95c55f73ec898860a979926527bf3d1b7130b51ca9a');
    expect(sha(augmentWaveform(x, RATE, base, createRng(7)).samples)).toBe('d47b524b1320b84331934219bcf8d4e849ec17b65dd99ae640e5c687660e6705');
    expect(describeAugmentConfig(base)).toBe('2 copies per training clip: speed 0.9..1.1, shift up to ±100 ms, gain up to ±6 dB, white noise at 10..30 dB SNR');
  });

  it('draws the first four parameters as without them, then theirs within range', () => {
    const on: AugmentConfig = { ...base, reverbRt60: [0.2, 0.8], lowpassHz: [3400, 8000], tiltDb: 6 };
    const draws = Array.from({ length: 300 }, (_, seed) => {
      const d = drawAugmentation(on, RATE, createRng(seed));
      const plain = drawAugmentation(base, RATE, createRng(seed));
      expect({ speed: d.speed, shiftSamples: d.shiftSamples, gainDb: d.gainDb, snrDb: d.snrDb }).toEqual(plain);
      return d;
    });
    for (const d of draws) {
      expect(d.reverb!.rt60).toBeGreaterThanOrEqual(0.2);
      expect(d.reverb!.rt60).toBeLessThanOrEqual(0.8);
      expect(d.reverb!.drrDb).toBeGreaterThanOrEqual(REVERB_DRR_DB[0]);
      expect(d.reverb!.drrDb).toBeLessThanOrEqual(REVERB_DRR_DB[1]);
      expect(Number.isInteger(d.reverb!.seed)).toBe(true);
      expect(d.lowpassHz!).toBeGreaterThanOrEqual(3400);
      expect(d.lowpassHz!).toBeLessThanOrEqual(8000);
      expect(Math.abs(d.tiltDb!)).toBeLessThanOrEqual(6);
    }
    expect(Math.max(...draws.map((d) => d.tiltDb!)) - Math.min(...draws.map((d) => d.tiltDb!))).toBeGreaterThan(10);
    expect(drawAugmentation(base, RATE, createRng(1))).not.toHaveProperty('reverb');
    expect(describeAugmentConfig(on)).toBe('2 copies per training clip: speed 0.9..1.1, shift up to ±100 ms, reverberation RT60 0.2..0.8 s (DRR -3..12 dB), low-pass at 3400..8000 Hz, spectral tilt up to ±6 dB, gain up to ±6 dB, white noise at 10..30 dB SNR');
  });

  it('reverberates keeping length and RMS, reproducibly from the seed', () => {
    const only: AugmentConfig = { copies: 1, snrDb: null, shiftMs: 0, speed: [1, 1], gainDb: 0, reverbRt60: [0.3, 0.6] };
    const x = signal(20000);
    const a = augmentWaveform(x, RATE, only, createRng(8));
    expect(a.samples.length).toBe(x.length);
    expect(Math.sqrt(meanSquare(a.samples) / meanSquare(x))).toBeCloseTo(1, 5);
    expect(a.samples).not.toEqual(x);
    expect(allFinite(a.samples)).toBe(true);
    expect(augmentWaveform(x, RATE, only, createRng(8)).samples).toEqual(a.samples);
    expect(augmentWaveform(x, RATE, only, createRng(9)).samples).not.toEqual(a.samples);
  });

  it('tilts low against high by the drawn dB, and low-passes at the drawn cutoff', () => {
    const gainDb = (x: Float32Array, y: Float32Array) => 10 * Math.log10(meanSquare(y.subarray(x.length / 2)) / meanSquare(x.subarray(x.length / 2)));
    const tone = (hz: number) => Float32Array.from({ length: RATE }, (_, i) => 0.4 * Math.sin((2 * Math.PI * hz * i) / RATE));
    const [low, high] = [tone(60), tone(10000)];
    const tiltOnly: AugmentConfig = { copies: 1, snrDb: null, shiftMs: 0, speed: [1, 1], gainDb: 0, tiltDb: 10 };
    for (const seed of [1, 2, 3]) {
      const a = augmentWaveform(low, RATE, tiltOnly, createRng(seed));
      const b = augmentWaveform(high, RATE, tiltOnly, createRng(seed));
      expect(Math.abs(gainDb(high, b.samples) - gainDb(low, a.samples) - a.draw.tiltDb!)).toBeLessThan(0.25);
    }
    const lowpassOnly: AugmentConfig = { copies: 1, snrDb: null, shiftMs: 0, speed: [1, 1], gainDb: 0, lowpassHz: [3400, 3400] };
    expect(gainDb(tone(500), augmentWaveform(tone(500), RATE, lowpassOnly, createRng(1)).samples)).toBeCloseTo(0, 2);
    expect(gainDb(tone(6800), augmentWaveform(tone(6800), RATE, lowpassOnly, createRng(1)).samples)).toBeLessThan(-30);
  });

  it('refuses their settings outside the limits, naming the field and the values', () => {
    const bad: [Partial<AugmentConfig>, RegExp][] = [
      [{ reverbRt60: [0.8, 0.2] }, /reverbRt60 must be lo:hi with 0.05 <= lo <= hi <= 2, got 0.8:0.2/], [{ reverbRt60: [0.5, 3] }, /reverbRt60.*got 0.5:3/],
      [{ lowpassHz: [100, 3000] }, /lowpassHz must be lo:hi with 300 <= lo <= hi <= 10000, got 100:3000/], [{ tiltDb: 30 }, /tiltDb must be in 0..24, got 30/],
      [{ tiltDb: -1 }, /tiltDb/],
    ];
    for (const [patch, msg] of bad) expect(() => checkAugmentConfig({ ...defaultAugmentConfig, ...patch })).toThrow(msg);
    expect(() => checkAugmentConfig({ ...defaultAugmentConfig, reverbRt60: [0.2, 0.8], lowpassHz: [3400, 8000], tiltDb: 6 })).not.toThrow();
  });
});

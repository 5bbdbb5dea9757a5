// Waveform augmentation for training clips: speed perturbation (resampling, so pitch and tempo change
// together, as Kaldi's speed perturbation), time shift, and optionally room reverberation
// (dsp/reverb.ts), a low-pass and a spectral tilt (dsp/eq.ts), then gain and additive white noise at a
// given SNR, applied in that order to a mono float32 signal: speed, shift, reverb, low-pass, tilt,
// gain, noise (the room colours the voice before the microphone and its channel do; the noise is the
// recording's own). Every function is pure; the random parameters of a copy are drawn from an
// explicit seeded Rng (common/random.ts), so the same seed gives the same augmented samples on every
// platform. Browser-safe.
//
// Draws: speed, shift, gain and SNR come first, always, in that order; then, only for the options
// that are on: RT60, DRR and the impulse response's seed (reverb), the cutoff (low-pass), the tilt.
// A config without the optional fields therefore gives the same copies as before they existed.
//
// Definitions:
//   speed f   the clip plays f times faster: length becomes ceil(n / f). f is rounded to a 1% grid
//             so the polyphase resampler's rational ratio (100 f : 100) keeps its filter small.
//   shift s   positive s delays the signal by s samples (zeros in front, tail dropped), negative s
//             advances it (head dropped, zeros at the end); the length is kept. The feature
//             pipeline trims silence afterwards, so a delay survives only as far as the added noise
//             keeps the padding above the trim threshold, while an advance always removes speech
//             from the start: either way the fixed frame window sees another part of the clip.
//   gain g    multiplies by 10^(g / 20); no clipping (the pipeline works in float).
//   noise     Gaussian white noise scaled so that 10 log10(mean(x^2) / mean(noise^2)) is the SNR
//             in dB, the signal power being the whole clip's mean square; a silent clip stays silent.
//   reverb    RT60 drawn uniformly from reverbRt60 (s), DRR uniformly from REVERB_DRR_DB; the clip
//             is convolved with a generated velvet-noise impulse response, keeping its length and RMS.
//   low-pass  cutoff drawn uniformly from lowpassHz; Butterworth of order LOWPASS_ORDER.
//   tilt      T drawn uniformly from -tiltDb..tiltDb; a first-order shelf at TILT_CORNER_HZ, -T/2 dB
//             at 0 Hz and +T/2 dB at the Nyquist frequency.

import { createRng, type Rng } from '../common/random';
import { lowPass, tilt } from './eq';
import { resample } from './resample';
import { applyReverb, REVERB_DRR_DB, roomImpulseResponse } from './reverb';

export interface AugmentConfig {
  /** Augmented copies per training clip (1..16). */
  copies: number;
  /** Range of the noise SNR in dB, drawn uniformly; null: no noise. */
  snrDb: [number, number] | null;
  /** Largest time shift in ms, either way (0: none). */
  shiftMs: number;
  /** Range of the speed factor (within 0.5..2; [1, 1]: none). */
  speed: [number, number];
  /** Largest gain change in dB, either way (0: none). */
  gainDb: number;
  /** Range of the reverberation time RT60 in s, drawn uniformly; absent: no reverberation. */
  reverbRt60?: [number, number];
  /** Range of the low-pass cutoff in Hz, drawn uniformly; absent: no low-pass. */
  lowpassHz?: [number, number];
  /** Largest spectral tilt in dB, either way; absent: no tilt. */
  tiltDb?: number;
}

export const defaultAugmentConfig: Readonly<AugmentConfig> = Object.freeze({
  copies: 2,
  snrDb: [10, 30] as [number, number],
  shiftMs: 100,
  speed: [0.9, 1.1] as [number, number],
  gainDb: 6,
});

/** The limits every AugmentConfig is checked against (also quoted by `ser train --help`). */
export const AUGMENT_LIMITS = { copies: [1, 16], snrDb: [-10, 60], shiftMs: [0, 1000], speed: [0.5, 2], gainDb: [0, 24], reverbRt60: [0.05, 2], lowpassHz: [300, 10000], tiltDb: [0, 24] } as const;

export class AugmentError extends Error {
  override name = 'AugmentError';
}

const inRange = (v: number, [lo, hi]: readonly [number, number]): boolean => Number.isFinite(v) && v >= lo && v <= hi;

/** Throws AugmentError naming the first field out of its range. */
export function checkAugmentConfig(c: AugmentConfig): void {
  const L = AUGMENT_LIMITS;
  const range = (name: string, r: [number, number], lim: readonly [number, number]) => {
    if (!(inRange(r[0], lim) && inRange(r[1], lim) && r[0] <= r[1])) {
      throw new AugmentError(`${name} must be lo:hi with ${lim[0]} <= lo <= hi <= ${lim[1]}, got ${r[0]}:${r[1]}`);
    }
  };
  if (!Number.isInteger(c.copies) || !inRange(c.copies, L.copies)) throw new AugmentError(`copies must be an integer in ${L.copies[0]}..${L.copies[1]}, got ${c.copies}`);
  if (c.snrDb) range('snrDb', c.snrDb, L.snrDb);
  if (!inRange(c.shiftMs, L.shiftMs)) throw new AugmentError(`shiftMs must be in ${L.shiftMs[0]}..${L.shiftMs[1]}, got ${c.shiftMs}`);
  range('speed', c.speed, L.speed);
  if (!inRange(c.gainDb, L.gainDb)) throw new AugmentError(`gainDb must be in ${L.gainDb[0]}..${L.gainDb[1]}, got ${c.gainDb}`);
  if (c.reverbRt60 !== undefined) range('reverbRt60', c.reverbRt60, L.reverbRt60);
  if (c.lowpassHz !== undefined) range('lowpassHz', c.lowpassHz, L.lowpassHz);
  if (c.tiltDb !== undefined && !inRange(c.tiltDb, L.tiltDb)) throw new AugmentError(`tiltDb must be in ${L.tiltDb[0]}..${L.tiltDb[1]}, got ${c.tiltDb}`);
}

/** The random parameters of one augmented copy. */
export interface AugmentDraw {
  speed: number;
  shiftSamples: number;
  gainDb: number;
  snrDb: number | null;
  /** Present only when the config has reverbRt60: RT60 (s), DRR (dB), seed of the impulse response. */
  reverb?: { rt60: number; drrDb: number; seed: number };
  /** Present only when the config has lowpassHz. */
  lowpassHz?: number;
  /** Present only when the config has tiltDb. */
  tiltDb?: number;
}

const uniform = (rng: Rng, lo: number, hi: number): number => lo + (hi - lo) * rng.next();

/** Draws one copy's parameters: always the first four draws from rng, whatever is switched off, then one to three per optional transform that is on. */
export function drawAugmentation(c: AugmentConfig, sampleRate: number, rng: Rng): AugmentDraw {
  const speed = Math.round(100 * uniform(rng, c.speed[0], c.speed[1])) / 100;
  const maxShift = Math.round((c.shiftMs / 1000) * sampleRate);
  const shiftSamples = Math.round(uniform(rng, -maxShift, maxShift));
  const gainDb = uniform(rng, -c.gainDb, c.gainDb);
  const snr = uniform(rng, c.snrDb?.[0] ?? 0, c.snrDb?.[1] ?? 0);
  const draw: AugmentDraw = { speed, shiftSamples, gainDb, snrDb: c.snrDb ? snr : null };
  if (c.reverbRt60) {
    const rt60 = uniform(rng, c.reverbRt60[0], c.reverbRt60[1]);
    const drrDb = uniform(rng, REVERB_DRR_DB[0], REVERB_DRR_DB[1]);
    draw.reverb = { rt60, drrDb, seed: rng.int(2 ** 32) };
  }
  if (c.lowpassHz) draw.lowpassHz = uniform(rng, c.lowpassHz[0], c.lowpassHz[1]);
  if (c.tiltDb !== undefined) draw.tiltDb = uniform(rng, -c.tiltDb, c.tiltDb);
  return draw;
}

/** Plays x `factor` times faster (factor on a 1% grid): ceil(n / factor) samples, pitch scaled by factor. */
export function speedPerturb(x: Float32Array, factor: number): Float32Array {
  const percent = Math.round(factor * 100);
  if (!(percent >= 50 && percent <= 200)) throw new AugmentError(`speed factor must be in 0.5..2, got ${factor}`);
  return percent === 100 ? x.slice() : resample(x, percent, 100);
}

/** Delays (positive) or advances (negative) x by `samples`, keeping its length; vacated samples are 0. */
export function timeShift(x: Float32Array, samples: number): Float32Array {
  const out = new Float32Array(x.length);
  const s = Math.trunc(samples);
  if (s >= 0) out.set(x.subarray(0, Math.max(0, x.length - s)), Math.min(s, x.length));
  else out.set(x.subarray(Math.min(-s, x.length)));
  return out;
}

export function applyGain(x: Float32Array, db: number): Float32Array {
  const k = 10 ** (db / 20);
  return x.map((v) => v * k);
}

/** x plus white Gaussian noise at snrDb relative to x's mean square (noise drawn from rng). */
export function addNoise(x: Float32Array, snrDb: number, rng: Rng): Float32Array {
  let power = 0;
  for (const v of x) power += v * v;
  power /= Math.max(1, x.length);
  const out = x.slice();
  if (power === 0) return out;
  // Scale the drawn noise to exactly the target power, so the SNR holds per clip, not on average.
  const noise = new Float64Array(x.length);
  let drawn = 0;
  for (let i = 0; i < noise.length; i++) {
    noise[i] = rng.normal();
    drawn += noise[i]! * noise[i]!;
  }
  drawn /= noise.length;
  const k = Math.sqrt(power / 10 ** (snrDb / 10) / drawn);
  for (let i = 0; i < out.length; i++) out[i] = x[i]! + k * noise[i]!;
  return out;
}

/** One augmented copy of x at sampleRate: the drawn parameters and the samples. */
export function augmentWaveform(x: Float32Array, sampleRate: number, c: AugmentConfig, rng: Rng): { samples: Float32Array; draw: AugmentDraw } {
  const draw = drawAugmentation(c, sampleRate, rng);
  let y = speedPerturb(x, draw.speed);
  if (draw.shiftSamples !== 0) y = timeShift(y, draw.shiftSamples);
  if (draw.reverb) y = applyReverb(y, roomImpulseResponse(draw.reverb.rt60, draw.reverb.drrDb, sampleRate, createRng(draw.reverb.seed)));
  if (draw.lowpassHz !== undefined) y = lowPass(y, draw.lowpassHz, sampleRate);
  if (draw.tiltDb !== undefined) y = tilt(y, draw.tiltDb, sampleRate);
  if (draw.gainDb !== 0) y = applyGain(y, draw.gainDb);
  if (draw.snrDb !== null) y = addNoise(y, draw.snrDb, rng);
  return { samples: y, draw };
}

/** One line for reports and logs. */
export function describeAugmentConfig(c: AugmentConfig): string {
  const optional = [
    c.reverbRt60 ? `, reverberation RT60 ${c.reverbRt60.join('..')} s (DRR ${REVERB_DRR_DB.join('..')} dB)` : '',
    c.lowpassHz ? `, low-pass at ${c.lowpassHz.join('..')} Hz` : '',
    c.tiltDb !== undefined ? `, spectral tilt up to ±${c.tiltDb} dB` : '',
  ].join('');
  return `${c.copies} cop${c.copies === 1 ? 'y' : 'ies'} per training clip: speed ${c.speed.join('..')}, shift up to ±${c.shiftMs} ms${optional}, gain up to ±${c.gainDb} dB, ${c.snrDb ? `white noise at ${c.snrDb.join('..')} dB SNR` : 'no noise'}`;
}

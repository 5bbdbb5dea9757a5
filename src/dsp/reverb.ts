// Synthetic room reverberation for waveform augmentation: a cheap generated room impulse response
// (RIR) and its convolution with a clip. Pure functions of their arguments and an explicit seeded
// Rng; browser-safe.
//
// The RIR (sample rate fs, reverberation time RT60 in seconds, direct-to-reverberant ratio DRR in dB):
//   direct path  one tap of amplitude 1 at lag 0;
//   tail         velvet noise: the time after the direct path is cut into cells of fs / VELVET_DENSITY
//                samples (VELVET_DENSITY = 1500 pulses per second); cell k holds one pulse at a
//                uniformly drawn position inside it, of random sign, with amplitude
//                10^(-3 t / RT60) (t: the pulse's time in s), so the energy envelope falls 60 dB in
//                RT60 seconds. The tail ends at RT60 (what would follow is below -60 dB) and is
//                scaled so that 10 log10(direct energy / tail energy) is the DRR exactly.
// The RIR is generated sparse (lags and gains). applyReverb convolves by FFT (reference/fft.ts, one
// complex FFT of size N = next power of two >= n + length - 1 carrying clip and RIR as its real and
// imaginary parts, one inverse): O(N log N) whatever the RT60, where the sparse sum would cost
// 1500 RT60 n multiply-adds (1e8 for a 4 s clip at 22050 Hz and a 0.8 s RT60).
//
// applyReverb convolves, keeps the clip's length (the reverberant tail past its end is dropped) and
// rescales the result to the clip's RMS, so reverberation changes the sound but not the level; a
// silent clip stays silent.

import type { Rng } from '../common/random';
import { fft } from './reference/fft';

/** Tail pulses per second (velvet noise sounds smooth from about 1000-2000 per second). */
export const VELVET_DENSITY = 1500;
/** Range the direct-to-reverberant ratio is drawn from, dB (far talker in a live room .. near talker). */
export const REVERB_DRR_DB: readonly [number, number] = [-3, 12];

/** A sparse impulse response: h[lags[k]] = gains[k], zero elsewhere; `length` samples long. */
export interface SparseImpulseResponse {
  lags: Int32Array;
  gains: Float64Array;
  length: number;
}

/** The velvet-noise room impulse response described in the header (lags ascending, lag 0 the direct path). */
export function roomImpulseResponse(rt60: number, drrDb: number, sampleRate: number, rng: Rng): SparseImpulseResponse {
  if (!(rt60 > 0) || !Number.isFinite(rt60)) throw new RangeError(`RT60 must be a positive number of seconds, got ${rt60}`);
  if (!Number.isFinite(drrDb)) throw new RangeError(`DRR must be a finite number of dB, got ${drrDb}`);
  const length = Math.max(2, Math.ceil(rt60 * sampleRate));
  const cell = sampleRate / VELVET_DENSITY;
  const lags: number[] = [0];
  const gains: number[] = [1];
  let tailEnergy = 0;
  for (let k = 0; ; k++) {
    // The first cell starts one sample after the direct path.
    const lag = 1 + Math.floor(k * cell + rng.next() * cell);
    if (lag >= length) break;
    const amplitude = 10 ** ((-3 * lag) / sampleRate / rt60);
    const sign = rng.next() < 0.5 ? -1 : 1;
    lags.push(lag);
    gains.push(sign * amplitude);
    tailEnergy += amplitude * amplitude;
  }
  const scale = tailEnergy > 0 ? Math.sqrt(10 ** (-drrDb / 10) / tailEnergy) : 0;
  for (let k = 1; k < gains.length; k++) gains[k]! *= scale;
  return { lags: Int32Array.from(lags), gains: Float64Array.from(gains), length };
}

/** The impulse response as dense float64 samples. */
export function denseImpulseResponse(h: SparseImpulseResponse): Float64Array {
  const out = new Float64Array(h.length);
  h.lags.forEach((lag, k) => (out[lag] = h.gains[k]!));
  return out;
}

/** x convolved with h, truncated to x's length and scaled back to x's RMS (float64 FFT convolution). */
export function applyReverb(x: Float32Array, h: SparseImpulseResponse): Float32Array {
  const n = x.length;
  const out = new Float32Array(n);
  let inPower = 0;
  for (let i = 0; i < n; i++) inPower += x[i]! * x[i]!;
  if (inPower === 0) return out;
  let size = 1;
  while (size < n + h.length - 1) size *= 2;
  // Z = FFT(x + i h); X[k] = (Z[k] + conj Z[-k]) / 2, H[k] = (Z[k] - conj Z[-k]) / 2i; Y = X H.
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  re.set(x);
  h.lags.forEach((lag, k) => (im[lag] = h.gains[k]!));
  fft(re, im);
  const yr = new Float64Array(size);
  const yi = new Float64Array(size);
  for (let k = 0; k < size; k++) {
    const j = (size - k) % size;
    const xr = (re[k]! + re[j]!) / 2;
    const xi = (im[k]! - im[j]!) / 2;
    const hr = (im[k]! + im[j]!) / 2;
    const hi = (re[j]! - re[k]!) / 2;
    yr[k] = xr * hr - xi * hi;
    yi[k] = xr * hi + xi * hr;
  }
  fft(yr, yi, true);
  let outPower = 0;
  for (let i = 0; i < n; i++) outPower += yr[i]! * yr[i]!;
  if (outPower === 0) return out;
  const k = Math.sqrt(inPower / outPower); // also undoes the inverse FFT's missing 1 / size
  for (let i = 0; i < n; i++) out[i] = k * yr[i]!;
  return out;
}

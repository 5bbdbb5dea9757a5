// Mel filterbank exactly as librosa.filters.mel(htk=False, norm='slaney', dtype=float32) builds it
// (Slaney mel scale: linear below 1 kHz, logarithmic above; triangles between consecutive mel
// edges; area normalisation 2/(upper-lower); weights rounded to float32 twice, as numpy does),
// the mel power spectrogram fb @ |X|^2 and power_to_db with a global top_db clip.

import { map, matmul, type Matrix } from './matrix';

const melFSp = 200 / 3;
const minLogHz = 1000;
const minLogMel = minLogHz / melFSp;
const logStep = Math.log(6.4) / 27;

export function hzToMel(hz: number): number {
  return hz >= minLogHz ? minLogMel + Math.log(hz / minLogHz) / logStep : hz / melFSp;
}

export function melToHz(mel: number): number {
  return mel >= minLogMel ? minLogHz * Math.exp(logStep * (mel - minLogMel)) : melFSp * mel;
}

/** numpy.linspace(start, stop, num) with its arithmetic: i*step + start, last value exactly stop. */
export function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  const step = (stop - start) / (num - 1);
  for (let i = 0; i < num; i++) out[i] = i * step + start;
  if (num > 1) out[num - 1] = stop;
  return out;
}

/** librosa.fft_frequencies: bin k of an nFft-point DFT in Hz, computed as numpy.fft.rfftfreq does. */
export function fftFrequencies(sampleRate: number, nFft: number): Float64Array {
  const spacing = 1 / (nFft * (1 / sampleRate));
  const out = new Float64Array(nFft / 2 + 1);
  for (let k = 0; k < out.length; k++) out[k] = k * spacing;
  return out;
}

export function melFrequencies(nMels: number, fmin: number, fmax: number): Float64Array {
  return linspace(hzToMel(fmin), hzToMel(fmax), nMels).map(melToHz);
}

export interface MelOptions {
  sampleRate?: number;
  nFft?: number;
  nMels?: number;
  fmin?: number;
  /** Defaults to the Nyquist frequency. */
  fmax?: number;
}

const melDefaults = { sampleRate: 22050, nFft: 2048, nMels: 128, fmin: 0 };

/** Row-major [nMels][1 + nFft/2] float32 weights. */
export function melFilterbank(options: MelOptions = {}): Float32Array {
  const { sampleRate, nFft, nMels, fmin } = { ...melDefaults, ...options };
  const fmax = options.fmax ?? sampleRate / 2;
  const bins = nFft / 2 + 1;
  const freqs = fftFrequencies(sampleRate, nFft);
  const edges = melFrequencies(nMels + 2, fmin, fmax);
  const weights = new Float32Array(nMels * bins);
  for (let m = 0; m < nMels; m++) {
    const lowerWidth = edges[m + 1] - edges[m];
    const upperWidth = edges[m + 2] - edges[m + 1];
    const areaNorm = 2 / (edges[m + 2] - edges[m]);
    for (let k = 0; k < bins; k++) {
      const rising = -(edges[m] - freqs[k]) / lowerWidth;
      const falling = (edges[m + 2] - freqs[k]) / upperWidth;
      weights[m * bins + k] = Math.fround(Math.max(0, Math.min(rising, falling))) * areaNorm;
    }
  }
  return weights;
}

/** Mel power spectrogram fb @ |X|^2 from the magnitude spectrogram [bins][frames]. */
export function melPower(magnitude: Matrix, filterbank: Float32Array): Matrix {
  return matmul(filterbank, filterbank.length / magnitude.rows, map(magnitude, (x) => x * x));
}

export interface PowerToDbOptions {
  ref?: number;
  amin?: number;
  /** Floor relative to the maximum of the whole matrix; null disables it. */
  topDb?: number | null;
}

/** librosa.power_to_db: 10*log10(max(amin, S)/ref), clipped below at (global max - topDb). */
export function powerToDb(power: Matrix, options: PowerToDbOptions = {}): Matrix {
  const ref = options.ref ?? 1;
  const amin = options.amin ?? 1e-10;
  const topDb = options.topDb === undefined ? 80 : options.topDb;
  const refDb = 10 * Math.log10(Math.max(amin, ref));
  const db = map(power, (x) => 10 * Math.log10(Math.max(amin, x)) - refDb);
  if (topDb === null) return db;
  let peak = -Infinity;
  for (const v of db.data) peak = Math.max(peak, v);
  return map(db, (x) => Math.max(x, peak - topDb));
}

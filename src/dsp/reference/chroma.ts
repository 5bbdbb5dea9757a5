// Chroma as librosa.feature.chroma_stft(norm=inf) computes it from the POWER spectrogram, with
// librosa.filters.chroma(ctroct=5, octwidth=2, norm=2, base_c=True): per FFT bin a Gaussian bump
// around its pitch class (width from the bin spacing in chroma bins), each column L2-normalised,
// weighted by a Gaussian over octaves centred on octave 5, rows rolled so row 0 is C; float32.

import { map, matmul, type Matrix } from './matrix';
import { linspace } from './mel';

export interface ChromaOptions {
  sampleRate?: number;
  nFft?: number;
  nChroma?: number;
  /** Deviation from A440 tuning in fractions of a chroma bin. */
  tuning?: number;
  centreOctave?: number;
  octaveWidth?: number;
}

const chromaDefaults = { sampleRate: 22050, nFft: 2048, nChroma: 12, tuning: 0, centreOctave: 5, octaveWidth: 2 };

/** librosa.hz_to_octs: octaves above A440/16 (with tuning), as log2. */
export function hzToOcts(hz: number, tuning = 0, binsPerOctave = 12): number {
  const a440 = 440 * 2 ** (tuning / binsPerOctave);
  return Math.log2(hz / (a440 / 16));
}

// numpy's tiny (smallest normal) values: librosa.util.normalize leaves columns below them undivided.
const float64Tiny = 2.2250738585072014e-308;
const float32Tiny = 1.1754943508222875e-38;

/** Python's modulo: the result has the sign of the divisor. */
const pyMod = (a: number, b: number) => a - Math.floor(a / b) * b;

/** Row-major [nChroma][1 + nFft/2] float32 weights. */
export function chromaFilterbank(options: ChromaOptions = {}): Float32Array {
  const { sampleRate, nFft, nChroma, tuning, centreOctave, octaveWidth } = { ...chromaDefaults, ...options };
  const freqs = linspace(0, sampleRate, nFft + 1).subarray(0, nFft);
  const frqBins = new Float64Array(nFft);
  for (let k = 1; k < nFft; k++) frqBins[k] = nChroma * hzToOcts(freqs[k], tuning, nChroma);
  // The 0 Hz bin is placed 1.5 octaves below bin 1.
  frqBins[0] = frqBins[1] - 1.5 * nChroma;
  const binWidth = new Float64Array(nFft);
  for (let k = 0; k < nFft - 1; k++) binWidth[k] = Math.max(frqBins[k + 1] - frqBins[k], 1);
  binWidth[nFft - 1] = 1;

  const halfChroma = Math.round(nChroma / 2);
  const wts = Array.from({ length: nChroma }, () => new Float64Array(nFft));
  for (let k = 0; k < nFft; k++) {
    let norm = 0;
    for (let c = 0; c < nChroma; c++) {
      const d = pyMod(frqBins[k] - c + halfChroma + 10 * nChroma, nChroma) - halfChroma;
      const w = Math.exp(-0.5 * ((2 * d) / binWidth[k]) ** 2);
      wts[c][k] = w;
      norm += w * w;
    }
    norm = Math.sqrt(norm);
    const octaveWeight = Math.exp(-0.5 * ((frqBins[k] / nChroma - centreOctave) / octaveWidth) ** 2);
    for (let c = 0; c < nChroma; c++) wts[c][k] = (wts[c][k] / (norm < float64Tiny ? 1 : norm)) * octaveWeight;
  }
  const bins = nFft / 2 + 1;
  const shift = 3 * Math.floor(nChroma / 12);
  const out = new Float32Array(nChroma * bins);
  for (let c = 0; c < nChroma; c++) {
    const src = wts[(c + shift) % nChroma];
    for (let k = 0; k < bins; k++) out[c * bins + k] = src[k];
  }
  return out;
}

/** Divides each column by its max |value|; all-zero columns stay zero (librosa.util.normalize, norm=inf). */
export function normalizeColumnsMax(m: Matrix): Matrix {
  const out = map(m, (x) => x);
  for (let t = 0; t < m.cols; t++) {
    let peak = 0;
    for (let r = 0; r < m.rows; r++) peak = Math.max(peak, Math.abs(m.data[r * m.cols + t]));
    if (peak < float32Tiny) continue;
    for (let r = 0; r < m.rows; r++) out.data[r * m.cols + t] /= peak;
  }
  return out;
}

/** chroma_stft from the magnitude spectrogram [bins][frames] and a chroma filterbank. */
export function chromaStft(magnitude: Matrix, filterbank: Float32Array): Matrix {
  const nChroma = filterbank.length / magnitude.rows;
  const raw = matmul(filterbank, nChroma, map(magnitude, (x) => x * x));
  return normalizeColumnsMax(raw);
}

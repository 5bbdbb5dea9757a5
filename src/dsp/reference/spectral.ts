// Spectral shape features on the MAGNITUDE spectrogram [bins][frames], as librosa 0.11 computes
// them: contrast (octave bands from fmin; per band the mean of the quantile-smallest and -largest
// bins, in dB; with librosa's band-edge quirks), centroid, bandwidth (p=2) and roll-off frequency.

import { fftFrequencies, powerToDb } from './mel';
import { zeros, type Matrix } from './matrix';

export interface SpectralOptions {
  sampleRate?: number;
  nFft?: number;
}

export interface ContrastOptions extends SpectralOptions {
  nBands?: number;
  fmin?: number;
  quantile?: number;
}

const spectralDefaults = { sampleRate: 22050, nFft: 2048 };
const contrastDefaults = { ...spectralDefaults, nBands: 5, fmin: 200, quantile: 0.02 };

/** librosa.feature.spectral_contrast(linear=False): [nBands + 1][frames] in dB. */
export function spectralContrast(magnitude: Matrix, options: ContrastOptions = {}): Matrix {
  const { sampleRate, nFft, nBands, fmin, quantile } = { ...contrastDefaults, ...options };
  const freqs = fftFrequencies(sampleRate, nFft);
  const { rows: bins, cols: frames, data } = magnitude;
  const octaveEdges = [0];
  for (let k = 0; k <= nBands; k++) octaveEdges.push(fmin * 2 ** k);
  const valley = zeros(nBands + 1, frames);
  const peak = zeros(nBands + 1, frames);
  const column = new Float64Array(bins);
  for (let band = 0; band <= nBands; band++) {
    const low = octaveEdges[band];
    const high = octaveEdges[band + 1];
    let first = -1;
    let last = -1;
    for (let k = 0; k < bins; k++) {
      if (freqs[k] >= low && freqs[k] <= high) {
        if (first < 0) first = k;
        last = k;
      }
    }
    // librosa adds one bin below every band but the first, and extends the top band to Nyquist.
    if (band > 0) first -= 1;
    if (band === nBands) last = bins - 1;
    const count = last - first + 1;
    // The sort drops the band's last bin (except in the top band); the quantile still counts it.
    const sortedCount = band < nBands ? count - 1 : count;
    const n = Math.max(1, roundHalfEven(quantile * count));
    for (let t = 0; t < frames; t++) {
      const sorted = column.subarray(0, sortedCount);
      for (let i = 0; i < sortedCount; i++) sorted[i] = data[(first + i) * frames + t];
      sorted.sort();
      let lo = 0;
      let hi = 0;
      for (let i = 0; i < n; i++) {
        lo += sorted[i];
        hi += sorted[sortedCount - n + i];
      }
      valley.data[band * frames + t] = lo / n;
      peak.data[band * frames + t] = hi / n;
    }
  }
  const peakDb = powerToDb(peak);
  const valleyDb = powerToDb(valley);
  const out = zeros(nBands + 1, frames);
  for (let i = 0; i < out.data.length; i++) out.data[i] = peakDb.data[i] - valleyDb.data[i];
  return out;
}

/** numpy.rint: round half to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function columnSums(magnitude: Matrix): Float64Array {
  const sums = new Float64Array(magnitude.cols);
  for (let k = 0; k < magnitude.rows; k++) {
    for (let t = 0; t < magnitude.cols; t++) sums[t] += magnitude.data[k * magnitude.cols + t];
  }
  return sums;
}

/** Mean frequency weighted by magnitude, per frame [1][frames]; an all-zero frame gives 0. */
export function spectralCentroid(magnitude: Matrix, options: SpectralOptions = {}): Matrix {
  const { sampleRate, nFft } = { ...spectralDefaults, ...options };
  const freqs = fftFrequencies(sampleRate, nFft);
  const sums = columnSums(magnitude);
  const out = zeros(1, magnitude.cols);
  for (let t = 0; t < magnitude.cols; t++) {
    const norm = sums[t] > 0 ? sums[t] : 1;
    let acc = 0;
    for (let k = 0; k < magnitude.rows; k++) acc += freqs[k] * (magnitude.data[k * magnitude.cols + t] / norm);
    out.data[t] = acc;
  }
  return out;
}

/** librosa.feature.spectral_bandwidth(p=2, norm=True) around the centroid, per frame [1][frames]. */
export function spectralBandwidth(magnitude: Matrix, options: SpectralOptions = {}): Matrix {
  const { sampleRate, nFft } = { ...spectralDefaults, ...options };
  const freqs = fftFrequencies(sampleRate, nFft);
  const centroid = spectralCentroid(magnitude, options);
  const sums = columnSums(magnitude);
  const out = zeros(1, magnitude.cols);
  for (let t = 0; t < magnitude.cols; t++) {
    const norm = sums[t] > 0 ? sums[t] : 1;
    let acc = 0;
    for (let k = 0; k < magnitude.rows; k++) {
      acc += (magnitude.data[k * magnitude.cols + t] / norm) * (freqs[k] - centroid.data[t]) ** 2;
    }
    out.data[t] = Math.sqrt(acc);
  }
  return out;
}

/** Smallest bin frequency whose cumulative magnitude reaches rollPercent of the frame total. */
export function spectralRolloff(magnitude: Matrix, options: SpectralOptions & { rollPercent?: number } = {}): Matrix {
  const { sampleRate, nFft } = { ...spectralDefaults, ...options };
  const rollPercent = options.rollPercent ?? 0.85;
  const freqs = fftFrequencies(sampleRate, nFft);
  const sums = columnSums(magnitude);
  const out = zeros(1, magnitude.cols);
  for (let t = 0; t < magnitude.cols; t++) {
    const target = rollPercent * sums[t];
    let cumulative = 0;
    let k = 0;
    for (; k < magnitude.rows - 1; k++) {
      cumulative += magnitude.data[k * magnitude.cols + t];
      if (cumulative >= target) break;
    }
    out.data[t] = freqs[k];
  }
  return out;
}

// librosa.estimate_tuning(S=power, resolution=0.01, bins_per_octave=12) and the piptrack it runs:
// parabolic peak interpolation on every bin, local maxima of S (above 0.1 x the frame max) between
// fmin and fmax, the peaks whose interpolated magnitude is at least the median, their pitch
// residuals in fractions of a semitone, and the left edge of the fullest histogram bin.

import type { Matrix } from './matrix';
import { fftFrequencies, linspace } from './mel';
import { hzToOcts } from './chroma';

export interface PiptrackOptions {
  sampleRate?: number;
  nFft?: number;
  fmin?: number;
  fmax?: number;
  threshold?: number;
}

const piptrackDefaults = { sampleRate: 22050, nFft: 2048, fmin: 150, fmax: 4000, threshold: 0.1 };

export interface Peak {
  bin: number;
  frame: number;
  frequency: number;
  magnitude: number;
}

/** The non-zero entries of librosa.piptrack(S=spectrogram): one per selected local maximum. */
export function piptrack(spectrogram: Matrix, options: PiptrackOptions = {}): Peak[] {
  const { sampleRate, nFft, threshold } = { ...piptrackDefaults, ...options };
  const fmin = Math.max(options.fmin ?? piptrackDefaults.fmin, 0);
  const fmax = Math.min(options.fmax ?? piptrackDefaults.fmax, sampleRate / 2);
  const freqs = fftFrequencies(sampleRate, nFft);
  const { rows: bins, cols: frames, data } = spectrogram;
  const s = (k: number, t: number) => data[k * frames + t];
  const peaks: Peak[] = [];
  for (let t = 0; t < frames; t++) {
    let frameMax = 0;
    for (let k = 0; k < bins; k++) frameMax = Math.max(frameMax, s(k, t));
    const floor = threshold * frameMax;
    // localmax runs on S zeroed below the floor, with edge padding (x[-1] = x[0], x[n] = x[n-1]).
    const gated = (k: number) => {
      const c = Math.min(bins - 1, Math.max(0, k));
      const v = s(c, t);
      return v > floor ? v : 0;
    };
    for (let k = 0; k < bins; k++) {
      if (!(fmin <= freqs[k] && freqs[k] < fmax)) continue;
      const v = gated(k);
      if (!(v > gated(k - 1) && v >= gated(k + 1))) continue;
      let shift = 0;
      let avg = 0;
      if (k > 0 && k < bins - 1) {
        avg = 0.5 * (s(k + 1, t) - s(k - 1, t));
        const curvature = 2 * s(k, t) - s(k + 1, t) - s(k - 1, t);
        // A selected maximum has positive curvature; the guard is librosa's divide-by-zero guard.
        shift = avg / (curvature + (Math.abs(curvature) < Number.MIN_VALUE ? 1 : 0));
      }
      peaks.push({
        bin: k,
        frame: t,
        frequency: ((k + shift) * sampleRate) / nFft,
        magnitude: s(k, t) + 0.5 * avg * shift,
      });
    }
  }
  return peaks;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** librosa.pitch_tuning: the left edge of the arg-max bin of the residual histogram. */
export function pitchTuning(frequencies: number[], resolution = 0.01, binsPerOctave = 12): number {
  const positive = frequencies.filter((f) => f > 0);
  if (positive.length === 0) return 0;
  const nBins = Math.ceil(1 / resolution);
  const edges = linspace(-0.5, 0.5, nBins + 1);
  const counts = new Int32Array(nBins);
  for (const f of positive) {
    const x = binsPerOctave * hzToOcts(f, 0, binsPerOctave);
    let residual = x - Math.floor(x);
    if (residual >= 0.5) residual -= 1;
    // numpy.histogram: bin i holds edges[i] <= x < edges[i+1]; the last bin is closed.
    let i = Math.min(nBins - 1, Math.floor((residual - edges[0]) * (nBins / (edges[nBins] - edges[0]))));
    if (residual < edges[i]) i--;
    else if (i < nBins - 1 && residual >= edges[i + 1]) i++;
    counts[i]++;
  }
  let best = 0;
  for (let i = 1; i < nBins; i++) if (counts[i] > counts[best]) best = i;
  return edges[best];
}

export interface TuningEstimate {
  tuning: number;
  peaks: number;
  used: number;
}

/** estimate_tuning on a POWER spectrogram [bins][frames]. */
export function estimateTuning(power: Matrix, options: PiptrackOptions = {}): TuningEstimate {
  const peaks = piptrack(power, options).filter((p) => p.frequency > 0);
  const cut = peaks.length ? median(peaks.map((p) => p.magnitude)) : 0;
  const used = peaks.filter((p) => p.magnitude >= cut).map((p) => p.frequency);
  return { tuning: pitchTuning(used), peaks: peaks.length, used: used.length };
}

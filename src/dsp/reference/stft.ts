// |STFT| as librosa.stft(center=True, pad_mode='constant', window='hann') computes it: periodic
// Hann of length nFft, the signal padded with nFft/2 zeros on each side, frame t starting at
// t*hop of the padded signal, T = 1 + floor(n / hop) frames. Output [1 + nFft/2][T], float64.

import { rfftMagnitude } from './fft';
import { zeros, type Matrix } from './matrix';

export interface StftOptions {
  nFft?: number;
  hop?: number;
}

const stftDefaults = { nFft: 2048, hop: 512 };

/** scipy.signal.get_window('hann', n, fftbins=True). */
export function periodicHann(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let k = 0; k < n; k++) w[k] = 0.5 - 0.5 * Math.cos((2 * Math.PI * k) / n);
  return w;
}

export function frameCount(length: number, hop: number): number {
  return 1 + Math.floor(length / hop);
}

export function stftMagnitude(y: ArrayLike<number>, options: StftOptions = {}): Matrix {
  const { nFft, hop } = { ...stftDefaults, ...options };
  const window = periodicHann(nFft);
  const frames = frameCount(y.length, hop);
  const bins = nFft / 2 + 1;
  const out = zeros(bins, frames);
  const frame = new Float64Array(nFft);
  for (let t = 0; t < frames; t++) {
    const start = t * hop - nFft / 2;
    for (let i = 0; i < nFft; i++) {
      const j = start + i;
      frame[i] = j >= 0 && j < y.length ? y[j] * window[i] : 0;
    }
    const mag = rfftMagnitude(frame);
    for (let k = 0; k < bins; k++) out.data[k * frames + t] = mag[k];
  }
  return out;
}

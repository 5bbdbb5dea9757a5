// librosa.feature.zero_crossing_rate(y, frame_length, hop_length, center=True): the signal padded
// by repeating its edge samples (not zeros), |x| <= 1e-10 treated as +0, a crossing wherever the
// sign differs from the previous sample in the same frame, rate = crossings / frame_length.

import { zeros, type Matrix } from './matrix';

export interface ZcrOptions {
  frameLength?: number;
  hop?: number;
  threshold?: number;
}

const zcrDefaults = { frameLength: 2048, hop: 512, threshold: 1e-10 };

export function zeroCrossingRate(y: ArrayLike<number>, options: ZcrOptions = {}): Matrix {
  const { frameLength, hop, threshold } = { ...zcrDefaults, ...options };
  const n = y.length;
  const half = Math.floor(frameLength / 2);
  const frames = 1 + Math.floor(n / hop);
  const negative = (j: number) => {
    const x = y[Math.min(n - 1, Math.max(0, j))];
    return Math.abs(x) > threshold && x < 0;
  };
  const out = zeros(1, frames);
  for (let t = 0; t < frames; t++) {
    const start = t * hop - half;
    let crossings = 0;
    let previous = negative(start);
    for (let i = 1; i < frameLength; i++) {
      const current = negative(start + i);
      if (current !== previous) crossings++;
      previous = current;
    }
    out.data[t] = crossings / frameLength;
  }
  return out;
}

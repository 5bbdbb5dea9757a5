// MFCC as librosa.feature.mfcc(S=mel_db, dct_type=2, norm='ortho'): orthonormal DCT-II along the
// mel axis, first nMfcc rows. Deltas as librosa.feature.delta(mode='interp'), which is
// scipy.signal.savgol_filter(width, polyorder=order, deriv=order, mode='interp'): a least-squares
// polynomial per window; the first and last width/2 frames use the polynomial of the edge window.

import { row, zeros, type Matrix } from './matrix';

export function mfcc(melDb: Matrix, nMfcc = 20): Matrix {
  const n = melDb.rows;
  const out = zeros(nMfcc, melDb.cols);
  for (let k = 0; k < nMfcc; k++) {
    const scale = k === 0 ? Math.sqrt(1 / n) : Math.sqrt(2 / n);
    const o = row(out, k);
    for (let m = 0; m < n; m++) {
      const c = scale * Math.cos((Math.PI * k * (2 * m + 1)) / (2 * n));
      const src = row(melDb, m);
      for (let t = 0; t < melDb.cols; t++) o[t] += c * src[t];
    }
  }
  return out;
}

/** Solves the small dense system a x = b by Gaussian elimination with partial pivoting. */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((r, i) => [...r, b[i]]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) pivot = r;
    [m[col], m[pivot]] = [m[pivot], m[col]];
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = m[r][col] / m[col][col];
      for (let c = col; c <= n; c++) m[r][c] -= f * m[col][c];
    }
  }
  return m.map((r, i) => r[n] / r[i]);
}

/**
 * Weights w such that sum_j w[j] * x[j] (j = 0..width-1) is the deriv-th derivative, at window
 * position `at`, of the degree-polyorder least-squares polynomial through x (unit sample spacing).
 */
export function savgolWeights(width: number, polyorder: number, deriv: number, at: number): Float64Array {
  const centre = (width - 1) / 2;
  const p = polyorder + 1;
  const gram = Array.from({ length: p }, (_, i) =>
    Array.from({ length: p }, (_, k) => {
      let s = 0;
      for (let j = 0; j < width; j++) s += (j - centre) ** (i + k);
      return s;
    }),
  );
  // The derivative functional on coefficient space, evaluated at (at - centre).
  const functional = Array.from({ length: p }, (_, k) => {
    if (k < deriv) return 0;
    let f = 1;
    for (let i = 0; i < deriv; i++) f *= k - i;
    return f * (at - centre) ** (k - deriv);
  });
  const g = solve(gram, functional);
  const w = new Float64Array(width);
  for (let j = 0; j < width; j++) {
    for (let k = 0; k < p; k++) w[j] += g[k] * (j - centre) ** k;
  }
  return w;
}

/** librosa.feature.delta(data, width, order, axis=-1, mode='interp'); needs at least `width` frames. */
export function delta(data: Matrix, width = 9, order = 1): Matrix {
  const frames = data.cols;
  if (width < 3 || width % 2 === 0) throw new RangeError(`delta width must be odd and >= 3, got ${width}`);
  if (frames < width) throw new RangeError(`delta with mode='interp' needs at least ${width} frames, got ${frames}`);
  const half = (width - 1) / 2;
  const interior = savgolWeights(width, order, order, half);
  const edge = Array.from({ length: width }, (_, at) => savgolWeights(width, order, order, at));
  const out = zeros(data.rows, frames);
  for (let r = 0; r < data.rows; r++) {
    const x = row(data, r);
    const o = row(out, r);
    for (let t = 0; t < frames; t++) {
      let start: number;
      let weights: Float64Array;
      if (t < half) [start, weights] = [0, edge[t]];
      else if (t >= frames - half) [start, weights] = [frames - width, edge[t - (frames - width)]];
      else [start, weights] = [t - half, interior];
      let acc = 0;
      for (let j = 0; j < width; j++) acc += weights[j] * x[start + j];
      o[t] = acc;
    }
  }
  return out;
}

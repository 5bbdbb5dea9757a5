// librosa.effects.preemphasis(y, coef) with its default initial state zi = 2*y[0] - y[1]
// (librosa >= 0.8), which makes y_pe[0] = 3*y[0] - y[1]; y_pe[n] = y[n] - coef*y[n-1] after.
// Every operation is rounded to float32 as scipy's float32 lfilter does, so the result is bit-exact.
// preemphasisRange lets a stream filter samples as they arrive (sample 0 needs samples 0 and 1).

/** Writes out[from, to) of the pre-emphasis of y[0, n) (n: the length, or any n >= 2 for a stream). */
export function preemphasisRange(y: Float32Array, n: number, from: number, to: number, out: Float32Array, coef = 0.97): void {
  const c = Math.fround(coef);
  const f = Math.fround;
  for (let k = from; k < to; k++) {
    if (k === 0) out[0] = f(y[0] + (n > 1 ? f(2 * y[0] - y[1]) : f(2 * y[0])));
    else out[k] = f(y[k] + f(-c * y[k - 1]));
  }
}

export function preemphasis(y: Float32Array, coef = 0.97): Float32Array {
  const out = new Float32Array(y.length);
  preemphasisRange(y, y.length, 0, y.length, out, coef);
  return out;
}

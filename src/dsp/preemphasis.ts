// librosa.effects.preemphasis(y, coef) with its default initial state zi = 2*y[0] - y[1]
// (librosa >= 0.8), which makes y_pe[0] = 3*y[0] - y[1]; y_pe[n] = y[n] - coef*y[n-1] after.
// Every operation is rounded to float32 as scipy's float32 lfilter does, so the result is bit-exact.

export function preemphasis(y: Float32Array, coef = 0.97): Float32Array {
  const out = new Float32Array(y.length);
  if (y.length === 0) return out;
  const c = Math.fround(coef);
  const f = Math.fround;
  const zi = y.length > 1 ? f(2 * y[0] - y[1]) : f(2 * y[0]);
  out[0] = f(y[0] + zi);
  for (let n = 1; n < y.length; n++) out[n] = f(y[n] + f(-c * y[n - 1]));
  return out;
}

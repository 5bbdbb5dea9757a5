// Rational-rate resampling, a port of scipy.signal.resample_poly (scipy 1.10) as librosa's
// res_type='polyphase' calls it: up/down reduced by their gcd, a Kaiser (beta 5) windowed-sinc
// FIR of 2*10*max(up,down)+1 taps with cutoff 1/max(up,down) scaled by `up`, zero-padded edges,
// and upfirdn's output alignment; the result is cut to ceil(n*up/down) samples. float64
// arithmetic inside, float32 out. Direct polyphase evaluation: each output costs ~len(h)/up taps,
// and outputs can be computed as a stream's inputs arrive (polyphaseReady), bit-identical.

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Modified Bessel function of the first kind, order 0 (power series; converges for all x). */
function besselI0(x: number): number {
  const q = (x * x) / 4;
  let term = 1;
  let sum = 1;
  for (let k = 1; term > sum * 1e-17; k++) {
    term *= q / (k * k);
    sum += term;
  }
  return sum;
}

/** scipy.signal.firwin(numTaps, cutoff, window=('kaiser', beta)) with fs=2 (cutoff relative to Nyquist), scale=True. */
export function firwinKaiser(numTaps: number, cutoff: number, beta: number): Float64Array {
  const h = new Float64Array(numTaps);
  const alpha = (numTaps - 1) / 2;
  const i0Beta = besselI0(beta);
  let sum = 0;
  for (let n = 0; n < numTaps; n++) {
    const m = n - alpha;
    const x = Math.PI * cutoff * m;
    const sinc = m === 0 ? 1 : Math.sin(x) / x;
    const r = (n - alpha) / alpha;
    const window = besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / i0Beta;
    h[n] = cutoff * sinc * window;
    sum += h[n];
  }
  for (let n = 0; n < numTaps; n++) h[n] /= sum;
  return h;
}

/** Number of output samples librosa keeps: ceil(n * to / from), in exact integer arithmetic. */
export function resampledLength(n: number, fromRate: number, toRate: number): number {
  const g = gcd(fromRate, toRate);
  const up = toRate / g;
  const down = fromRate / g;
  return Math.floor((n * up + down - 1) / down);
}

export interface PolyphaseFilter {
  up: number;
  down: number;
  /** The pre-padded, `up`-scaled taps. */
  h: Float64Array;
  nPreRemove: number;
}

/** The resample_poly filter for fromRate -> toRate (integer Hz, different). */
export function polyphaseFilter(fromRate: number, toRate: number): PolyphaseFilter {
  const g = gcd(fromRate, toRate);
  const up = toRate / g;
  const down = fromRate / g;
  const maxRate = Math.max(up, down);
  const halfLen = 10 * maxRate;
  const taps = firwinKaiser(2 * halfLen + 1, 1 / maxRate, 5.0);
  // scipy pre-pads the filter so that output sample 0 lands on input sample 0 after dropping nPreRemove.
  const nPrePad = down - (halfLen % down);
  const nPreRemove = Math.floor((halfLen + nPrePad) / down);
  const h = new Float64Array(nPrePad + taps.length);
  for (let k = 0; k < taps.length; k++) h[nPrePad + k] = taps[k] * up;
  return { up, down, h, nPreRemove };
}

/**
 * Writes outputs [from, to) of resampling samples[0, nIn) into out. An output depends only on the
 * inputs at or before it (plus zeros past nIn), so a stream can compute outputs as inputs arrive
 * (see polyphaseReady) and get exactly the values of the whole-signal call.
 */
export function polyphaseOutputs(f: PolyphaseFilter, samples: Float32Array, nIn: number, from: number, to: number, out: Float32Array): void {
  const { up, down, h, nPreRemove } = f;
  const hLen = h.length;
  for (let i = from; i < to; i++) {
    // Output i is sample t of the full convolution of h with x upsampled by `up` (zeros between).
    const t = (i + nPreRemove) * down;
    const first = Math.max(0, Math.ceil((t - hLen + 1) / up));
    const last = Math.min(nIn - 1, Math.floor(t / up));
    let acc = 0;
    for (let n = first; n <= last; n++) acc += h[t - n * up] * samples[n];
    out[i] = acc;
  }
}

/** How many leading outputs are final once the first nIn inputs are known, whatever follows them. */
export function polyphaseReady(f: PolyphaseFilter, nIn: number): number {
  return Math.max(0, Math.floor((nIn * f.up - 1) / f.down) - f.nPreRemove + 1);
}

export function checkResampleRates(fromRate: number, toRate: number): void {
  if (!Number.isInteger(fromRate) || !Number.isInteger(toRate) || fromRate <= 0 || toRate <= 0) {
    throw new RangeError(`resample needs positive integer rates, got ${fromRate} -> ${toRate}`);
  }
}

/** Resamples `samples` from `fromRate` to `toRate` (integer Hz); returns the input itself when the rates match. */
export function resample(samples: Float32Array, fromRate: number, toRate: number): Float32Array {
  checkResampleRates(fromRate, toRate);
  if (fromRate === toRate) return samples;
  const nOut = resampledLength(samples.length, fromRate, toRate);
  const out = new Float32Array(nOut);
  polyphaseOutputs(polyphaseFilter(fromRate, toRate), samples, samples.length, 0, nOut, out);
  return out;
}

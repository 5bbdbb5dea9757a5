// librosa.effects.trim(y, top_db, frame_length, hop_length): frame RMS with centred frames and
// zero padding (frame_length/2 each side), level in dB against the loudest frame, frames louder
// than -top_db are kept, and the kept span is [first*hop, min(n, (last+1)*hop)). float64 inside.
// The Range/Bounds pieces let a stream compute frame RMS as samples arrive and trim at the end.

export interface TrimOptions {
  topDb?: number;
  frameLength?: number;
  hop?: number;
}

const trimDefaults = { topDb: 30, frameLength: 2048, hop: 512 };

export interface TrimResult {
  start: number;
  end: number;
  /** RMS of each centred frame, as librosa.feature.rms(center=True, pad_mode='constant'). */
  rms: Float64Array;
}

/** Writes rms[from, to) of y[0, n); frame t is final as soon as n >= t * hop - frameLength / 2 + frameLength. */
export function frameRmsRange(y: Float32Array, n: number, frameLength: number, hop: number, from: number, to: number, rms: Float64Array): void {
  const half = Math.floor(frameLength / 2);
  for (let t = from; t < to; t++) {
    const lo = Math.max(0, t * hop - half);
    const hi = Math.min(n, t * hop - half + frameLength);
    let sum = 0;
    for (let i = lo; i < hi; i++) sum += y[i] * y[i];
    rms[t] = Math.sqrt(sum / frameLength);
  }
}

export function frameRms(y: Float32Array, frameLength: number, hop: number): Float64Array {
  const rms = new Float64Array(1 + Math.floor(y.length / hop));
  frameRmsRange(y, y.length, frameLength, hop, 0, rms.length, rms);
  return rms;
}

/** The kept span [start, end) of a signal of n samples from its frame RMS (the first `frames` of rms). */
export function trimBounds(rms: Float64Array, frames: number, n: number, topDb: number, hop: number): { start: number; end: number } {
  let peak = 0;
  for (let t = 0; t < frames; t++) peak = Math.max(peak, rms[t]);
  const refDb = 10 * Math.log10(Math.max(1e-10, peak * peak));
  let first = -1;
  let last = -1;
  for (let t = 0; t < frames; t++) {
    const db = 10 * Math.log10(Math.max(1e-10, rms[t] * rms[t])) - refDb;
    if (db > -topDb) {
      if (first < 0) first = t;
      last = t;
    }
  }
  if (first < 0) return { start: 0, end: 0 };
  return { start: first * hop, end: Math.min(n, (last + 1) * hop) };
}

export function trimSilence(y: Float32Array, options: TrimOptions = {}): TrimResult {
  const { topDb, frameLength, hop } = { ...trimDefaults, ...options };
  const rms = frameRms(y, frameLength, hop);
  return { ...trimBounds(rms, rms.length, y.length, topDb, hop), rms };
}

/** The non-silent part of y (a view, not a copy). */
export function trim(y: Float32Array, options: TrimOptions = {}): Float32Array {
  const { start, end } = trimSilence(y, options);
  return y.subarray(start, end);
}

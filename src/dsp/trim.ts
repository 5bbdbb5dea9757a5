// librosa.effects.trim(y, top_db, frame_length, hop_length): frame RMS with centred frames and
// zero padding (frame_length/2 each side), level in dB against the loudest frame, frames louder
// than -top_db are kept, and the kept span is [first*hop, min(n, (last+1)*hop)). float64 inside.

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

export function frameRms(y: Float32Array, frameLength: number, hop: number): Float64Array {
  const frames = 1 + Math.floor(y.length / hop);
  const half = Math.floor(frameLength / 2);
  const rms = new Float64Array(frames);
  for (let t = 0; t < frames; t++) {
    const from = Math.max(0, t * hop - half);
    const to = Math.min(y.length, t * hop - half + frameLength);
    let sum = 0;
    for (let i = from; i < to; i++) sum += y[i] * y[i];
    rms[t] = Math.sqrt(sum / frameLength);
  }
  return rms;
}

export function trimSilence(y: Float32Array, options: TrimOptions = {}): TrimResult {
  const { topDb, frameLength, hop } = { ...trimDefaults, ...options };
  const rms = frameRms(y, frameLength, hop);
  let peak = 0;
  for (const r of rms) peak = Math.max(peak, r);
  const refDb = 10 * Math.log10(Math.max(1e-10, peak * peak));
  let first = -1;
  let last = -1;
  for (let t = 0; t < rms.length; t++) {
    const db = 10 * Math.log10(Math.max(1e-10, rms[t] * rms[t])) - refDb;
    if (db > -topDb) {
      if (first < 0) first = t;
      last = t;
    }
  }
  if (first < 0) return { start: 0, end: 0, rms };
  return { start: first * hop, end: Math.min(y.length, (last + 1) * hop), rms };
}

/** The non-silent part of y (a view, not a copy). */
export function trim(y: Float32Array, options: TrimOptions = {}): Float32Array {
  const { start, end } = trimSilence(y, options);
  return y.subarray(start, end);
}

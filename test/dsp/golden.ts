// Loads the librosa 0.11.0 golden fixtures copied under test/fixtures/librosa (see its README)
// and provides the comparison measures the tolerance table uses.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const fixtureDir = fileURLToPath(new URL('../fixtures/librosa/', import.meta.url));

export const clipNames = [
  'chirp_100_8000_22050',
  'noise_white_22050',
  'speech_a_m3_22050_mono',
  'speech_b_f2_16000_mono_padded',
  'speech_c_m1_44100_stereo',
  'speech_d_f4_48000_mono',
  'tone_440_880_22050',
] as const;

export interface GoldenMatrix {
  shape: number[];
  data: number[][];
}

export interface SignalSummary {
  length: number;
  first64: number[];
  mid_start: number;
  mid64: number[];
  sum_sq: number;
  max_abs: number;
}

export interface GoldenClip {
  clip: string;
  source: { sr_native: number; channels: number; frames_native: number };
  y22050: { soxr_hq: SignalSummary; polyphase: SignalSummary; fft: SignalSummary };
  preemphasis: SignalSummary;
  trim: { idx: [number, number]; trimmed_length: number; rms_frames: { data: number[] } };
  trimmed: SignalSummary;
  stft_mag: GoldenMatrix & { full_shape: number[] };
  [matrix: string]: unknown;
  tuning: number;
  features82_unpadded_frames: number;
}

const cache = new Map<string, unknown>();

export function loadJson<T>(relative: string): T {
  if (!cache.has(relative)) cache.set(relative, JSON.parse(readFileSync(fixtureDir + relative, 'utf8')));
  return cache.get(relative) as T;
}

export const goldenClip = (name: string) => loadJson<GoldenClip>(`golden/${name}.json`);
export const audioBytes = (file: string) => new Uint8Array(readFileSync(fixtureDir + 'audio/' + file));

export function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export const flatten = (rows: number[][]): number[] => rows.flat();

export function summarise(y: Float32Array): SignalSummary {
  const midStart = Math.floor(y.length / 2) - 32;
  let sumSq = 0;
  let maxAbs = 0;
  for (const v of y) { sumSq += v * v; maxAbs = Math.max(maxAbs, Math.abs(v)); }
  return {
    length: y.length,
    first64: Array.from(y.subarray(0, 64)),
    mid_start: midStart,
    mid64: Array.from(y.subarray(midStart, midStart + 64)),
    sum_sq: sumSq,
    max_abs: maxAbs,
  };
}

// Decodes an encoded audio file (WAV of any PCM width or float, FLAC, MP3, Ogg Vorbis, anything
// `audio-decode` knows) to mono float32 at the native rate, as librosa.load(sr=None, mono=True)
// does: integer PCM becomes k / 2^(bits-1), and channels are averaged in float32 before any
// resampling. Every failure is a DecodeError whose message is one line: file name and reason. A WAV
// read differently from what its header declares (a streaming recorder's placeholder size, a data
// chunk past the end of the file: wav.ts) decodes with `warnings` saying so; RF64/BW64 files decode
// through their plain RIFF equivalent.

import decodeAudioBytes from 'audio-decode';
import { canonicalWav, isIntegerPcm, isWav, readWavHeader } from './wav';

export class DecodeError extends Error {
  constructor(readonly reason: string, readonly fileName?: string) {
    super(`${fileName ?? 'audio input'}: ${reason}`);
    this.name = 'DecodeError';
  }
}

export interface DecodedAudio {
  samples: Float32Array;
  sampleRate: number;
  channels: number;
  durationS: number;
  /** What was read differently from what the file declares (absent when nothing was). */
  warnings?: string[];
}

export interface DecodeOptions {
  fileName?: string;
  minSampleRate?: number;
  maxSampleRate?: number;
}

const decodeDefaults = { minSampleRate: 1000, maxSampleRate: 384000 };

/**
 * How audio-decode scaled a lossless integer source: its WAV reader divides negatives by 2^(bits-1)
 * and positives by 2^(bits-1) - 1; its FLAC decoder divides every sample by 2^(bits-1) - 1.
 * librosa (libsndfile) divides every sample by 2^(bits-1).
 */
interface IntegerSource {
  bits: number;
  rescale: 'positives' | 'all';
}

/** How to read the input: the bytes to decode (WAVs as plain RIFF), how integers were scaled, what differed. */
function inspect(bytes: Uint8Array): { bytes: Uint8Array; source: IntegerSource | null; warnings: string[] } {
  if (isWav(bytes)) {
    const header = readWavHeader(bytes);
    const source: IntegerSource | null = isIntegerPcm(header) ? { bits: header.bitsPerSample, rescale: 'positives' } : null;
    return { bytes: canonicalWav(bytes, header), source, warnings: header.warnings };
  }
  return { bytes, source: integerSource(bytes), warnings: [] };
}

function integerSource(bytes: Uint8Array): IntegerSource | null {
  const isFlac = bytes.length >= 22 && bytes[0] === 0x66 && bytes[1] === 0x4c && bytes[2] === 0x61 && bytes[3] === 0x43;
  // STREAMINFO is always the first metadata block: bits-per-sample minus one sits in bits 4..8 of bytes 20..21.
  return isFlac ? { bits: (((bytes[20] & 1) << 4) | (bytes[21] >> 4)) + 1, rescale: 'all' } : null;
}

/**
 * Recovers the integer k from audio-decode's value and returns k / 2^(bits-1), in place. Exact up
 * to 24 bits; at 32 bits float32 cannot hold k, so the result may differ from libsndfile by an ulp.
 */
function toLibsndfileScale(channel: Float32Array, source: IntegerSource): void {
  const full = 2 ** (source.bits - 1);
  const divisor = full - 1;
  for (let i = 0; i < channel.length; i++) {
    const x = channel[i];
    if (source.rescale === 'positives' && x <= 0) continue;
    channel[i] = source.bits <= 24 ? Math.round(x * divisor) / full : (x * divisor) / full;
  }
}

/** Mean over channels accumulated in float32, as numpy's mean over the channel axis of float32 data. */
export function mixToMono(channels: Float32Array[]): Float32Array {
  if (channels.length === 1) return channels[0];
  const n = channels[0].length;
  const mono = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let acc = channels[0][i];
    for (let c = 1; c < channels.length; c++) acc = Math.fround(acc + channels[c][i]);
    mono[i] = acc / channels.length;
  }
  return mono;
}

export async function decodeAudio(input: ArrayBuffer | Uint8Array, options: DecodeOptions = {}): Promise<DecodedAudio> {
  const { fileName } = options;
  const minSampleRate = options.minSampleRate ?? decodeDefaults.minSampleRate;
  const maxSampleRate = options.maxSampleRate ?? decodeDefaults.maxSampleRate;
  const fail = (reason: string): never => { throw new DecodeError(reason, fileName); };

  const given = input instanceof Uint8Array ? input : new Uint8Array(input);
  if (given.length === 0) fail('empty input (0 bytes)');
  let read: ReturnType<typeof inspect> = { bytes: given, source: null, warnings: [] };
  try {
    read = inspect(given);
  } catch (e) {
    fail((e as Error).message);
  }
  const { bytes, source, warnings } = read;

  let decoded: { channelData: Float32Array[]; sampleRate: number };
  try {
    decoded = await decodeAudioBytes(bytes);
  } catch (e) {
    const message = (e as Error).message || String(e);
    if (/unknown audio format/i.test(message)) fail('not audio, or an unsupported format');
    return fail(`cannot decode (${message.split('\n')[0]})`);
  }

  const channels = decoded.channelData;
  if (channels.length === 0 || channels[0].length === 0) fail('no samples (zero-length audio)');
  const { sampleRate } = decoded;
  if (!(sampleRate >= minSampleRate && sampleRate <= maxSampleRate)) {
    fail(`sample rate ${sampleRate} Hz outside ${minSampleRate}..${maxSampleRate} Hz`);
  }
  for (const channel of channels) {
    for (let i = 0; i < channel.length; i++) {
      if (!Number.isFinite(channel[i])) fail(`non-finite sample (${channel[i]}) at frame ${i}`);
    }
    if (source) toLibsndfileScale(channel, source);
  }
  const samples = mixToMono(channels);
  return { samples, sampleRate, channels: channels.length, durationS: samples.length / sampleRate, ...(warnings.length ? { warnings } : {}) };
}

// Decodes an encoded audio file (WAV of any PCM width or float, FLAC, MP3, Ogg Vorbis, anything
// `audio-decode` knows) to mono float32 at the native rate, as librosa.load(sr=None, mono=True)
// does: integer PCM becomes k / 2^(bits-1), and channels are averaged in float32 before any
// resampling. Every failure is a DecodeError whose message is one line: file name and reason.

import decodeAudioBytes from 'audio-decode';
import { isIntegerPcm, isWav, readWavHeader } from './wav';

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
}

export interface DecodeOptions {
  fileName?: string;
  minSampleRate?: number;
  maxSampleRate?: number;
}

const decodeDefaults = { minSampleRate: 1000, maxSampleRate: 384000 };

/** Bit depth of lossless integer sources, whose samples get libsndfile's symmetric scaling. */
function integerBitDepth(bytes: Uint8Array): number | null {
  if (isWav(bytes)) {
    const header = readWavHeader(bytes);
    return isIntegerPcm(header) ? header.bitsPerSample : null;
  }
  const isFlac = bytes.length >= 22 && bytes[0] === 0x66 && bytes[1] === 0x4c && bytes[2] === 0x61 && bytes[3] === 0x43;
  // STREAMINFO is always the first metadata block: bits-per-sample minus one sits in bits 4..8 of bytes 20..21.
  return isFlac ? (((bytes[20] & 1) << 4) | (bytes[21] >> 4)) + 1 : null;
}

/**
 * audio-decode scales negative integers by 2^-(bits-1) but positive ones by 1/(2^(bits-1) - 1);
 * librosa (libsndfile) uses 2^-(bits-1) for both. Recovers k and rescales positives in place.
 * Exact up to 24 bits; at 32 bits float32 cannot hold k, so the result may differ by one ulp.
 */
function rescalePositives(channel: Float32Array, bits: number): void {
  const full = 2 ** (bits - 1);
  const positiveMax = full - 1;
  for (let i = 0; i < channel.length; i++) {
    const x = channel[i];
    if (x <= 0) continue;
    channel[i] = bits <= 24 ? Math.round(x * positiveMax) / full : (x * positiveMax) / full;
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

  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  if (bytes.length === 0) fail('empty input (0 bytes)');
  let bits: number | null = null;
  try {
    bits = integerBitDepth(bytes);
  } catch (e) {
    fail((e as Error).message);
  }

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
    if (bits !== null) rescalePositives(channel, bits);
  }
  const samples = mixToMono(channels);
  return { samples, sampleRate, channels: channels.length, durationS: samples.length / sampleRate };
}

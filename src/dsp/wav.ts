// A minimal RIFF/WAVE reader of the header (format, rate, channels, where the data lies) and a
// writer of PCM WAV files (8/16/24/32-bit integer, 32-bit float, interleaved channels). The writer
// makes test inputs and synthetic corpora; decoding the samples is left to decode.ts.

export type WavEncoding = 'int8' | 'int16' | 'int24' | 'int32' | 'float32';

export interface WavHeader {
  formatTag: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  dataOffset: number;
  dataBytes: number;
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_FLOAT = 3;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

function fourcc(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
}

export function isWav(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && fourcc(bytes, 0) === 'RIFF';
}

/** Parses the chunks up to `data`; throws an Error whose message is the reason it cannot. */
export function readWavHeader(bytes: Uint8Array): WavHeader {
  if (bytes.length < 12 || fourcc(bytes, 8) !== 'WAVE') throw new Error('truncated WAV header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let format: Omit<WavHeader, 'dataOffset' | 'dataBytes'> | null = null;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = fourcc(bytes, at);
    const size = view.getUint32(at + 4, true);
    if (id === 'fmt ') {
      if (at + 8 + 16 > bytes.length) throw new Error('truncated WAV header (fmt chunk)');
      let formatTag = view.getUint16(at + 8, true);
      if (formatTag === WAVE_FORMAT_EXTENSIBLE) {
        if (at + 8 + 26 > bytes.length) throw new Error('truncated WAV header (extensible fmt chunk)');
        formatTag = view.getUint16(at + 8 + 24, true);
      }
      format = {
        formatTag,
        channels: view.getUint16(at + 10, true),
        sampleRate: view.getUint32(at + 12, true),
        bitsPerSample: view.getUint16(at + 22, true),
      };
    } else if (id === 'data') {
      if (!format) throw new Error('WAV data chunk before its fmt chunk');
      return { ...format, dataOffset: at + 8, dataBytes: Math.min(size, bytes.length - at - 8) };
    }
    at += 8 + size + (size & 1);
  }
  throw new Error(format ? 'truncated WAV file (no data chunk)' : 'truncated WAV header (no fmt chunk)');
}

/** True for integer PCM, whose samples librosa (libsndfile) scales as k / 2^(bits-1). */
export function isIntegerPcm(header: WavHeader): boolean {
  return header.formatTag === WAVE_FORMAT_PCM;
}

const bitsOf: Record<WavEncoding, number> = { int8: 8, int16: 16, int24: 24, int32: 32, float32: 32 };

/** Encodes channel-major samples in [-1, 1] (clipped) as a WAV file; integers as round(x * 2^(bits-1)). */
export function writeWav(
  channels: Float32Array[],
  sampleRate: number,
  encoding: WavEncoding = 'int16',
): Uint8Array {
  const nCh = channels.length;
  const frames = nCh ? channels[0].length : 0;
  const bytesPer = bitsOf[encoding] / 8;
  const dataBytes = frames * nCh * bytesPer;
  const out = new Uint8Array(44 + dataBytes);
  const view = new DataView(out.buffer);
  const ascii = (at: number, s: string) => { for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i); };
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, encoding === 'float32' ? WAVE_FORMAT_FLOAT : WAVE_FORMAT_PCM, true);
  view.setUint16(22, nCh, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * nCh * bytesPer, true);
  view.setUint16(32, nCh * bytesPer, true);
  view.setUint16(34, bitsOf[encoding], true);
  ascii(36, 'data');
  view.setUint32(40, dataBytes, true);
  const scale = 2 ** (bitsOf[encoding] - 1);
  let at = 44;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < nCh; c++) {
      const x = channels[c][i];
      if (encoding === 'float32') { view.setFloat32(at, x, true); at += 4; continue; }
      const k = Math.max(-scale, Math.min(scale - 1, Math.round(Math.max(-1, Math.min(1, x)) * scale)));
      if (encoding === 'int8') view.setUint8(at, k + 128);
      else if (encoding === 'int16') view.setInt16(at, k, true);
      else if (encoding === 'int24') { view.setUint8(at, k & 0xff); view.setInt16(at + 1, k >> 8, true); }
      else view.setInt32(at, k, true);
      at += bytesPer;
    }
  }
  return out;
}

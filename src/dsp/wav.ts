// A minimal RIFF/WAVE reader of the header (format, rate, channels, where the data lies) and a
// writer of PCM WAV files (8/16/24/32-bit integer, 32-bit float, interleaved channels). The writer
// makes test inputs and synthetic corpora; decoding the samples is left to decode.ts.
//
// The reader is tolerant where recorders are sloppy, and says so in `warnings`: a data chunk whose
// size is 0 or 0xFFFFFFFF (the placeholder a streaming recorder writes before it knows the length) or
// runs past the end of the file (a recording cut short, a truncated copy) is read to the end of the
// file, in whole frames, as libsndfile and librosa do; a chunk of odd size written without its pad
// byte is followed where the next chunk actually starts. RF64 and BW64 files (EBU Tech 3306: `RF64`
// or `BW64` in place of `RIFF`, the 64-bit sizes in a `ds64` chunk) are read; big-endian RIFX is
// refused by name. canonicalWav rewrites any of these as a plain RIFF file of exactly the data read.

export type WavEncoding = 'int8' | 'int16' | 'int24' | 'int32' | 'float32';

export interface WavHeader {
  formatTag: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  dataOffset: number;
  dataBytes: number;
  /** 'RIFF', 'RF64' or 'BW64'. */
  container: string;
  /** Byte range of the fmt chunk (its 8-byte header included). */
  fmtChunk: [number, number];
  /** What was read differently from what the header declares (empty for a well-formed file). */
  warnings: string[];
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_FLOAT = 3;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
const PLACEHOLDER = 0xffffffff;

function fourcc(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
}

const isChunkId = (bytes: Uint8Array, at: number) => at + 4 <= bytes.length && [0, 1, 2, 3].every((k) => bytes[at + k]! >= 0x20 && bytes[at + k]! <= 0x7e);

/** RIFF, RF64, BW64 (and RIFX, to refuse it by name): the containers of WAVE data. */
export function isWav(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && ['RIFF', 'RF64', 'BW64', 'RIFX'].includes(fourcc(bytes, 0));
}

/**
 * The data chunk's bytes to read: the declared size, or, when that is a placeholder (0, 0xFFFFFFFF)
 * or runs past the end of the file, the whole frames up to the end, with the warning that says so.
 */
function dataExtent(declared: number, available: number, blockAlign: number): { bytes: number; warning: string | null } {
  const placeholder = declared === 0 || declared === PLACEHOLDER;
  if (!placeholder && declared <= available) return { bytes: declared, warning: null };
  const bytes = available - (blockAlign > 0 ? available % blockAlign : 0);
  const dropped = available - bytes;
  const why = placeholder
    ? `declares ${declared === 0 ? '0' : '0xFFFFFFFF'} bytes (the placeholder of a recorder that never wrote the length)`
    : `declares ${declared} bytes, ${declared - available} more than the file holds (recording cut short, or a truncated copy)`;
  return { bytes, warning: `WAV data chunk ${why}: read to the end of the file, ${bytes} bytes${dropped ? ` (the last ${dropped} bytes, an incomplete frame, left out)` : ''}` };
}

/** Parses the chunks up to `data`; throws an Error whose message is the reason it cannot. */
export function readWavHeader(bytes: Uint8Array): WavHeader {
  if (bytes.length >= 4 && fourcc(bytes, 0) === 'RIFX') throw new Error('big-endian WAV (RIFX) is not supported; convert it to a little-endian RIFF WAV');
  if (bytes.length < 12 || fourcc(bytes, 8) !== 'WAVE') throw new Error('truncated WAV header');
  const container = fourcc(bytes, 0);
  const wide = container === 'RF64' || container === 'BW64';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const warnings: string[] = [];
  let format: Omit<WavHeader, 'dataOffset' | 'dataBytes' | 'container' | 'fmtChunk' | 'warnings'> | null = null;
  let fmtChunk: [number, number] = [0, 0];
  let ds64Data: number | null = null;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = fourcc(bytes, at);
    const size = view.getUint32(at + 4, true);
    if (id === 'ds64') {
      if (size < 24 || at + 8 + 24 > bytes.length) throw new Error(`truncated ${container} header (ds64 chunk)`);
      ds64Data = Number(view.getBigUint64(at + 16, true));
    } else if (id === 'fmt ') {
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
      fmtChunk = [at, Math.min(bytes.length, at + 8 + size)];
    } else if (id === 'data') {
      if (!format) throw new Error('WAV data chunk before its fmt chunk');
      if (wide && size === PLACEHOLDER && ds64Data === null) throw new Error(`${container} file without the ds64 chunk that holds its data size`);
      const declared = wide && size === PLACEHOLDER ? ds64Data! : size;
      const blockAlign = format.channels * Math.ceil(format.bitsPerSample / 8);
      const extent = dataExtent(declared, bytes.length - at - 8, blockAlign);
      if (extent.warning) warnings.push(extent.warning);
      return { ...format, dataOffset: at + 8, dataBytes: extent.bytes, container, fmtChunk, warnings };
    }
    if (at + 8 + size > bytes.length) {
      throw new Error(`truncated WAV file: its '${id.replace(/[^\x20-\x7e]/g, '?')}' chunk at byte ${at} declares ${size} bytes, past the end of the file, and no data chunk comes before it`);
    }
    // Chunks are padded to even sizes; some writers leave the pad byte out.
    const next = at + 8 + size;
    at = size & 1 && !isChunkId(bytes, next + 1) && isChunkId(bytes, next) ? next : next + (size & 1);
  }
  throw new Error(format ? 'truncated WAV file (no data chunk)' : 'truncated WAV header (no fmt chunk)');
}

/**
 * The file as a plain RIFF WAV holding exactly the data readWavHeader reads (the original bytes when
 * they already are that): what the sample decoder then reads, whatever sizes the header declared.
 */
export function canonicalWav(bytes: Uint8Array, h: WavHeader): Uint8Array {
  const declared = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(h.dataOffset - 4, true);
  if (h.container === 'RIFF' && declared === h.dataBytes && h.warnings.length === 0) return bytes;
  const fmt = bytes.subarray(h.fmtChunk[0], h.fmtChunk[1]);
  const pad = fmt.length & 1;
  const total = 12 + fmt.length + pad + 8 + h.dataBytes;
  if (total > PLACEHOLDER) throw new Error(`${h.container} data of ${h.dataBytes} bytes: over the 4 GiB a RIFF WAV can hold`);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set([0x52, 0x49, 0x46, 0x46], 0); // RIFF
  view.setUint32(4, total - 8, true);
  out.set([0x57, 0x41, 0x56, 0x45], 8); // WAVE
  out.set(fmt, 12);
  const at = 12 + fmt.length + pad;
  out.set([0x64, 0x61, 0x74, 0x61], at); // data
  view.setUint32(at + 4, h.dataBytes, true);
  out.set(bytes.subarray(h.dataOffset, h.dataOffset + h.dataBytes), at + 8);
  return out;
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

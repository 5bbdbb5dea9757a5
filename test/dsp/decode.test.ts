// decodeAudio against libsndfile's numbers (librosa.load with sr=None), lossy formats by length
// and SNR, every PCM width through the WAV writer, and one clear DecodeError per kind of bad input.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DecodeError, decodeAudio } from '../../src/dsp/decode';
import { decodeFile } from '../../src/dsp/decode.node.ts';
import { resample } from '../../src/dsp/resample';
import { writeWav, type WavEncoding } from '../../src/dsp/wav';
import { audioBytes, fixtureDir, goldenClip, loadJson, maxAbsDiff, summarise } from './golden';

interface ChannelSummary { length: number; first64: number[]; mid_start: number; mid64: number[]; sum_sq: number }
interface DecoderGolden {
  files: Record<string, { shape_native: number[]; native_channels: ChannelSummary[]; y22050_polyphase: ChannelSummary; vs_wav: { snr_db: number } }>;
}

function snrDb(test: Float32Array, reference: Float32Array): number {
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < reference.length; i++) {
    signal += reference[i] ** 2;
    noise += (test[i] - reference[i]) ** 2;
  }
  return 10 * Math.log10(signal / noise);
}

/** A seeded uniform generator (mulberry32). */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('decodeAudio on the librosa fixtures', () => {
  it.each(['chirp_100_8000_22050', 'noise_white_22050', 'speech_a_m3_22050_mono', 'tone_440_880_22050'])(
    '%s decodes to exactly k/32768, as librosa.load at its native 22050 Hz',
    async (name) => {
      const golden = goldenClip(name).y22050.polyphase;
      const decoded = await decodeAudio(audioBytes(`${name}.wav`));
      const got = summarise(decoded.samples);
      expect(decoded.sampleRate).toBe(22050);
      expect(got.length).toBe(golden.length);
      expect(got.first64).toEqual(golden.first64.map(Math.fround));
      expect(got.mid64).toEqual(golden.mid64.map(Math.fround));
      expect(got.sum_sq).toBeCloseTo(golden.sum_sq, 3);
    },
  );

  it('stereo WAV is the float32 mean of its channels, with native rate, channel count and duration', async () => {
    const golden = loadJson<DecoderGolden>('golden/decoders.json').files.wav;
    const decoded = await decodeAudio(audioBytes('speech_c_m1_44100_stereo.wav'));
    const [left, right] = golden.native_channels;
    expect(decoded).toMatchObject({ sampleRate: 44100, channels: 2 });
    expect(decoded.samples.length).toBe(golden.shape_native[1]);
    expect(decoded.durationS).toBeCloseTo(89126 / 44100, 12);
    const expected = left.first64.map((l, i) => Math.fround(Math.fround(l) + Math.fround(right.first64[i])) / 2);
    expect(Array.from(decoded.samples.subarray(0, 64))).toEqual(expected);
    const mid = left.mid64.map((l, i) => Math.fround(Math.fround(l) + Math.fround(right.mid64[i])) / 2);
    expect(Array.from(decoded.samples.subarray(left.mid_start, left.mid_start + 64))).toEqual(mid);
  });

  it('FLAC decodes bit-identical to the WAV it was made from', async () => {
    const wav = await decodeAudio(audioBytes('speech_c_m1_44100_stereo.wav'));
    const flac = await decodeAudio(audioBytes('speech_c_m1_44100_stereo.flac'));
    expect(flac.channels).toBe(2);
    expect(flac.samples.length).toBe(wav.samples.length);
    const differing = flac.samples.filter((x, i) => x !== wav.samples[i]).length;
    expect(differing).toBe(0);
  });

  it.each(['mp3', 'ogg'])('%s is gapless (same length as the WAV) with the SNR libsndfile gets (+-0.5 dB)', async (fmt) => {
    const golden = loadJson<DecoderGolden>('golden/decoders.json').files[fmt];
    const wav = await decodeAudio(audioBytes('speech_c_m1_44100_stereo.wav'));
    const lossy = await decodeAudio(audioBytes(`speech_c_m1_44100_stereo.${fmt}`));
    expect(lossy).toMatchObject({ sampleRate: 44100, channels: 2 });
    expect(lossy.samples.length).toBe(wav.samples.length);
    expect(Math.abs(snrDb(lossy.samples, wav.samples) - golden.vs_wav.snr_db)).toBeLessThan(0.5);
  });

  it.each(['flac', 'mp3', 'ogg'])('%s resampled to 22050 Hz matches librosa.load(res_type=polyphase) within 2e-6', async (fmt) => {
    const golden = loadJson<DecoderGolden>('golden/decoders.json').files[fmt].y22050_polyphase;
    const decoded = await decodeAudio(audioBytes(`speech_c_m1_44100_stereo.${fmt}`));
    const got = summarise(resample(decoded.samples, decoded.sampleRate, 22050));
    expect(got.length).toBe(golden.length);
    expect(maxAbsDiff(got.first64, golden.first64)).toBeLessThan(2e-6);
    expect(maxAbsDiff(got.mid64, golden.mid64)).toBeLessThan(2e-6);
    expect(Math.abs(got.sum_sq / golden.sum_sq - 1)).toBeLessThan(1e-5);
  });
});

describe('decodeAudio on generated WAVs', () => {
  const widths: [WavEncoding, number][] = [['int8', 8], ['int16', 16], ['int24', 24], ['int32', 32]];
  it.each(widths)('%s PCM decodes to k / 2^(bits-1) for seeded k, full scale included', async (encoding, bits) => {
    const full = 2 ** (bits - 1);
    const random = seeded(bits);
    const ks = [-full, full - 1, 0, 1, -1, ...Array.from({ length: 200 }, () => Math.floor(random() * 2 * full) - full)];
    const x = Float32Array.from(ks, (k) => k / full);
    const decoded = await decodeAudio(writeWav([x], 16000, encoding));
    expect(decoded.sampleRate).toBe(16000);
    for (let i = 0; i < ks.length; i++) {
      const expected = Math.fround(ks[i] / full);
      // float32 cannot hold a 32-bit k: allow one ulp there, demand exactness below.
      const tolerance = bits === 32 ? Math.abs(expected) * 2 ** -23 : 0;
      expect(Math.abs(decoded.samples[i] - expected)).toBeLessThanOrEqual(tolerance);
    }
  });

  it('32-bit float PCM passes through unchanged and 3 channels average in float32', async () => {
    const random = seeded(7);
    const channels = [0, 1, 2].map(() => Float32Array.from({ length: 300 }, () => random() * 2 - 1));
    const decoded = await decodeAudio(writeWav(channels, 48000, 'float32'));
    expect(decoded.channels).toBe(3);
    const f = Math.fround;
    const expected = channels[0].map((a, i) => f(f(a + channels[1][i]) + channels[2][i]) / 3);
    expect(decoded.samples).toEqual(expected);
  });
});

describe('decodeAudio rejects bad input with a one-line DecodeError', () => {
  const tone = Float32Array.from({ length: 1000 }, (_, i) => 0.5 * Math.sin(i / 5));
  const withFormatTag = (tag: number) => {
    const bytes = writeWav([tone], 22050);
    new DataView(bytes.buffer).setUint16(20, tag, true);
    return bytes;
  };
  const floatWavWith = (bad: number) => {
    const x = tone.slice();
    x[123] = bad;
    return writeWav([x], 22050, 'float32');
  };
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty input', new Uint8Array(0), /empty input/],
    ['a truncated header', writeWav([tone], 22050).subarray(0, 30), /truncated WAV header/],
    ['bytes that are not audio', new TextEncoder().encode('this is a text file, not audio at all'), /not audio/],
    ['an unsupported codec', withFormatTag(0x1234), /cannot decode.*[Uu]nsupported/],
    ['zero samples', writeWav([new Float32Array(0)], 22050), /no samples/],
    ['a NaN sample', floatWavWith(NaN), /non-finite sample \(NaN\) at frame 123/],
    ['an infinite sample', floatWavWith(-Infinity), /non-finite sample \(-Infinity\) at frame 123/],
    ['a sample rate of 500 Hz', writeWav([tone], 500), /sample rate 500 Hz outside 1000\.\.384000 Hz/],
    ['a sample rate of 500000 Hz', writeWav([tone], 500000), /sample rate 500000 Hz outside/],
  ];
  it.each(cases)('%s', async (_, bytes, reason) => {
    const error = await decodeAudio(bytes, { fileName: 'bad.wav' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecodeError);
    const message = (error as DecodeError).message;
    expect(message).toMatch(/^bad\.wav: /);
    expect(message).toMatch(reason);
    expect(message).not.toContain('\n');
  });
});

describe('decodeFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ser-decode-'));
  it('reads a fixture from disk', async () => {
    const decoded = await decodeFile(join(fixtureDir, 'audio', 'speech_b_f2_16000_mono_padded.wav'));
    expect(decoded).toMatchObject({ sampleRate: 16000, channels: 1 });
    expect(decoded.samples.length).toBe(48920);
  });
  it('names a missing file', async () => {
    const path = join(dir, 'missing.wav');
    await expect(decodeFile(path)).rejects.toThrow(`${path}: file not found`);
  });
  it('states the size limit it refuses a file over', async () => {
    const path = join(dir, 'big.wav');
    writeFileSync(path, writeWav([new Float32Array(1000)], 22050));
    await expect(decodeFile(path, { maxBytes: 1000 })).rejects.toThrow(/big\.wav: file is 2044 bytes, over the limit of 1000 bytes/);
  });
});

describe('decodeAudio reads sloppy and 64-bit WAV headers as libsndfile does, with a warning', () => {
  const random = seeded(3);
  const left = Float32Array.from({ length: 500 }, () => random() * 2 - 1);
  const right = Float32Array.from({ length: 500 }, () => random() * 2 - 1);
  const wav = writeWav([left, right], 16000, 'int16'); // 44-byte header, 4-byte frames
  const withDataSize = (bytes: Uint8Array, size: number) => {
    const copy = bytes.slice();
    new DataView(copy.buffer).setUint32(40, size, true);
    return copy;
  };
  /** The same file as RF64/BW64: sizes 0xFFFFFFFF, the real ones in a ds64 chunk before fmt. */
  const wide = (container: 'RF64' | 'BW64', ds64 = true) => {
    const body = wav.subarray(12); // fmt + data chunks
    const ds = ds64 ? 8 + 28 : 0;
    const out = new Uint8Array(12 + ds + body.length);
    const view = new DataView(out.buffer);
    out.set(new TextEncoder().encode(container), 0);
    view.setUint32(4, 0xffffffff, true);
    out.set(new TextEncoder().encode('WAVE'), 8);
    if (ds64) {
      out.set(new TextEncoder().encode('ds64'), 12);
      view.setUint32(16, 28, true);
      view.setBigUint64(20, BigInt(out.length - 8), true);
      view.setBigUint64(28, BigInt(wav.length - 44), true);
      view.setBigUint64(36, BigInt(500), true);
    }
    out.set(body, 12 + ds);
    view.setUint32(12 + ds + 24 + 4, 0xffffffff, true); // the data chunk's size field
    return out;
  };
  /** A 3-byte LIST chunk before data, written without its pad byte (as some taggers do). */
  const unpadded = () => {
    const out = new Uint8Array(wav.length + 11);
    out.set(wav.subarray(0, 36));
    out.set(new TextEncoder().encode('LIST'), 36);
    new DataView(out.buffer).setUint32(40, 3, true);
    out.set([1, 2, 3], 44);
    out.set(wav.subarray(36), 47);
    return out;
  };
  let reference: Awaited<ReturnType<typeof decodeAudio>>;
  const cases: [string, () => Uint8Array, number, RegExp | null][] = [
    ['a data size of 0 (a streaming placeholder)', () => withDataSize(wav, 0), 500, /declares 0 bytes \(the placeholder .*\): read to the end of the file, 2000 bytes/],
    ['a data size of 0xFFFFFFFF (a streaming placeholder)', () => withDataSize(wav, 0xffffffff), 500, /declares 0xFFFFFFFF bytes/],
    ['a data size past the end of the file', () => withDataSize(wav, 4000), 500, /declares 4000 bytes, 2000 more than the file holds .*: read to the end of the file, 2000 bytes/],
    ['a file cut inside a frame', () => wav.subarray(0, wav.length - 3), 499, /declares 2000 bytes, 3 more than .*1996 bytes \(the last 1 bytes, an incomplete frame, left out\)/],
    ['RF64 (sizes in ds64)', () => wide('RF64'), 500, null],
    ['BW64 (sizes in ds64)', () => wide('BW64'), 500, null],
    ['a chunk of odd size without its pad byte', unpadded, 500, null],
  ];
  it.each(cases)('%s', async (_, make, frames, warning) => {
    reference ??= await decodeAudio(wav);
    const decoded = await decodeAudio(make(), { fileName: 'sloppy.wav' });
    expect(decoded.channels).toBe(2);
    expect(decoded.samples).toEqual(reference.samples.subarray(0, frames));
    if (warning) {
      expect(decoded.warnings).toHaveLength(1);
      expect(decoded.warnings![0]).toMatch(warning);
    } else {
      expect(decoded.warnings).toBeUndefined();
    }
  });

  it.each([
    ['RF64 without its ds64 chunk', () => wide('RF64', false), /RF64 file without the ds64 chunk that holds its data size/],
    ['big-endian RIFX', () => { const b = wav.slice(); b.set(new TextEncoder().encode('RIFX')); return b; }, /big-endian WAV \(RIFX\) is not supported/],
    ['a chunk before data that runs past the end', () => { const b = unpadded(); new DataView(b.buffer).setUint32(40, 1e6, true); return b; }, /truncated WAV file: its 'LIST' chunk at byte 36 declares 1000000 bytes, past the end of the file/],
  ] as const)('refuses %s by name', async (_, make, reason) => {
    await expect(decodeAudio(make(), { fileName: 'odd.wav' })).rejects.toThrow(reason);
  });

  it('decodeFile tells the warning with the file name (stderr by default)', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ser-decode-')), 'streamed.wav');
    writeFileSync(path, withDataSize(wav, 0xffffffff));
    const told: string[] = [];
    const decoded = await decodeFile(path, { onWarning: (m) => told.push(m) });
    expect(decoded.samples.length).toBe(500);
    expect(told).toEqual([expect.stringMatching(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: warning: WAV data chunk declares 0xFFFFFFFF bytes`))]);
  });
});

// The CPU signal chain before the features: resample_poly port, pre-emphasis and trim, each
// against librosa 0.11.0's numbers for every fixture clip, plus rate pairs the fixtures lack.

import { describe, expect, it } from 'vitest';
import { decodeAudio } from '../../src/dsp/decode';
import { preemphasis } from '../../src/dsp/preemphasis';
import { prepareSignal } from '../../src/dsp/prepare';
import { resample, resampledLength } from '../../src/dsp/resample';
import { trimSilence } from '../../src/dsp/trim';
import { audioBytes, clipNames, goldenClip, maxAbsDiff, relL2, summarise, type SignalSummary } from './golden';

async function pipelineInput(name: string) {
  const decoded = await decodeAudio(audioBytes(`${name}.wav`));
  return resample(decoded.samples, decoded.sampleRate, 22050);
}

function expectSummaryClose(got: SignalSummary, want: SignalSummary, maxAbs: number, sumSqRel: number) {
  expect(got.length).toBe(want.length);
  expect(got.mid_start).toBe(want.mid_start);
  expect(maxAbsDiff(got.first64, want.first64)).toBeLessThanOrEqual(maxAbs);
  expect(maxAbsDiff(got.mid64, want.mid64)).toBeLessThanOrEqual(maxAbs);
  expect(Math.abs(got.sum_sq / want.sum_sq - 1)).toBeLessThan(sumSqRel);
  expect(Math.abs(got.max_abs - want.max_abs)).toBeLessThanOrEqual(maxAbs);
}

describe('resample matches scipy.signal.resample_poly as librosa calls it', () => {
  it.each(['speech_b_f2_16000_mono_padded', 'speech_c_m1_44100_stereo', 'speech_d_f4_48000_mono'])(
    '%s to 22050 Hz: first64/mid64 within 2e-6, sum of squares within 1e-5 relative',
    async (name) => {
      expectSummaryClose(summarise(await pipelineInput(name)), goldenClip(name).y22050.polyphase, 2e-6, 1e-5);
    },
  );

  it('returns the input itself when the rates match', () => {
    const y = Float32Array.from({ length: 100 }, (_, i) => Math.sin(i));
    expect(resample(y, 22050, 22050)).toBe(y);
  });

  it.each([
    [8000, 22050],
    [22050, 16000],
    [11025, 22050],
    [96000, 22050],
    [22050, 44100],
  ])('%i -> %i Hz keeps a 1 kHz sine (interior error < 1e-3) and has ceil(n*to/from) samples', (from, to) => {
    const n = 3001;
    const y = Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 1000 * i) / from));
    const out = resample(y, from, to);
    expect(out.length).toBe(Math.ceil((n * to) / from));
    expect(out.length).toBe(resampledLength(n, from, to));
    // Away from the zero-padded edges the output is the same sine sampled at the new rate.
    const margin = Math.ceil(0.01 * to);
    let worst = 0;
    for (let i = margin; i < out.length - margin; i++) {
      worst = Math.max(worst, Math.abs(out[i] - 0.5 * Math.sin((2 * Math.PI * 1000 * i) / to)));
    }
    expect(worst).toBeLessThan(1e-3);
  });

  it('rejects non-integer or non-positive rates', () => {
    expect(() => resample(new Float32Array(10), 22050.5, 16000)).toThrow(RangeError);
    expect(() => resample(new Float32Array(10), 0, 16000)).toThrow(RangeError);
  });
});

describe.each(clipNames)('%s: pre-emphasis and trim', (name) => {
  it('pre-emphasis (y_pe[0] = 3*y[0] - y[1]) matches within 2e-6', async () => {
    const golden = goldenClip(name);
    const y = await pipelineInput(name);
    const pe = preemphasis(y);
    expectSummaryClose(summarise(pe), golden.preemphasis, 2e-6, 1e-5);
    expect(pe[0]).toBe(Math.fround(y[0] + Math.fround(2 * y[0] - y[1])));
  });

  it('trim finds exactly librosa indices, with its frame RMS (rel L2 < 1e-5)', async () => {
    const golden = goldenClip(name);
    const pe = preemphasis(await pipelineInput(name));
    const { start, end, rms } = trimSilence(pe, { topDb: 30, frameLength: 2048, hop: 512 });
    expect([start, end]).toEqual(golden.trim.idx);
    expect(relL2(rms, golden.trim.rms_frames.data)).toBeLessThan(1e-5);
    expectSummaryClose(summarise(pe.subarray(start, end)), golden.trimmed, 2e-6, 1e-5);
  });
});

describe('trim edge cases', () => {
  it('all-zero input is kept whole, as librosa does (every frame is 0 dB below a zero peak)', () => {
    expect(trimSilence(new Float32Array(5000))).toMatchObject({ start: 0, end: 5000 });
  });
  it('a burst between silences keeps whole hops around it', () => {
    const y = new Float32Array(20000);
    for (let i = 8000; i < 9000; i++) y[i] = Math.sin(i);
    const { start, end } = trimSilence(y);
    expect(start % 512).toBe(0);
    expect(start).toBeLessThanOrEqual(8000);
    expect(end).toBeGreaterThanOrEqual(9000);
    expect(end - start).toBeLessThan(4 * 2048);
  });
});

describe('prepareSignal chains resample, pre-emphasis and trim with the default config', () => {
  it.each(['speech_b_f2_16000_mono_padded', 'speech_c_m1_44100_stereo'])('%s gives librosa\'s trimmed signal', async (name) => {
    const golden = goldenClip(name);
    const decoded = await decodeAudio(audioBytes(`${name}.wav`));
    const prepared = prepareSignal(decoded.samples, decoded.sampleRate);
    expect(prepared.trimmed).toEqual(golden.trim.idx);
    expect(prepared.resampledLength).toBe(golden.y22050.polyphase.length);
    expectSummaryClose(summarise(prepared.samples), golden.trimmed, 2e-6, 1e-5);
  });
});

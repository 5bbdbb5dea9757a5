// The float64 reference features against librosa 0.11.0 on every fixture clip, each key with the
// tolerance of the fixture README's table; the filterbanks bit-exact; features82 block by block.

import { beforeAll, describe, expect, it } from 'vitest';
import { featureConfig } from '../../src/dsp/config';
import { decodeAudio } from '../../src/dsp/decode';
import { preemphasis } from '../../src/dsp/preemphasis';
import { chromaFilterbank, chromaStft } from '../../src/dsp/reference/chroma';
import { featureBlocks, featureRowNames, features82 } from '../../src/dsp/reference/features82';
import type { Matrix } from '../../src/dsp/reference/matrix';
import { melFilterbank, melFrequencies } from '../../src/dsp/reference/mel';
import { delta, savgolWeights } from '../../src/dsp/reference/mfcc';
import { resample } from '../../src/dsp/resample';
import { trim } from '../../src/dsp/trim';
import { audioBytes, clipNames, goldenClip, loadJson, maxAbsDiff, relL2, type GoldenMatrix } from './golden';

interface FilterbankGolden {
  mel: { rows: [number, number[]][]; row_sums: number[]; mel_band_edges_hz: number[] };
  chroma: { data: number[][] };
}

const bins = 1025;

describe('filterbanks rebuild bit-exactly as float32', () => {
  const golden = loadJson<FilterbankGolden>('golden/filterbanks.json');
  it('mel: 128 Slaney triangles with Slaney area norm', () => {
    const expected = new Float32Array(128 * bins);
    golden.mel.rows.forEach(([start, values], m) => values.forEach((v, i) => (expected[m * bins + start + i] = v)));
    expect(Array.from(melFilterbank({ sampleRate: 22050, nFft: 2048, nMels: 128 }))).toEqual(Array.from(expected));
    // The edges are stored to 9 significant digits.
    const edges = melFrequencies(130, 0, 11025);
    golden.mel.mel_band_edges_hz.forEach((hz, i) => expect(Math.abs(edges[i] - hz)).toBeLessThanOrEqual(1e-8 * hz));
  });
  it('chroma: 12 classes from C, tuning 0', () => {
    const expected = Float32Array.from(golden.chroma.data.flat());
    expect(Array.from(chromaFilterbank({ tuning: 0 }))).toEqual(Array.from(expected));
  });
});

describe('delta is a Savitzky-Golay derivative in interp mode', () => {
  it('interior order-1 weights are n / 60 for n = -4..4', () => {
    expect(maxAbsDiff(savgolWeights(9, 1, 1, 4), [-4, -3, -2, -1, 0, 1, 2, 3, 4].map((n) => n / 60))).toBeLessThan(1e-15);
  });
  it('order 1 of a ramp is its slope and order 2 of a parabola is twice its curvature, edges included', () => {
    const frames = 20;
    const data: Matrix = { rows: 2, cols: frames, data: new Float64Array(2 * frames) };
    for (let t = 0; t < frames; t++) {
      data.data[t] = 3 * t - 5;
      data.data[frames + t] = 0.5 * t * t - t;
    }
    expect(maxAbsDiff(delta(data, 9, 1).data.subarray(0, frames), new Array(frames).fill(3))).toBeLessThan(1e-12);
    expect(maxAbsDiff(delta(data, 9, 2).data.subarray(frames), new Array(frames).fill(1))).toBeLessThan(1e-12);
  });
  it('refuses fewer frames than the window, as librosa does', () => {
    expect(() => delta({ rows: 1, cols: 8, data: new Float64Array(8) }, 9, 1)).toThrow(/at least 9 frames/);
  });
});

function goldenMatrix(clip: Record<string, unknown>, key: string): GoldenMatrix {
  return clip[key] as GoldenMatrix;
}

/** Share of entries equal to the golden ones (7 significant digits) and the largest other difference. */
function gridAgreement(got: Float64Array, want: number[]) {
  let exact = 0;
  let worst = 0;
  want.forEach((w, i) => {
    const d = Math.abs(got[i] - w);
    if (d <= 1e-6 * Math.max(1, Math.abs(w))) exact++;
    else worst = Math.max(worst, d);
  });
  return { exactShare: exact / want.length, worst };
}

const pureTones = new Set(['tone_440_880_22050', 'chirp_100_8000_22050']);

describe.each(clipNames)('%s against librosa', (name) => {
  const golden = goldenClip(name);
  let blocks: ReturnType<typeof featureBlocks>;
  let trimmed: Float32Array;
  beforeAll(async () => {
    const decoded = await decodeAudio(audioBytes(`${name}.wav`));
    trimmed = trim(preemphasis(resample(decoded.samples, decoded.sampleRate, 22050)));
    blocks = featureBlocks(trimmed);
  });
  const close = (key: string, got: () => Matrix, relTol: number, absTol = Infinity) => {
    const want = goldenMatrix(golden, key);
    const m = got();
    expect([m.rows, m.cols]).toEqual(want.shape);
    const flat = want.data.flat();
    expect(relL2(m.data, flat)).toBeLessThan(relTol);
    expect(maxAbsDiff(m.data, flat)).toBeLessThan(absTol);
  };

  it('stft magnitude, frames 0..3: rel L2 < 1e-5, full shape', () => {
    const { magnitude } = blocks;
    expect([magnitude.rows, magnitude.cols]).toEqual(golden.stft_mag.full_shape);
    const firstFrames = Array.from({ length: bins * 4 }, (_, i) => magnitude.data[Math.floor(i / 4) * magnitude.cols + (i % 4)]);
    expect(relL2(firstFrames, golden.stft_mag.data.flat())).toBeLessThan(1e-5);
  });
  it('mel power: rel L2 < 1e-5', () => close('mel_power', () => blocks.mel_power, 1e-5));
  it('mel dB: max abs < 0.01 dB', () => close('mel_db', () => blocks.mel_db, Infinity, 0.01));
  it('mfcc: rel L2 < 1e-4, max abs < 0.01', () => close('mfcc', () => blocks.mfcc, 1e-4, 0.01));
  it('mfcc delta: rel L2 < 1e-4, max abs < 0.01', () => close('mfcc_delta', () => blocks.mfcc_delta, 1e-4, 0.01));
  it('mfcc delta2: rel L2 < 1e-4, max abs < 0.01', () => close('mfcc_delta2', () => blocks.mfcc_delta2, 1e-4, 0.01));
  it('tuning: exact on the 0.01 grid', () => expect(Math.round(blocks.tuning * 100)).toBe(Math.round(golden.tuning * 100)));
  it('chroma with tuning 0: rel L2 < 1e-4', () =>
    close('chroma_tuning0', () => chromaStft(blocks.magnitude, chromaFilterbank({ tuning: 0 })), 1e-4));
  it('chroma with estimated tuning: rel L2 < 1e-4', () => close('chroma_default', () => blocks.chroma, 1e-4));
  it(`spectral contrast: rel L2 < ${pureTones.has(name) ? '0.2 (ill-conditioned on pure tones)' : '1e-3'}`, () =>
    close('contrast', () => blocks.contrast, pureTones.has(name) ? 0.2 : 1e-3));
  it('centroid: rel L2 < 1e-4', () => close('centroid', () => blocks.centroid, 1e-4));
  it('bandwidth: rel L2 < 1e-4', () => close('bandwidth', () => blocks.bandwidth, 1e-4));
  it('rolloff: >= 95% of frames on the same bin, the rest within one bin', () => {
    const { exactShare, worst } = gridAgreement(blocks.rolloff.data, goldenMatrix(golden, 'rolloff').data[0]);
    expect(exactShare).toBeGreaterThanOrEqual(0.95);
    expect(worst).toBeLessThanOrEqual(22050 / 2048 + 1e-3);
  });
  it('zcr: >= 95% of frames exact, the rest within 1/2048', () => {
    const { exactShare, worst } = gridAgreement(blocks.zcr.data, goldenMatrix(golden, 'zcr').data[0]);
    expect(exactShare).toBeGreaterThanOrEqual(0.95);
    expect(worst).toBeLessThanOrEqual(1 / 2048 + 1e-9);
  });

  it('features82: 64 frames zero-padded, each block within its tolerance', () => {
    const stack = features82(trimmed);
    const want = goldenMatrix(golden, 'features82').data;
    expect(stack.frames).toBe(golden.features82_unpadded_frames);
    expect([stack.features.rows, stack.features.cols]).toEqual([82, 64]);
    expect(stack.rowNames).toHaveLength(82);
    const kept = Math.min(64, stack.frames);
    const block = (from: number, to: number) => {
      const got: number[] = [];
      const exp: number[] = [];
      for (let r = from; r < to; r++) {
        for (let t = 0; t < 64; t++) {
          got.push(stack.features.data[r * 64 + t]);
          exp.push(want[r][t]);
          if (t >= kept) expect(stack.features.data[r * 64 + t]).toBe(0);
        }
      }
      return { got, exp };
    };
    const relTolerances: [string, number, number, number][] = [
      ['mfcc_0', 0, 20, 1e-4],
      ['mfcc_delta_0', 20, 40, 1e-4],
      ['mfcc_delta2_0', 40, 60, 1e-4],
      ['chroma_C', 60, 72, 1e-4],
      ['contrast_0', 73, 79, pureTones.has(name) ? 0.2 : 1e-3],
      ['centroid', 79, 80, 1e-4],
      ['bandwidth', 81, 82, 1e-4],
    ];
    for (const [firstName, from, to, tol] of relTolerances) {
      expect(stack.rowNames[from]).toBe(firstName);
      const { got, exp } = block(from, to);
      expect(relL2(got, exp)).toBeLessThan(tol);
    }
    for (const [row, step] of [[72, 1 / 2048], [80, 22050 / 2048]] as const) {
      const { got, exp } = block(row, row + 1);
      const { exactShare, worst } = gridAgreement(Float64Array.from(got), exp);
      expect(exactShare).toBeGreaterThanOrEqual(0.95);
      expect(worst).toBeLessThanOrEqual(step + 1e-3 * step);
    }
    expect(stack.rowNames.slice(72, 74)).toEqual(['zcr', 'contrast_0']);
    expect(stack.rowNames.slice(80)).toEqual(['rolloff', 'bandwidth']);
  });
});

describe('features82 options', () => {
  it('pad false keeps only the frames there are; row names follow the config', async () => {
    const decoded = await decodeAudio(audioBytes('noise_white_22050.wav'));
    const stack = features82(trim(preemphasis(decoded.samples)), featureConfig({ pad: false, tuning: 0 }));
    expect(stack.features.cols).toBe(22);
    expect(stack.tuning).toBe(0);
    expect(featureRowNames().slice(60, 72)).toEqual(['chroma_C', 'chroma_C#', 'chroma_D', 'chroma_D#', 'chroma_E', 'chroma_F', 'chroma_F#', 'chroma_G', 'chroma_G#', 'chroma_A', 'chroma_A#', 'chroma_B']);
  });
});

// The batched WGSL STFT against the float64 reference STFT and librosa's stored |STFT| frames.

import { describe, expect, it } from 'vitest';
import { stft } from '../../src/kernels/stft';
import { FFT_FAMILY, twiddleTable } from '../../src/kernels/fft';
import { withVariant } from '../../src/gpu/choices';
import { clipBatch } from '../../src/dsp/gpu-batch';
import { periodicHann, stftMagnitude } from '../../src/dsp/reference/stft';
import type { Gpu } from '../../src/gpu';
import { expectClose, randint, randn, rng, useGpu } from '../harness';
import { clipNames, goldenClip, flatten } from './golden';
import { trimmedSignal } from './gpu-fixtures';

const gpu = useGpu();

/** Magnitudes [F, bins] of a batch, frames of all clips in order. */
async function gpuMagnitude(g: Gpu, signals: Float32Array[], nFft: number, hop: number) {
  const batch = clipBatch(signals, hop, 64, 4);
  const { power, magnitude } = stft(
    g,
    {
      signal: g.upload(batch.signal, [batch.signal.length]),
      clips: g.upload(batch.clips, [batch.clips.length], 'u32'),
      frameClip: g.upload(batch.frameClip, [batch.frameClip.length], 'u32'),
      counts: g.upload(batch.counts, [4], 'u32'),
      window: g.upload(Float32Array.from(periodicHann(nFft)), [nFft]),
      twiddles: g.upload(twiddleTable(nFft), [2 * nFft]),
    },
    { nFft, hop, magnitude: true },
  );
  const [p, m] = await g.readMany([power, magnitude!]);
  return { power: p as Float32Array, magnitude: m as Float32Array, frames: batch.frames };
}

/** The reference [bins][T] magnitude of each clip, transposed to frame rows and concatenated. */
function refMagnitude(signals: Float32Array[], nFft: number, hop: number): Float64Array {
  const parts = signals.map((s) => stftMagnitude(s, { nFft, hop }));
  const out = new Float64Array(parts.reduce((n, m) => n + m.data.length, 0));
  let o = 0;
  for (const m of parts) {
    for (let t = 0; t < m.cols; t++) for (let k = 0; k < m.rows; k++) out[o++] = m.data[k * m.cols + t]!;
  }
  return out;
}

describe('batched STFT matches the float64 reference', () => {
  const cases: [number, number][] = [[2048, 512], [512, 128], [64, 16], [1024, 300]];
  for (const [nFft, hop] of cases) {
    it(`n_fft ${nFft}, hop ${hop}, clips of random lengths (shorter than a frame too)`, async () => {
      const r = rng(nFft + hop);
      const signals = [randint(1, nFft / 2, r), randint(nFft, 6 * nFft, r), randint(1, 4 * nFft, r)].map((n) =>
        Float32Array.from(randn(n, r)),
      );
      const { power, magnitude } = await gpuMagnitude(gpu(), signals, nFft, hop);
      const ref = refMagnitude(signals, nFft, hop);
      expectClose(magnitude, ref, 1e-5, 'magnitude');
      expectClose(power, ref.map((v) => v * v), 1e-5, 'power');
    });
  }
});

describe("batched STFT with the GPU-shaped FFT ('wg256') matches the float64 reference", () => {
  it('n_fft 2048, hop 512, clips of random lengths', async () => {
    const r = rng(77);
    const signals = [randint(1, 1024, r), randint(2048, 12288, r), randint(1, 8192, r)].map((n) => Float32Array.from(randn(n, r)));
    const g = gpu();
    const { power, magnitude } = await withVariant(g, FFT_FAMILY, '2048', 'wg256', () => gpuMagnitude(g, signals, 2048, 512));
    const ref = refMagnitude(signals, 2048, 512);
    expectClose(magnitude, ref, 1e-5, 'magnitude');
    expectClose(power, ref.map((v) => v * v), 1e-5, 'power');
    expect(g.pipelines.has('stft:2048:512:true:256')).toBe(true);
  });
});

describe('STFT matches librosa 0.11 frames 0..3 (rel L2 < 1e-5)', () => {
  for (const name of clipNames) {
    it(name, async () => {
      const golden = goldenClip(name);
      const y = await trimmedSignal(name);
      const { magnitude, frames } = await gpuMagnitude(gpu(), [y], 2048, 512);
      expect(frames[0]).toBe(golden.stft_mag.full_shape[1]);
      const want = flatten(golden.stft_mag.data); // [1025][4]
      const got = new Float64Array(want.length);
      for (let k = 0; k < 1025; k++) for (let t = 0; t < 4; t++) got[k * 4 + t] = magnitude[t * 1025 + k]!;
      expectClose(got, want, 1e-5, `${name} |STFT|`);
    });
  }
});

// The GPU features of a recording computed while it grows (src/dsp/gpu-stream.ts) against the
// whole-clip extractor on the same trimmed clip, on a NaN-poisoned runtime (a row the stream forgets
// to fill fails): recordings pushed in chunks at AudioContext rates, with silence before and after the
// sound (trimmed on both sides), sound from the first sample (trim start 0), sound to the last sample,
// a long tail of silence, a late louder burst (the trim moves after frames were computed), a
// recording barely long enough for features, and one longer than the store (the rest is computed at
// the end as a long tail).

import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/common/random';
import { featureConfig } from '../../src/dsp/config';
import { GpuFeatureExtractor } from '../../src/dsp/gpu-features';
import { StreamingGpuFeatures } from '../../src/dsp/gpu-stream';
import { StreamingPreparer } from '../../src/dsp/stream';
import { relL2, useGpu } from '../harness';

const gpu = useGpu();
const config = featureConfig();

interface Shape {
  rate: number;
  seconds: number;
  /** [from, to, amplitude] of voiced bursts, in fractions of the length. */
  bursts: [number, number, number][];
  chunk: number;
  /** Seconds the store is sized for (default: the recording's length + 1). */
  store?: number;
}

function recording(s: Shape, seed: number): Float32Array {
  const r = createRng(seed);
  const n = Math.round(s.rate * s.seconds);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / s.rate;
    const f0 = 110 + 60 * Math.sin(2 * Math.PI * 0.9 * t);
    const voiced = Math.sin(2 * Math.PI * f0 * t) + 0.5 * Math.sin(4 * Math.PI * f0 * t) + 0.2 * Math.sin(6 * Math.PI * f0 * t);
    let env = 0;
    for (const [a, b, amp] of s.bursts) if (i >= a * n && i < b * n) env += amp;
    y[i] = env * voiced + 3e-4 * r.normal();
  }
  return y;
}

async function compare(s: Shape, seed: number) {
  const g = gpu();
  const extractor = new GpuFeatureExtractor(g, config);
  const stream = new StreamingGpuFeatures(g, extractor, s.store ?? s.seconds + 1);
  const prep = new StreamingPreparer(s.rate, config);
  const y = recording(s, seed);
  for (let at = 0; at < y.length; at += s.chunk) {
    prep.push(y.subarray(at, at + s.chunk));
    stream.advance(prep.emphasised, prep.emphasised.length);
  }
  const span = prep.finishSpan();
  const got = await stream.finish(span.emphasised, span.start, span.end);
  const want = await extractor.extract([span.signal]);
  stream.dispose();
  extractor.dispose();
  let differing = 0;
  for (let i = 0; i < want.features.length; i++) if (!Object.is(got.features[i], want.features[i])) differing++;
  return { got, want, span, path: stream.lastPath, differing };
}

describe('StreamingGpuFeatures gives the whole-clip GPU features of the trimmed recording', () => {
  it.each<[string, Shape]>([
    ['silence on both sides, 48 kHz', { rate: 48000, seconds: 4, bursts: [[0.2, 0.7, 0.5]], chunk: 128 }],
    ['sound from the first sample (trim start 0), 44.1 kHz', { rate: 44100, seconds: 3, bursts: [[0, 0.6, 0.5]], chunk: 4096 }],
    ['sound to the last sample, 22.05 kHz', { rate: 22050, seconds: 2.5, bursts: [[0.3, 1, 0.4]], chunk: 1000 }],
    ['a late louder burst and a long silent tail, 48 kHz', { rate: 48000, seconds: 9, bursts: [[0.05, 0.2, 0.05], [0.45, 0.55, 0.8]], chunk: 128 }],
    ['0.3 s, barely enough sound for the deltas, 44.1 kHz', { rate: 44100, seconds: 0.3, bursts: [[0.1, 0.9, 0.5]], chunk: 128 }],
    ['longer than the store, 16 kHz', { rate: 16000, seconds: 3, bursts: [[0.1, 0.9, 0.5]], chunk: 512, store: 1 }],
  ])('%s', async (_, shape) => {
    const { got, want, span, path, differing } = await compare(shape, shape.rate + shape.chunk);
    expect(path).toBe('stream');
    expect(got.frames).toBe(want.frames[0]);
    expect(got.features.length).toBe(82 * config.frames);
    expect(got.features.every(Number.isFinite)).toBe(true);
    console.log(`[gpu-stream] trim [${span.start}, ${span.end}) of ${span.emphasised.length}, ${got.frames} frames: ${differing} of ${got.features.length} values differ, relative L2 ${relL2(got.features, want.features).toExponential(2)}`);
    expect(relL2(got.features, want.features)).toBeLessThanOrEqual(1e-7);
  });

});

// The streaming preparation of a microphone recording (src/dsp/stream.ts) against the whole-clip
// path (prepareClip): the same samples pushed in chunks of every awkward size, at the rates an
// AudioContext runs at, must give bit-identical prepared signals, including where the loudest part
// (and so the trim) arrives late, and the same refusals for silent and too short recordings.

import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/common/random';
import { defaultFeatureConfig } from '../../src/dsp/config';
import { FeatureError, prepareClip } from '../../src/dsp/pipeline';
import { StreamingPreparer } from '../../src/dsp/stream';

const config = { ...defaultFeatureConfig };

/** Quiet noise, a voiced burst, a pause, a louder burst late, quiet noise: trimming has work to do. */
function recording(rate: number, seconds: number, seed: number): Float32Array {
  const r = createRng(seed);
  const n = Math.round(rate * seconds);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const f0 = 120 + 40 * Math.sin(2 * Math.PI * 0.7 * t);
    const voiced = Math.sin(2 * Math.PI * f0 * t) + 0.4 * Math.sin(4 * Math.PI * f0 * t);
    const env = (t > 0.3 * seconds && t < 0.5 * seconds ? 0.1 : 0) + (t > 0.62 * seconds && t < 0.85 * seconds ? 0.6 : 0);
    y[i] = env * voiced + 1e-4 * r.normal();
  }
  return y;
}

function pushInChunks(p: StreamingPreparer, y: Float32Array, sizes: number[]): void {
  for (let at = 0, k = 0; at < y.length; k++) {
    const size = sizes[k % sizes.length]!;
    p.push(y.subarray(at, Math.min(y.length, at + size)));
    at += size;
  }
}

function expectBitIdentical(got: Float32Array, want: Float32Array): void {
  expect(got.length).toBe(want.length);
  let firstDiff = -1;
  for (let i = 0; i < want.length && firstDiff < 0; i++) if (!Object.is(got[i], want[i])) firstDiff = i;
  expect(firstDiff, `first differing sample ${firstDiff}: ${got[firstDiff]} vs ${want[firstDiff]}`).toBe(-1);
}

describe('StreamingPreparer gives exactly prepareClip of the whole recording', () => {
  it.each([
    [44100, 2.3, [128]],
    [48000, 3.1, [128, 1, 4096, 77]],
    [22050, 1.7, [511, 513, 2]],
    [16000, 2.05, [1000, 3]],
    [96000, 1.2, [128, 300]],
  ])('%i Hz, %f s in chunks of %j samples', (rate, seconds, sizes) => {
    const y = recording(rate, seconds, rate + sizes.length);
    const want = prepareClip('r', { samples: y, sampleRate: rate, channels: 1, durationS: seconds }, config);
    const p = new StreamingPreparer(rate, config, { expectSeconds: 0.5 });
    pushInChunks(p, y, sizes);
    expectBitIdentical(p.samples, y);
    expectBitIdentical(p.finish('r'), want);
    // finish twice gives the same again
    expectBitIdentical(p.finish('r'), want);
    expect(() => p.push(new Float32Array(4))).toThrow(/after finish/);
  });

  it('a snapshot is the trimmed span of the audio so far, and null without sound', () => {
    const rate = 48000;
    const y = recording(rate, 3, 9);
    const p = new StreamingPreparer(rate, config);
    expect(p.snapshotSpan()).toBeNull();
    p.push(new Float32Array(rate));
    expect(p.snapshotSpan()).toBeNull();
    pushInChunks(p, y.subarray(0, 2 * rate), [128]);
    const snap = p.snapshotSpan()!;
    expect(snap).not.toBeNull();
    expectBitIdentical(snap.signal, snap.emphasised.subarray(snap.start, snap.end));
    expect(snap.start % config.hop).toBe(0);
    pushInChunks(p, y.subarray(2 * rate), [128]);
    const whole = p.finishSpan();
    // The sound started before the snapshot and went on after it.
    expect(whole.start).toBe(snap.start);
    expect(whole.end).toBeGreaterThan(snap.end);
    expectBitIdentical(whole.emphasised.subarray(0, snap.emphasised.length), snap.emphasised);
  });

  it('refuses an all-silent and a too short recording as prepareClip does', () => {
    const silent = new StreamingPreparer(44100, config);
    silent.push(new Float32Array(44100));
    expect(() => silent.finish('mic')).toThrow(FeatureError);
    expect(() => silent.finish('mic')).toThrow(/mic: all-silent audio/);
    const short = new StreamingPreparer(44100, config);
    short.push(recording(44100, 2, 1).subarray(0, 2000));
    expect(() => short.finish('mic')).toThrow(/mic: audio too short/);
    const empty = new StreamingPreparer(44100, config);
    expect(() => empty.finish()).toThrow(/all-silent/);
  });
});

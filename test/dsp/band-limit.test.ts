// The band limit of the feature config (FeatureConfig.bandLimitHz, prepare.ts resampleRates): a clip
// recorded above twice the limit passes through twice the limit on its way to the feature rate, so
// no content above the limit reaches the features; clips at or below it are untouched; the streaming
// preparer (microphone) gives bit-identically what the whole-clip path gives, and configs without a
// limit prepare exactly as before.

import { describe, expect, it } from 'vitest';
import { defaultFeatureConfig, featureConfig } from '../../src/dsp/config';
import { prepareClip } from '../../src/dsp/pipeline';
import { preemphasis } from '../../src/dsp/preemphasis';
import { prepareSignal, resampleRates } from '../../src/dsp/prepare';
import { resample } from '../../src/dsp/resample';
import { StreamingPreparer } from '../../src/dsp/stream';

const limited = featureConfig({ bandLimitHz: 8000 });

/** Two tones, one below the 8 kHz limit and one above it, with a quiet lead-in. */
function tones(rate: number, seconds: number, low = 440, high = 9500): Float32Array {
  const y = new Float32Array(Math.round(rate * seconds));
  for (let i = 0; i < y.length; i++) {
    const t = i / rate;
    const env = t > 0.2 ? 0.4 : 0.001;
    y[i] = env * (Math.sin(2 * Math.PI * low * t) + Math.sin(2 * Math.PI * high * t));
  }
  return y;
}

/** Power of `x` at frequency f (rate Hz): |DFT at f|^2 / n^2, by direct summation. */
function powerAt(x: Float32Array, rate: number, f: number): number {
  let re = 0;
  let im = 0;
  for (let i = 0; i < x.length; i++) {
    re += x[i]! * Math.cos((2 * Math.PI * f * i) / rate);
    im -= x[i]! * Math.sin((2 * Math.PI * f * i) / rate);
  }
  return (re * re + im * im) / (x.length * x.length);
}

describe('resampleRates', () => {
  it('inserts twice the limit only when the input is above it', () => {
    expect(resampleRates(48000, limited)).toEqual([48000, 16000, 22050]);
    expect(resampleRates(22050, limited)).toEqual([22050, 16000, 22050]);
    expect(resampleRates(16000, limited)).toEqual([16000, 22050]);
    expect(resampleRates(8000, limited)).toEqual([8000, 22050]);
    expect(resampleRates(22050, defaultFeatureConfig)).toEqual([22050]);
    expect(resampleRates(44100, defaultFeatureConfig)).toEqual([44100, 22050]);
  });

  it('refuses limits that cannot be met', () => {
    expect(() => resampleRates(48000, featureConfig({ bandLimitHz: 12000 }))).toThrow(/at most half the feature rate/);
    expect(() => resampleRates(48000, featureConfig({ bandLimitHz: 0 }))).toThrow(/positive/);
    expect(() => resampleRates(48000, featureConfig({ bandLimitHz: 1000.25 }))).toThrow(/integer/);
  });
});

describe('prepareSignal with a band limit', () => {
  it('removes content above the limit and keeps what is below', () => {
    const rate = 22050;
    const y = tones(rate, 0.6);
    const plain = prepareSignal(y, rate, featureConfig({ preEmphasis: 0, topDb: 200 })).samples;
    const cut = prepareSignal(y, rate, featureConfig({ preEmphasis: 0, topDb: 200, bandLimitHz: 8000 })).samples;
    expect(cut.length).toBe(plain.length);
    const high = [powerAt(plain, rate, 9500), powerAt(cut, rate, 9500)];
    const low = [powerAt(plain, rate, 440), powerAt(cut, rate, 440)];
    expect(high[0]).toBeGreaterThan(0.01);
    expect(high[1]! / high[0]!).toBeLessThan(1e-4); // at least 40 dB down
    expect(Math.abs(low[1]! / low[0]! - 1)).toBeLessThan(0.01);
  });

  it('makes a 48 kHz recording and its 16 kHz copy prepare alike', () => {
    const y48 = tones(48000, 0.8, 300, 10000);
    const y16 = resample(y48, 48000, 16000);
    const a = prepareSignal(y48, 48000, limited).samples;
    const b = prepareSignal(y16, 16000, limited).samples;
    expect(a.length).toBe(b.length);
    let num = 0;
    let den = 0;
    for (let i = 0; i < a.length; i++) { num += (a[i]! - b[i]!) ** 2; den += b[i]! ** 2; }
    expect(Math.sqrt(num / den)).toBeLessThan(1e-6);
    // without the limit the 48 kHz recording keeps its 10 kHz tone
    const full = prepareSignal(y48, 48000, featureConfig({ preEmphasis: 0, topDb: 200 })).samples;
    expect(powerAt(full, 22050, 10000)).toBeGreaterThan(0.01);
    expect(powerAt(a, 22050, 10000)).toBeLessThan(1e-6);
  });

  it('leaves a config without a limit exactly as before', () => {
    const y = tones(44100, 0.5);
    const want = preemphasis(resample(y, 44100, 22050), defaultFeatureConfig.preEmphasis);
    expect(Array.from(prepareSignal(y, 44100, featureConfig({ topDb: 200 })).samples)).toEqual(Array.from(want));
  });
});

describe('StreamingPreparer with a band limit', () => {
  it.each([
    [48000, [128, 4096, 77]],
    [44100, [128]],
    [22050, [511, 2]],
    [16000, [1000, 3]],
  ])('%i Hz in chunks of %j: bit-identical to the whole clip', (rate, sizes) => {
    const y = tones(rate, 1.3);
    const want = prepareClip('r', { samples: y, sampleRate: rate, channels: 1, durationS: 1.3 }, limited);
    const p = new StreamingPreparer(rate, limited, { expectSeconds: 0.3 });
    for (let at = 0, k = 0; at < y.length; k++) {
      const size = sizes[k % sizes.length]!;
      p.push(y.subarray(at, Math.min(y.length, at + size)));
      at += size;
    }
    const got = p.finish('r');
    expect(got.length).toBe(want.length);
    let diff = -1;
    for (let i = 0; i < want.length && diff < 0; i++) if (!Object.is(got[i], want[i])) diff = i;
    expect(diff).toBe(-1);
  });
});

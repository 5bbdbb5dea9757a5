// Per-clip normalisation of the feature rows (src/dsp/clip-norm.ts, FeatureConfig.clipNorm) against a
// float64 reference on random blocks with padding, and its place in the pipeline: featuresOfFiles
// applies it to computed and cached clips alike, from one cache entry for every setting, and a
// constant channel gain (a fixed filter: a constant added to each MFCC row) no longer changes the
// 'cms' features of a clip.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/common/random';
import { clipNormalised } from '../../src/dsp/clip-norm';
import { featureConfig } from '../../src/dsp/config';
import { featuresOfFiles } from '../../src/dsp/files.node.ts';
import { FeaturePipeline, ReferenceExtractor } from '../../src/dsp/pipeline';
import { relL2 } from '../harness';

const S = 40;
const ROWS = 82;

/** float64 reference: rows [0, upTo) of the first T frames centred (and scaled when `scale`), the rest copied. */
function reference(x: Float32Array, T: number, upTo: number, scale: boolean): Float64Array {
  const out = Float64Array.from(x);
  for (let r = 0; r < upTo; r++) {
    let m = 0;
    for (let t = 0; t < T; t++) m += x[r * S + t]!;
    m /= T;
    let sd = 1;
    if (scale) {
      let v = 0;
      for (let t = 0; t < T; t++) v += (x[r * S + t]! - m) ** 2;
      sd = Math.sqrt(v / T);
    }
    for (let t = 0; t < T; t++) out[r * S + t] = (x[r * S + t]! - m) / sd;
  }
  return out;
}

function block(seed: number, T: number): Float32Array {
  const rng = createRng(seed);
  const x = new Float32Array(ROWS * S);
  for (let r = 0; r < ROWS; r++) for (let t = 0; t < T; t++) x[r * S + t] = 3 * r + 5 * rng.normal();
  return x;
}

describe('clipNormalised', () => {
  const config = { frames: S, nMfcc: 20 };
  it.each([[40, 1], [23, 2], [9, 3], [64, 4]])('cms and cmvn match the float64 reference (%i frames before padding)', (length, seed) => {
    const T = Math.min(length, S);
    const x = block(seed, T);
    const cms = clipNormalised(x, length, { ...config, clipNorm: 'cms' });
    expect(relL2(cms, reference(x, T, 20, false))).toBeLessThan(1e-6);
    const cmvn = clipNormalised(x, length, { ...config, clipNorm: 'cmvn' });
    expect(relL2(cmvn, reference(x, T, ROWS, true))).toBeLessThan(1e-6);
    // padding stays 0; rows past the MFCCs are untouched by cms
    for (let t = T; t < S; t++) expect(cmvn[30 * S + t]).toBe(0);
    expect(Array.from(cms.subarray(20 * S))).toEqual(Array.from(x.subarray(20 * S)));
    expect(cms).not.toBe(x); // a new array: the input (a cache entry) is never changed
  });

  it('returns the input when the config asks for nothing, and refuses an unknown kind', () => {
    const x = block(5, S);
    expect(clipNormalised(x, S, config)).toBe(x);
    expect(() => clipNormalised(x, S, { ...config, clipNorm: 'loud' as never })).toThrow(/expected one of cms, cmvn/);
  });

  it('cms cancels a constant added to every MFCC frame (a fixed channel response)', () => {
    const x = block(6, S);
    const y = x.slice();
    for (let r = 0; r < 20; r++) for (let t = 0; t < S; t++) y[r * S + t]! += 7 - r;
    const a = clipNormalised(x, S, { ...config, clipNorm: 'cms' });
    const b = clipNormalised(y, S, { ...config, clipNorm: 'cms' });
    expect(relL2(b, a)).toBeLessThan(1e-6);
    expect(relL2(y, x)).toBeGreaterThan(0.01);
  });
});

describe('featuresOfFiles with clipNorm', () => {
  const speech = join(__dirname, '../fixtures/librosa/audio/speech_a_m3_22050_mono.wav');
  it('normalises computed and cached clips alike, from one cache entry for every setting', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'ser-clipnorm-'));
    const plainConfig = featureConfig();
    const plain = await featuresOfFiles(new FeaturePipeline(plainConfig, new ReferenceExtractor(plainConfig)), [speech], { cacheDir });
    const cmsConfig = featureConfig({ clipNorm: 'cms' });
    const cms = await featuresOfFiles(new FeaturePipeline(cmsConfig, new ReferenceExtractor(cmsConfig)), [speech], { cacheDir });
    expect(cms.cacheHits).toBe(1);
    const c = plain.clips[0]!;
    const want = clipNormalised(c.features, c.frames, cmsConfig);
    expect(Array.from(cms.clips[0]!.features)).toEqual(Array.from(want));
    expect(relL2(cms.clips[0]!.features, c.features)).toBeGreaterThan(0.01);
    const again = await featuresOfFiles(new FeaturePipeline(plainConfig, new ReferenceExtractor(plainConfig)), [speech], { cacheDir });
    expect(Array.from(again.clips[0]!.features)).toEqual(Array.from(c.features));
  });
});

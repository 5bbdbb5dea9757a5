// The feature pipeline over files: a batch with every kind of bad input still yields the good files'
// features and one reason per bad file; the on-disk cache returns identical features, keyed by content
// and config; `ser features --json` prints the documented object.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { featureConfig } from '../../src/dsp/config';
import { featuresOfFiles } from '../../src/dsp/files.node.ts';
import { FeaturePipeline, ReferenceExtractor } from '../../src/dsp/pipeline';
import { writeWav } from '../../src/dsp/wav';
import { relL2 } from '../harness';

const FIX = join(__dirname, '../fixtures/librosa/audio');
const speech = join(FIX, 'speech_a_m3_22050_mono.wav');
const tone = join(FIX, 'tone_440_880_22050.wav');

function badFiles(dir: string): Record<string, string> {
  const write = (name: string, bytes: Uint8Array | string) => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };
  const good = readFileSync(tone);
  const nan = new Float32Array(8000).fill(0.1);
  nan[100] = NaN;
  return {
    missing: join(dir, 'missing.wav'),
    empty: write('empty.wav', new Uint8Array(0)),
    truncated: write('truncated.wav', good.subarray(0, 20)),
    notAudio: write('notes.wav', 'these are not the samples you are looking for'),
    zeroSamples: write('zero.wav', writeWav([new Float32Array(0)], 22050)),
    silent: write('silent.wav', writeWav([new Float32Array(22050)], 22050)),
    short: write('short.wav', writeWav([Float32Array.from({ length: 1500 }, (_, i) => Math.sin(i / 5) * 0.5)], 22050)),
    nan: write('nan.wav', writeWav([nan], 22050, 'float32')),
    absurdRate: write('rate.wav', writeWav([new Float32Array(4000).fill(0.2)], 500)),
  };
}

describe('features of files', () => {
  const config = featureConfig();
  const pipeline = new FeaturePipeline(config, new ReferenceExtractor(config));

  it('skip every bad file with a one-line reason and still process the good ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ser-bad-'));
    const bad = badFiles(dir);
    const paths = [speech, ...Object.values(bad), tone];
    const { clips, skipped } = await featuresOfFiles(pipeline, paths);
    expect(clips[0]?.name).toBe(speech);
    expect(clips[paths.length - 1]?.name).toBe(tone);
    expect(clips.filter(Boolean)).toHaveLength(2);
    const reason = (p: string) => skipped.find((s) => s.name === p)?.reason ?? '(not skipped)';
    expect(reason(bad.missing)).toMatch(/file not found/);
    expect(reason(bad.empty)).toMatch(/empty/);
    expect(reason(bad.truncated)).toMatch(/truncated|header|not audio/);
    expect(reason(bad.notAudio)).toMatch(/not audio|unsupported/);
    expect(reason(bad.zeroSamples)).toMatch(/no samples|zero samples/);
    expect(reason(bad.silent)).toMatch(/all-silent/);
    expect(reason(bad.short)).toMatch(/too short: \d+ ms .* at least 186 ms/);
    expect(reason(bad.nan)).toMatch(/NaN|non-finite/);
    expect(reason(bad.absurdRate)).toMatch(/sample rate/);
    for (const s of skipped) expect(s.reason).not.toMatch(/\n/);
  });

  it('from a file match librosa\'s 82-row stack (features82 fixture)', async () => {
    const { clips } = await featuresOfFiles(pipeline, [speech]);
    const golden = JSON.parse(readFileSync(join(FIX, '../golden/speech_a_m3_22050_mono.json'), 'utf8'));
    const want = (golden.features82.data as number[][]).flat();
    const got = clips[0]!.features;
    expect(clips[0]!.frames).toBe(golden.features82_unpadded_frames);
    // MFCC rows 0..19 at the MFCC tolerance; the whole stack at the looser contrast tolerance.
    expect(relL2(got.subarray(0, 20 * 64), want.slice(0, 20 * 64))).toBeLessThan(1e-4);
    expect(relL2(got, want)).toBeLessThan(1e-3);
  });

  it('come back identical from the cache, keyed by file content and config', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'ser-cache-'));
    const first = await featuresOfFiles(pipeline, [speech, tone], { cacheDir });
    expect(first.cacheHits).toBe(0);
    expect(readdirSync(cacheDir)).toHaveLength(2);
    const second = await featuresOfFiles(pipeline, [speech, tone], { cacheDir });
    expect(second.cacheHits).toBe(2);
    expect(second.clips[0]!.features).toEqual(first.clips[0]!.features);
    expect(second.clips[1]!.frames).toBe(first.clips[1]!.frames);
    // A copy under another name hits; another config misses.
    const copy = join(cacheDir, 'renamed.wav');
    writeFileSync(copy, readFileSync(tone));
    expect((await featuresOfFiles(pipeline, [copy], { cacheDir })).cacheHits).toBe(1);
    const other = new FeaturePipeline(featureConfig({ tuning: 0 }), new ReferenceExtractor(featureConfig({ tuning: 0 })));
    expect((await featuresOfFiles(other, [tone], { cacheDir })).cacheHits).toBe(0);
  });

  it('recompute a corrupted cache entry instead of trusting it', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'ser-cache-'));
    const first = await featuresOfFiles(pipeline, [tone], { cacheDir });
    const entry = join(cacheDir, readdirSync(cacheDir)[0]!);
    writeFileSync(entry, readFileSync(entry).subarray(0, 100));
    const again = await featuresOfFiles(pipeline, [tone], { cacheDir });
    expect(again.cacheHits).toBe(0);
    expect(again.clips[0]!.features).toEqual(first.clips[0]!.features);
  });
});

describe('ser features', () => {
  it('--json prints {file, sampleRate, frames, rows, features} per file; --no-pad keeps the real frames', () => {
    const bin = join(__dirname, '../../bin/ser.mjs');
    const out = execFileSync(process.execPath, [bin, 'features', '--json', tone], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const obj = JSON.parse(out.trim());
    expect(Object.keys(obj)).toEqual(['file', 'sampleRate', 'frames', 'rows', 'features']);
    expect(obj.sampleRate).toBe(22050);
    expect(obj.frames).toBe(44);
    expect(obj.rows).toHaveLength(82);
    expect(obj.rows[72]).toBe('zcr');
    expect(obj.features).toHaveLength(82);
    expect(obj.features[0]).toHaveLength(64);
    expect(obj.features[0].slice(44).every((v: number) => v === 0)).toBe(true);
    const unpadded = JSON.parse(execFileSync(process.execPath, [bin, 'features', '--json', '--no-pad', '--frames', '50', tone], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    expect(unpadded.features[5]).toHaveLength(44);
  });
});

// Feature masks for training (`ser train --time-masks K:T --row-masks K:F`): the spans are a pure
// function of seed, epoch and example, inside the map and no wider than asked; applyMasks zeroes exactly
// the drawn bands; bad settings fail clearly (library and CLI); a tiny run with masks trains on other
// inputs than one without (its losses differ), records the masks in model.json and the report, and a
// checkpoint with other masks is not resumed.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { featureConfig } from '../../src/dsp/config';
import { GpuFeatureExtractor } from '../../src/dsp/gpu-features';
import type { Emotion } from '../../src/train/data/labels';
import { applyMasks, checkMasks, drawSpans, type MaskSettings } from '../../src/train/loop/masks';
import { writeReport } from '../../src/train/protocols/report.node.ts';
import { trainRun, type TrainRunOptions } from '../../src/train/protocols/run.node.ts';
import { synthCorpus } from '../../src/train/data/synth';
import { writeSynthCorpus } from '../../src/train/data/synth.node.ts';
import { useGpu } from '../harness';
import { tinyRunOptions } from './tiny-run';

const gpu = useGpu();
const BIN = join(__dirname, '../../bin/ser.mjs');
const M: MaskSettings = { time: [2, 10], rows: [3, 8] };

describe('mask spans', () => {
  it('stay inside the map, are at most as wide as asked, repeat for the same seed and epoch, and change otherwise', () => {
    const ids = Array.from({ length: 200 }, (_, i) => i);
    const s = drawSpans(ids, M, 82, 64, 3, 5);
    expect(s).toHaveLength(200 * 10);
    const widths = { time: new Set<number>(), rows: new Set<number>() };
    for (let b = 0; b < 200; b++) {
      for (let k = 0; k < 5; k++) {
        const [start, end] = [s[b * 10 + 2 * k]!, s[b * 10 + 2 * k + 1]!];
        const [size, max, set] = k < 2 ? [64, 10, widths.time] : [82, 8, widths.rows];
        expect(end).toBeGreaterThanOrEqual(start);
        expect(end).toBeLessThanOrEqual(size);
        expect(end - start).toBeLessThanOrEqual(max);
        set.add(end - start);
      }
    }
    // Every width from 0 to the maximum occurs over 400 / 600 draws.
    expect(widths.time.size).toBe(11);
    expect(widths.rows.size).toBe(9);
    expect(drawSpans(ids, M, 82, 64, 3, 5)).toEqual(s);
    expect(drawSpans(ids, M, 82, 64, 3, 6)).not.toEqual(s);
    expect(drawSpans(ids, M, 82, 64, 4, 5)).not.toEqual(s);
    // An example's spans do not depend on its place in the batch.
    expect(drawSpans([7], M, 82, 64, 3, 5)).toEqual(s.subarray(70, 80));
  });

  it('applyMasks zeroes exactly the drawn bands of each example', async () => {
    const g = gpu();
    const [B, H, W] = [6, 20, 16];
    const m: MaskSettings = { time: [1, 5], rows: [1, 6] };
    const ids = [4, 9, 1, 0, 33, 2];
    const x = await applyMasks(g, g.upload(new Float32Array(B * H * W).fill(1), [B, H, W, 1]), ids, m, 1, 2).read();
    const s = drawSpans(ids, m, H, W, 1, 2);
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
      const inBand = (w >= s[b * 4]! && w < s[b * 4 + 1]!) || (h >= s[b * 4 + 2]! && h < s[b * 4 + 3]!);
      expect(x[(b * H + h) * W + w]).toBe(inBand ? 0 : 1);
    }
  });

  it('refuses settings that cannot work', () => {
    expect(() => checkMasks({ time: [5, 4], rows: [0, 0] }, 82, 64)).toThrow(/time mask count must be a whole number in 0..4, got 5/);
    expect(() => checkMasks({ time: [1, 64], rows: [0, 0] }, 82, 64)).toThrow(/time masks must be 1..63 frames wide \(the map has 64\), got 64/);
    expect(() => checkMasks({ time: [0, 0], rows: [1, 0] }, 82, 64)).toThrow(/row masks must be 1..81 rows wide/);
    expect(() => checkMasks({ time: [0, 0], rows: [0, 0] }, 82, 64)).toThrow(/at least one mask/);
    expect(() => checkMasks(M, 82, 64)).not.toThrow();
  });
});

describe('ser train with feature masks on a tiny config', () => {
  const CLASSES: Emotion[] = ['neutral', 'happy', 'sad', 'angry'];
  const data = mkdtempSync(join(tmpdir(), 'ser-mask-data-'));
  writeSynthCorpus(data, synthCorpus({ speakers: 3, clipsPerClassPerSpeaker: 2, seed: 8, classes: CLASSES }), { layout: 'ravdess' });
  const extractor = (c: ReturnType<typeof featureConfig>) => new GpuFeatureExtractor(gpu(), c);
  const options = (out: string, masks?: MaskSettings, extra: Partial<TrainRunOptions> = {}): TrainRunOptions =>
    tinyRunOptions(data, out, { ...extra, loop: { masks } });

  it('trains on masked inputs, records the masks, and does not resume with other masks', async () => {
    const plain = await trainRun(gpu(), extractor, options(mkdtempSync(join(tmpdir(), 'ser-mask-a-'))));
    const out = mkdtempSync(join(tmpdir(), 'ser-mask-b-'));
    const masked = await trainRun(gpu(), extractor, options(out, { time: [2, 4], rows: [2, 10] }));
    expect(masked.state.history).toHaveLength(2);
    expect(masked.state.history[0]!.trainLoss).not.toBe(plain.state.history[0]!.trainLoss);
    const meta = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    expect(meta.masks).toEqual({ time: [2, 4], rows: [2, 10] });
    await writeReport(masked);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/Feature masks: every training example, each epoch: up to 2 bands of up to 4 frames and up to 2 bands of up to 10 feature rows/);
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).masks).toEqual({ time: [2, 4], rows: [2, 10] });
    await expect(trainRun(gpu(), extractor, options(out, { time: [1, 4], rows: [2, 10] }, { resume: true }))).rejects.toThrow(/other feature masks/);
    await expect(trainRun(gpu(), extractor, options(out, undefined, { resume: true }))).rejects.toThrow(/other feature masks/);
    // A band as wide as the 16-frame input is refused before training.
    await expect(trainRun(gpu(), extractor, options(mkdtempSync(join(tmpdir(), 'ser-mask-c-')), { time: [1, 16], rows: [0, 0] }))).rejects.toThrow(/time masks must be 1..15 frames wide/);
  });

  it('the CLI refuses malformed mask flags', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [BIN, 'train', ...args], { encoding: 'utf8' });
    for (const [flag, value] of [['--time-masks', '2'], ['--time-masks', '5:8'], ['--row-masks', '1:0'], ['--row-masks', '1.5:4'], ['--time-masks', '2:40']]) {
      const r = run(flag!, value!);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(new RegExp(`${flag}.*expected count:width with whole numbers, count 0..4 and width 1..32, got '${value!.replace('.', '\\.')}'`));
    }
  });
});

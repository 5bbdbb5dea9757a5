// The shipped speaker-normalised RAVDESS model, models/ravdess-8-speaker-norm/ (`ser predict
// --one-speaker` without --model uses models/general-speaker-norm: shipped-general-speaker-norm.test.ts):
// its model card and split; it loads (weights
// checked against model.json's SHA-256) as a speaker-normalised model; and on the 11 clips of actor 01
// among test/fixtures/ravdess/ (held out from its training: its validation split holds them), normalised
// together as one speaker's clips, it predicts well above chance, the CLI agreeing with the library.
// Its recipe is checked against `npm run train:ravdess -- --variant speaker-norm` in shipped-model.test.ts.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHIPPED_RAVDESS_SPEAKER_NORM_MODEL as SHIPPED_SPEAKER_NORM_MODEL } from '../../src/cli/predict';
import { GpuFeatureExtractor } from '../../src/dsp/gpu-features';
import { predictFiles } from '../../src/train/inference/infer.node.ts';
import { loadModel } from '../../src/train/model-files/saved-model.node.ts';
import { useGpu } from '../harness';
import { BIN, fixtureClips, RAVDESS_CLASSES as CLASSES, ROOT, truth } from './ravdess-fixtures';

const gpu = useGpu();
// Actor 01's fixture clips: 11 clips of one speaker (the 7th field of a RAVDESS name), every emotion but neutral.
const files = fixtureClips('-01.flac');
// Chance is about 1.4 of 11; the model got 9 of 11 when it was shipped (run 33).
const MIN_CORRECT = 5;

describe('the shipped speaker-normalised RAVDESS model', () => {
  it('has its model card and split', () => {
    expect(SHIPPED_SPEAKER_NORM_MODEL).toBe(join(ROOT, 'models/ravdess-8-speaker-norm'));
    const card = readFileSync(join(SHIPPED_SPEAKER_NORM_MODEL, 'README.md'), 'utf8');
    expect(card).toMatch(/CC BY-NC-SA 4\.0/);
    expect(card).toMatch(/--one-speaker/);
    const split = JSON.parse(readFileSync(join(SHIPPED_SPEAKER_NORM_MODEL, 'split.json'), 'utf8'));
    expect(split.valFiles).toHaveLength(240);
    expect(files).toHaveLength(11);
    expect(new Set(files.map(truth)).size).toBe(7);
    for (const f of files) expect(split.valFiles).toContain(`Actor_01/${f.split('/').pop()}`);
  });

  it('predicts one speaker\'s held-out clips, normalised together, well above chance; the CLI agrees', async () => {
    const loaded = await loadModel(gpu(), SHIPPED_SPEAKER_NORM_MODEL);
    expect(loaded.meta.speakerNorm).toBe(true);
    expect(loaded.meta.classes).toEqual(CLASSES);
    const { predictions, skipped } = await predictFiles(gpu(), loaded, files, (c) => new GpuFeatureExtractor(gpu(), c), { speakers: files.map(() => 'actor 01') });
    loaded.model.dispose();
    expect(skipped).toEqual([]);
    const correct = predictions.filter((p) => p!.label === truth(p!.file)).length;
    expect(correct).toBeGreaterThanOrEqual(MIN_CORRECT);
    const run = spawnSync(process.execPath, [BIN, 'predict', '--model', SHIPPED_SPEAKER_NORM_MODEL, '--one-speaker', '--json', ...files], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/warning: \d+ clip/); // 11 clips are enough
    const cli = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(cli.map((p) => p.file)).toEqual(files);
    cli.forEach((p, i) => {
      expect(p.label).toBe(predictions[i]!.label);
      expect(p.probabilities[p.label]).toBeCloseTo(predictions[i]!.probabilities[p.label]!, 4);
    });
    // Without --one-speaker the model is refused: one clip alone cannot stand for its speaker.
    const alone = spawnSync(process.execPath, [BIN, 'predict', '--model', SHIPPED_SPEAKER_NORM_MODEL, files[0]!], { encoding: 'utf8' });
    expect(alone.status).not.toBe(0);
    expect(alone.stderr).toMatch(/trained with --speaker-norm: .*--one-speaker/);
  });
});

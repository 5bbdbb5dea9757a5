// The seed-protocol model shipped in models/ravdess-8/ (`ser predict --model models/ravdess-8`; the
// default model is models/general/, shipped-general.test.ts): it loads (weights checked against the SHA-256 in
// model.json), carries the RAVDESS classes and its 82 x 128 features read as 64-frame windows, and on 16 RAVDESS
// clips it never trained on (test/fixtures/ravdess/, two per emotion, from its validation split) it
// predicts well above chance (1/8); `ser predict --model` agrees with the library;
// and `npm run train:ravdess` trains the recipe its model.json records (as its `--variant speaker-norm`
// does models/ravdess-8-speaker-norm's; that model's behaviour: shipped-speaker-norm.test.ts).

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHIPPED_RAVDESS_MODEL as SHIPPED_MODEL, SHIPPED_RAVDESS_SPEAKER_NORM_MODEL } from '../../src/cli/predict';
import { scaledDropout } from '../../src/cli/train';
import { GpuFeatureExtractor } from '../../src/dsp/gpu-features';
import { predictFiles } from '../../src/train/inference/infer.node.ts';
import { loadModel } from '../../src/train/model-files/saved-model.node.ts';
import { withEvalWindows } from '../../src/train/model-files/saved-model';
import { useGpu } from '../harness';
import { BIN, correctAndAgreeing, fixtureClips, RAVDESS_CLASSES as CLASSES, ROOT, truth } from './ravdess-fixtures';

const gpu = useGpu();
const files = fixtureClips();
// Chance is 2 of 16; the model got 14 of 16 when it was shipped (run 37, seed 0; run 29's model before it got 12, run 8's 10).
const MIN_CORRECT = 6;

describe('the shipped RAVDESS model', () => {
  it('is in models/ravdess-8, with its model card, split and report', () => {
    expect(SHIPPED_MODEL).toBe(join(ROOT, 'models/ravdess-8'));
    const card = readFileSync(join(SHIPPED_MODEL, 'README.md'), 'utf8');
    expect(card).toMatch(/CC BY-NC-SA 4\.0/);
    const split = JSON.parse(readFileSync(join(SHIPPED_MODEL, 'split.json'), 'utf8'));
    expect(split.valFiles).toHaveLength(240);
    for (const f of files) expect(split.valFiles.some((v: string) => v.endsWith(f.split('/').pop()!))).toBe(true);
  });

  // Each shipped model is what its `npm run train:ravdess` variant trains: the script's flags are the ones model.json records.
  it.each([
    ['single-clip', 'ravdess-8', SHIPPED_MODEL],
    ['speaker-norm', 'ravdess-8-speaker-norm', SHIPPED_RAVDESS_SPEAKER_NORM_MODEL],
  ])('variant %s: the script\'s recipe is the one models/%s/model.json records', async (variant, name, dir) => {
    const script = '../../scripts/train-ravdess.mjs'; // a plain .mjs without types, imported untyped
    const { RECIPES, RECIPE } = (await import(script)) as { RECIPES: Record<string, readonly string[]>; RECIPE: readonly string[] };
    expect(RECIPE).toBe(RECIPES['single-clip']);
    const recipe = RECIPES[variant]!;
    const value = (flag: string) => recipe[recipe.indexOf(flag) + 1];
    expect(dir).toBe(join(ROOT, 'models', name));
    expect(value('--out')).toBe(`runs/${name}`);
    const meta = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(value('--patience')).toBe('0'); // no early stop: every epoch of --epochs runs
    expect(meta.history).toHaveLength(Number(value('--epochs')));
    expect(meta.seed).toBe(Number(value('--seed')));
    expect(meta.split).toEqual({ kind: 'stratified', seed: Number(value('--seed')), valFraction: 0.2 });
    expect(meta.modelConfig).toMatchObject(scaledDropout(Number(value('--dropout-scale'))));
    expect(meta.featureConfig.frames).toBe(Number(value('--clip-frames')));
    expect(meta.windows).toEqual({ frames: 64, evalWindows: 3 });
    expect(meta.training.logitAdjust === true).toBe(recipe.includes('--logit-adjust'));
    expect(meta.logitAdjustment !== undefined).toBe(recipe.includes('--logit-adjust'));
    expect(meta.speakerNorm === true).toBe(recipe.includes('--speaker-norm'));
    expect(meta.training.weightDecay ?? 0).toBe(recipe.includes('--weight-decay') ? Number(value('--weight-decay')) : 0);
    expect(meta.speakerNorm === true).toBe(variant === 'speaker-norm');
    for (const absent of ['augment', 'masks']) expect(meta[absent]).toBeNull();
  });

  it('the script takes --variant single-clip|speaker-norm and refuses others', async () => {
    const script = '../../scripts/train-ravdess.mjs';
    const { takeVariant } = (await import(script)) as { takeVariant: (a: string[]) => { variant: string; rest: string[] } };
    expect(takeVariant(['--data', 'd'])).toEqual({ variant: 'single-clip', rest: ['--data', 'd'] });
    expect(takeVariant(['--variant', 'speaker-norm', '--data', 'd'])).toEqual({ variant: 'speaker-norm', rest: ['--data', 'd'] });
    expect(takeVariant(['--data=d', '--variant=single-clip'])).toEqual({ variant: 'single-clip', rest: ['--data=d'] });
    expect(() => takeVariant(['--variant', 'best'])).toThrow(/one of single-clip, speaker-norm, got best/);
    expect(() => takeVariant(['--variant'])).toThrow(/got nothing/);
  });

  it('loads, and predicts held-out clips well above chance', async () => {
    const loaded = await loadModel(gpu(), SHIPPED_MODEL);
    expect(loaded.meta.classes).toEqual(CLASSES);
    // Trained on random 64-frame windows of 128 frames; predictions average 3 windows per clip.
    expect(loaded.meta.featureConfig.frames).toBe(128);
    expect(loaded.model.config.inputFrames).toBe(64);
    expect(loaded.meta.windows).toEqual({ frames: 64, evalWindows: 3 });
    expect(loaded.model.config.inputRows).toBe(82);
    const { predictions, skipped } = await predictFiles(gpu(), loaded, files, (c) => new GpuFeatureExtractor(gpu(), c));
    expect(skipped).toEqual([]);
    loaded.model.dispose();
    // The library's answers, and the CLI with --model agreeing on the first clip.
    expect(correctAndAgreeing(predictions, truth, ['--model', SHIPPED_MODEL])).toBeGreaterThanOrEqual(MIN_CORRECT);
  });

  it('--eval-windows averages another number of windows, in the library and the CLI alike', async () => {
    const loaded = await loadModel(gpu(), SHIPPED_MODEL);
    const one = withEvalWindows(loaded, 1);
    expect(one.meta.windows).toEqual({ frames: 64, evalWindows: 1 });
    expect(loaded.meta.windows!.evalWindows).toBe(3); // the loaded model itself is unchanged
    expect(() => withEvalWindows(loaded, 0)).toThrow(/whole number in 1..32, got 0/);
    expect(() => withEvalWindows({ ...loaded, meta: { ...loaded.meta, windows: null } }, 3)).toThrow(/only to a model trained on windows/);
    const [a, b] = await Promise.all([predictFiles(gpu(), loaded, files, (c) => new GpuFeatureExtractor(gpu(), c)), predictFiles(gpu(), one, files, (c) => new GpuFeatureExtractor(gpu(), c))]);
    // Clips longer than one window get other probabilities from one window than from three.
    const gap = a.predictions.map((p, i) => Math.max(...CLASSES.map((c) => Math.abs(p!.probabilities[c]! - b.predictions[i]!.probabilities[c]!))));
    const far = gap.indexOf(Math.max(...gap));
    expect(gap[far]).toBeGreaterThan(1e-3);
    const cli = JSON.parse(execFileSync(process.execPath, [BIN, 'predict', '--json', '--model', SHIPPED_MODEL, '--eval-windows', '1', files[far]!], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    for (const c of CLASSES) expect(cli.probabilities[c]).toBeCloseTo(b.predictions[far]!.probabilities[c]!, 4);
    loaded.model.dispose();
  });
});

// The default model shipped in models/general/ (RAVDESS actors 01–20 and CREMA-D, every clip
// band-limited to 8 kHz): `ser predict` without --model uses it and agrees with the library; its
// card states both licences; its model.json records the recipe of `npm run train:general`
// (scripts/train-general.ts), validation speakers included, and that script's manifest of both corpora; and on 20 clips of speakers it never
// trained on (test/fixtures/general/: 8 RAVDESS clips of actors 04, 14, 18 and the six emotions of
// CREMA-D actors 1001 and 1011) it predicts above chance.

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generalManifest, RECIPE, RECIPES, splitArgs, takeVariant, VAL_SPEAKERS } from '../../scripts/train-general';
import { SHIPPED_MODEL } from '../../src/cli/predict';
import { scaledDropout } from '../../src/cli/train';
import { GpuFeatureExtractor } from '../../src/dsp/gpu-features';
import { predictFiles } from '../../src/train/inference/infer.node.ts';
import { loadModel } from '../../src/train/model-files/saved-model.node.ts';
import { useGpu } from '../harness';
import { correctAndAgreeing, RAVDESS_CLASSES, ROOT, truth as ravdessTruth } from './ravdess-fixtures';

const gpu = useGpu();
const FIXTURES = join(__dirname, '../fixtures/general');
const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.flac')).sort().map((f) => join(FIXTURES, f));
const CREMA: Record<string, string> = { ANG: 'angry', DIS: 'disgust', FEA: 'fearful', HAP: 'happy', NEU: 'neutral', SAD: 'sad' };
const truth = (f: string) => (/_(\w{3})_XX\.flac$/.test(f) ? CREMA[/_(\w{3})_XX\.flac$/.exec(f)![1]!]! : ravdessTruth(f));
// Chance: 1/8 of the 8 RAVDESS clips, 1/6 of the 12 CREMA-D clips (3 of 20). MIN_CORRECT is set
// below what the shipped model scores (its card) and well above chance.
const MIN_CORRECT = 10;

describe('the shipped general model', () => {
  it('is where `ser predict` looks by default, with its model card and split', () => {
    expect(SHIPPED_MODEL).toBe(join(ROOT, 'models/general'));
    const card = readFileSync(join(SHIPPED_MODEL, 'README.md'), 'utf8');
    expect(card).toMatch(/CC BY-NC-SA 4\.0/);
    expect(card).toMatch(/Open Database License/);
    const split = JSON.parse(readFileSync(join(SHIPPED_MODEL, 'split.json'), 'utf8'));
    // A several-corpora split: each corpus's validation files relative to its own folder.
    expect(split.corpora.map((c: { name: string }) => c.name)).toEqual(['ravdess', 'crema-d']);
    const valFiles = split.corpora.flatMap((c: { valFiles: string[] }) => c.valFiles) as string[];
    expect(valFiles).toHaveLength(600);
    for (const f of files) expect(valFiles.some((v) => v.endsWith(f.split('/').pop()!))).toBe(true);
  });

  it("the recipe of `npm run train:general` is the one model.json records", async () => {
    const value = (flag: string) => RECIPE[RECIPE.indexOf(flag) + 1];
    const meta = JSON.parse(readFileSync(join(SHIPPED_MODEL, 'model.json'), 'utf8'));
    expect(value('--patience')).toBe('0');
    expect(meta.history).toHaveLength(Number(value('--epochs')));
    expect(meta.seed).toBe(Number(value('--seed')));
    expect(meta.split.kind).toBe('speaker');
    expect([...meta.split.valSpeakers].sort()).toEqual([...VAL_SPEAKERS].sort());
    expect(value('--val-speakers')).toBe(VAL_SPEAKERS.join(','));
    expect(meta.modelConfig).toMatchObject(scaledDropout(Number(value('--dropout-scale'))));
    expect(meta.training.weightDecay).toBe(Number(value('--weight-decay')));
    expect(meta.featureConfig.bandLimitHz).toBe(Number(value('--band-limit')));
    expect(meta.classes).toEqual(RAVDESS_CLASSES);
    expect(meta.logitAdjustment).toBeUndefined();
  });

  it("the recipe's manifest lists RAVDESS then CREMA-D, each sorted, with corpus-named speakers", () => {
    const root = mkdtempSync(join(tmpdir(), 'ser-general-'));
    const touch = (rel: string) => { mkdirSync(dirname(join(root, rel)), { recursive: true }); writeFileSync(join(root, rel), ''); };
    touch('crema/1002_DFA_SAD_XX.flac');
    touch('crema/1001_IEO_HAP_HI.flac');
    touch('rav/Actor_02/03-01-05-01-01-01-02.flac');
    touch('rav/Actor_01/03-01-02-01-01-01-01.flac');
    // Given in either order, named by NAME=: RAVDESS rows first, each corpus in sorted file order.
    const { data, rest } = splitArgs(['--data', `crema-d=${root}/crema`, '--epochs', '3', `--data=ravdess=${root}/rav`]);
    expect(rest).toEqual(['--epochs', '3']);
    expect(generalManifest(data).split('\n')).toEqual([
      'path,label,speaker',
      `${root}/rav/Actor_01/03-01-02-01-01-01-01.flac,calm,ravdess/Actor_01`,
      `${root}/rav/Actor_02/03-01-05-01-01-01-02.flac,angry,ravdess/Actor_02`,
      `${root}/crema/1001_IEO_HAP_HI.flac,happy,crema-d/1001`,
      `${root}/crema/1002_DFA_SAD_XX.flac,sad,crema-d/1002`,
      '',
    ]);
    expect(() => generalManifest(splitArgs(['--data', `a=${root}/rav`, '--data', `crema-d=${root}/crema`]).data)).toThrow(/ravdess and crema-d/);
    expect(() => splitArgs(['--data', `ravdess=${root}/rav`, '--data', `ravdess=${root}/crema`])).toThrow(/two corpora named 'ravdess'/);
    rmSync(root, { recursive: true, force: true });
  });

  it('the script takes --variant single-clip|speaker-norm (the same recipe plus --speaker-norm) and refuses others', () => {
    expect(takeVariant(['--data', 'd'])).toEqual({ variant: 'single-clip', rest: ['--data', 'd'] });
    expect(takeVariant(['--variant', 'speaker-norm', '--data', 'd'])).toEqual({ variant: 'speaker-norm', rest: ['--data', 'd'] });
    expect(takeVariant(['--variant=speaker-norm'])).toEqual({ variant: 'speaker-norm', rest: [] });
    expect(() => takeVariant(['--variant', 'best'])).toThrow(/one of single-clip, speaker-norm, got best/);
    expect(() => takeVariant(['--variant'])).toThrow(/got nothing/);
    const withoutOut = (r: readonly string[]) => r.slice(0, r.indexOf('--out'));
    expect(RECIPES['single-clip']).toBe(RECIPE);
    expect(withoutOut(RECIPES['speaker-norm'])).toEqual([...withoutOut(RECIPE), '--speaker-norm']);
    expect(RECIPES['speaker-norm'].at(-1)).toBe('runs/general-speaker-norm');
  });

  it('predicts clips of speakers it never trained on above chance, and the CLI agrees', async () => {
    const loaded = await loadModel(gpu(), SHIPPED_MODEL);
    expect(loaded.meta.featureConfig.bandLimitHz).toBe(8000);
    const { predictions, skipped } = await predictFiles(gpu(), loaded, files, (c) => new GpuFeatureExtractor(gpu(), c));
    expect(skipped).toEqual([]);
    loaded.model.dispose();
    // The library's answers, and the CLI without --model (the default model) agreeing on the first clip.
    expect(correctAndAgreeing(predictions, truth, [])).toBeGreaterThanOrEqual(MIN_CORRECT);
  });
});

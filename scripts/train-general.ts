#!/usr/bin/env -S npx tsx
// `npm run train:general -- --data RAVDESS_DIR --data CREMA_D_DIR [--variant speaker-norm] [more ser
// train flags]`: the recipe of the shipped general model, models/general/ (see its README.md and
// docs/EXPERIMENTS.md runs 42-43), as one command that retrains it bit for bit on the same engine and
// adapter kind; with `--variant speaker-norm` the same recipe with every clip normalised by its
// speaker's statistics, models/general-speaker-norm/ (run 49), for many clips per speaker.
//
// Both corpora go into one CSV manifest (`path,label,speaker`, RAVDESS first, then CREMA-D, each in
// its sorted file order; speakers `ravdess/Actor_NN` and `crema-d/NNNN`), written beside the run's
// folder, and `ser train` trains one 8-class model on it: the manifest is how the shipped weights
// were trained, so this reproduces them exactly. (The several-`--data` path of `ser train` would also
// mask calm and surprised out of CREMA-D clips' loss: a different recipe, not this model's.)
// Fourteen speakers stay out of training as its validation set — RAVDESS actors 02, 04, 14, 18 (fold 1
// of the by-actor runs) and CREMA-D actors 1001, 1011, ..., 1091 — so the figures of its card are on
// voices it never heard. Every clip is band-limited to 8 kHz (what the 16 kHz corpus holds), so 16,
// 22.05 and 48 kHz recordings give features of one band. Extra flags are passed on (later ones win).
// RECIPES is exported so a test can hold each variant to the settings its shipped model.json records.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadDataset } from '../src/train/data/datasets.node.ts';
import { corpusSpeaker, parseCorpusSpecs } from '../src/train/scores/corpora';

export const VAL_SPEAKERS = Object.freeze([
  ...['02', '04', '14', '18'].map((a) => `ravdess/Actor_${a}`),
  ...Array.from({ length: 10 }, (_, k) => `crema-d/${1001 + 10 * k}`),
]);

export const OUT = 'runs/general';

const COMMON = [
  '--epochs', '40', '--patience', '0', '--seed', '0', '--dropout-scale', '0.5', '--weight-decay', '0.5',
  '--band-limit', '8000', '--val-speakers', VAL_SPEAKERS.join(','),
];

/** The recipe of each shipped variant: models/general (single clips) and models/general-speaker-norm. */
export const RECIPES = Object.freeze({
  'single-clip': Object.freeze([...COMMON, '--out', OUT]),
  'speaker-norm': Object.freeze([...COMMON, '--speaker-norm', '--out', `${OUT}-speaker-norm`]),
});
export const RECIPE = RECIPES['single-clip'];
export type Variant = keyof typeof RECIPES;

/** The --variant value and the remaining arguments; throws on an unknown or missing variant. */
export function takeVariant(args: readonly string[]): { variant: Variant; rest: string[] } {
  const rest: string[] = [];
  let variant: Variant = 'single-clip';
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a !== '--variant' && !a.startsWith('--variant=')) { rest.push(a); continue; }
    const v = a === '--variant' ? args[++i] : a.slice('--variant='.length);
    if (!v || !(v in RECIPES)) throw new Error(`--variant must be one of ${Object.keys(RECIPES).join(', ')}, got ${v ?? 'nothing'}`);
    variant = v as Variant;
  }
  return { variant, rest };
}

/** The two corpora of the recipe, in manifest order. */
export const CORPORA = Object.freeze(['ravdess', 'crema-d'] as const);

/** The `--data NAME=DIR` / `--data DIR` values out of args (named as `ser train` names them), and the other args. */
export function splitArgs(args: readonly string[]): { data: Map<string, string>; rest: string[] } {
  const values: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a !== '--data' && !a.startsWith('--data=')) { rest.push(a); continue; }
    const spec = a === '--data' ? args[++i] : a.slice('--data='.length);
    if (spec === undefined || spec === '') throw new Error('--data needs a folder: --data ravdess=DIR or --data DIR');
    values.push(spec);
  }
  return { data: new Map(parseCorpusSpecs(values).map((c) => [c.name, c.data])), rest };
}

/** The recipe's CSV manifest of both corpora: every clip with its label and corpus-named speaker. */
export function generalManifest(data: ReadonlyMap<string, string>): string {
  const names = [...data.keys()];
  if (names.length !== 2 || !CORPORA.every((c) => data.has(c))) {
    throw new Error(`the recipe trains on exactly two corpora named ${CORPORA.join(' and ')} (got ${names.join(', ') || 'none'}); ` +
      'name them with --data ravdess=DIR --data crema-d=DIR');
  }
  const rows = ['path,label,speaker'];
  for (const name of CORPORA) {
    const ds = loadDataset(resolve(data.get(name)!));
    for (const item of ds.items) {
      if (item.speaker === undefined) throw new Error(`${item.path}: no speaker in its name, so it cannot be held out by speaker`);
      if (/[",\n]/.test(item.path)) throw new Error(`${item.path}: a comma, quote or line break in a path is not supported here`);
      rows.push(`${item.path},${item.label},${corpusSpeaker(name, item.speaker, CORPORA.length)}`);
    }
  }
  return `${rows.join('\n')}\n`;
}

function main(args: string[]): number {
  let parsed;
  let variant: Variant;
  try {
    const picked = takeVariant(args);
    variant = picked.variant;
    parsed = splitArgs(picked.rest);
    if (parsed.data.size < 2) throw new Error('two --data folders are needed');
  } catch (e) {
    console.error(`${(e as Error).message}\n` +
      'usage: npm run train:general -- --data ravdess=path/to/ravdess --data crema-d=path/to/crema-d [--variant single-clip|speaker-norm] [ser train flags]\n' +
      `  writes a manifest of both, then: ser train --data MANIFEST RECIPE\n` +
      Object.entries(RECIPES).map(([k, r]) => `  ${k}: ${r.join(' ')}`).join('\n') + '\n' +
      '(RAVDESS speech, actors 01-20, and CREMA-D; a folder named ravdess or crema-d may be given without NAME=)');
    return 2;
  }
  const outAt = parsed.rest.lastIndexOf('--out');
  const recipe = RECIPES[variant];
  const out = outAt >= 0 && parsed.rest[outAt + 1] ? parsed.rest[outAt + 1]! : recipe[recipe.indexOf('--out') + 1]!;
  const manifest = resolve(`${out.replace(/\/+$/, '')}-data.csv`);
  try {
    mkdirSync(dirname(manifest), { recursive: true });
    writeFileSync(manifest, generalManifest(parsed.data));
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  console.error(`manifest of both corpora: ${manifest}`);
  const bin = fileURLToPath(new URL('../bin/ser.mjs', import.meta.url));
  const r = spawnSync(process.execPath, [bin, 'train', '--data', manifest, ...recipe, ...parsed.rest], { stdio: 'inherit' });
  return r.status ?? 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exit(main(process.argv.slice(2)));

#!/usr/bin/env node
// `npm run train:ravdess -- --data DIR [--variant speaker-norm] [more ser train flags]`: the recipe of
// a shipped model as one command — by default models/ravdess-8/ (single clips), with `--variant
// speaker-norm` models/ravdess-8-speaker-norm/ (clips normalised per speaker; see each README.md).
// It refuses to run without --data, since `ser train` alone would train on the synthetic corpus.
// Extra flags are passed on (later ones win). RECIPES is exported so a test can hold each recipe to
// the settings its shipped model.json records; RECIPE is the default one.
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const COMMON = ['--patience', '0', '--seed', '0', '--dropout-scale', '0.5', '--clip-frames', '128', '--logit-adjust'];

// Epochs and weight decay as measured over five seeds each (docs/EXPERIMENTS.md runs 37 and 27).
export const RECIPES = Object.freeze({
  'single-clip': Object.freeze(['--epochs', '80', ...COMMON, '--weight-decay', '0.5', '--out', 'runs/ravdess-8']),
  'speaker-norm': Object.freeze(['--epochs', '60', ...COMMON, '--speaker-norm', '--out', 'runs/ravdess-8-speaker-norm']),
});
export const RECIPE = RECIPES['single-clip'];

/** The --variant value and the remaining arguments; throws on an unknown or missing variant. */
export function takeVariant(args) {
  const rest = [];
  let variant = 'single-clip';
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--variant' || a.startsWith('--variant=')) {
      const v = a === '--variant' ? args[++i] : a.slice('--variant='.length);
      if (!v || !(v in RECIPES)) throw new Error(`--variant must be one of ${Object.keys(RECIPES).join(', ')}, got ${v ?? 'nothing'}`);
      variant = v;
    } else rest.push(a);
  }
  return { variant, rest };
}

function main(args) {
  let picked;
  try {
    picked = takeVariant(args);
  } catch (e) {
    console.error(e.message);
    return 2;
  }
  const { variant, rest } = picked;
  if (!rest.some((a) => a === '--data' || a.startsWith('--data='))) {
    console.error('usage: npm run train:ravdess -- --data path/to/ravdess [--variant single-clip|speaker-norm] [ser train flags]\n' +
      Object.entries(RECIPES).map(([k, r]) => `  ${k}: ser train ${r.join(' ')}`).join('\n') +
      '\n(RAVDESS speech, actors 01-20, any sample rate)');
    return 2;
  }
  const bin = fileURLToPath(new URL('../bin/ser.mjs', import.meta.url));
  const r = spawnSync(process.execPath, [bin, 'train', ...RECIPES[variant], ...rest], { stdio: 'inherit' });
  return r.status ?? 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exit(main(process.argv.slice(2)));

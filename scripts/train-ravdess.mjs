#!/usr/bin/env node
// `npm run train:ravdess -- --data DIR [more ser train flags]`: the recipe of the shipped model
// models/ravdess-8/ (see its README.md), as one command. It refuses to run without --data, since
// `ser train` alone would train on the synthetic corpus. Extra flags are passed on (later ones win).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const RECIPE = ['--epochs', '40', '--patience', '0', '--seed', '0', '--dropout-scale', '0.5', '--clip-frames', '128', '--out', 'runs/ravdess-8'];

const args = process.argv.slice(2);
if (!args.some((a) => a === '--data' || a.startsWith('--data='))) {
  console.error('usage: npm run train:ravdess -- --data path/to/ravdess [ser train flags]\n' +
    `trains the shipped model's recipe: ser train ${RECIPE.join(' ')} (RAVDESS speech, actors 01-20, any sample rate)`);
  process.exit(2);
}
const bin = fileURLToPath(new URL('../bin/ser.mjs', import.meta.url));
const r = spawnSync(process.execPath, [bin, 'train', ...RECIPE, ...args], { stdio: 'inherit' });
process.exit(r.status ?? 1);

#!/usr/bin/env node
// `npm run train:ravdess -- --data DIR [more ser train flags]`: the recipe of the shipped model
// models/ravdess-8/ (see its README.md), as one command. It refuses to run without --data, since
// `ser train` alone would train on the synthetic corpus. Extra flags are passed on (later ones win).
// RECIPE is exported so a test can hold it to the settings the shipped model.json records.
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const RECIPE = Object.freeze(['--epochs', '60', '--patience', '0', '--seed', '0', '--dropout-scale', '0.5', '--clip-frames', '128', '--logit-adjust', '--out', 'runs/ravdess-8']);

function main(args) {
  if (!args.some((a) => a === '--data' || a.startsWith('--data='))) {
    console.error('usage: npm run train:ravdess -- --data path/to/ravdess [ser train flags]\n' +
      `trains the shipped model's recipe: ser train ${RECIPE.join(' ')} (RAVDESS speech, actors 01-20, any sample rate)`);
    return 2;
  }
  const bin = fileURLToPath(new URL('../bin/ser.mjs', import.meta.url));
  const r = spawnSync(process.execPath, [bin, 'train', ...RECIPE, ...args], { stdio: 'inherit' });
  return r.status ?? 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exit(main(process.argv.slice(2)));

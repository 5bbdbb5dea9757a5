// The RAVDESS clips in test/fixtures/ravdess/ (16 of the shipped models' validation clips, two per
// emotion) and what the shipped-model tests need around them: the repository root, the CLI, the
// eight RAVDESS classes in vocabulary order and each clip's true class from its name.

import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { expect } from 'vitest';
import { join } from 'node:path';

export const ROOT = join(__dirname, '../..');
export const BIN = join(ROOT, 'bin/ser.mjs');
export const RAVDESS_CLASSES = ['neutral', 'calm', 'happy', 'sad', 'angry', 'fearful', 'disgust', 'surprised'];
const CLIPS = join(__dirname, '../fixtures/ravdess');

/** The fixture clips whose file name ends with `suffix` (default: every FLAC), sorted, as absolute paths. */
export function fixtureClips(suffix = '.flac'): string[] {
  return readdirSync(CLIPS).filter((f) => f.endsWith(suffix)).sort().map((f) => join(CLIPS, f));
}

/** The emotion a RAVDESS file name states (its third field, 01..08). */
export function truth(file: string): string {
  return RAVDESS_CLASSES[Number(/03-01-(\d\d)-/.exec(file)![1]) - 1]!;
}

/**
 * How many predictions name the true class (`truthOf` each file), checking on the way that every
 * prediction's probabilities sum to 1; `ser predict --json` on the first file (with `model`, or the
 * default) must agree with the library's first prediction.
 */
export function correctAndAgreeing(
  predictions: readonly ({ file: string; label: string; probabilities: Record<string, number> } | null)[],
  truthOf: (file: string) => string,
  cliArgs: readonly string[],
): number {
  let correct = 0;
  for (const p of predictions) {
    expect(Object.values(p!.probabilities).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    if (p!.label === truthOf(p!.file)) correct++;
  }
  const first = predictions[0]!;
  const cli = JSON.parse(execFileSync(process.execPath, [BIN, 'predict', '--json', ...cliArgs, first.file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  expect(cli.label).toBe(first.label);
  expect(cli.probabilities[cli.label]).toBeCloseTo(first.probabilities[cli.label]!, 4);
  return correct;
}

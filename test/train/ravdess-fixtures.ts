// The RAVDESS clips in test/fixtures/ravdess/ (16 of the shipped models' validation clips, two per
// emotion) and what the shipped-model tests need around them: the repository root, the CLI, the
// eight RAVDESS classes in vocabulary order and each clip's true class from its name.

import { readdirSync } from 'node:fs';
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

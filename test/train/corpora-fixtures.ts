// Tiny generated corpora for the several-corpora tests (corpora*.test.ts).

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Emotion } from '../../src/train/data/labels';
import { synthCorpus } from '../../src/train/data/synth';
import { writeSynthCorpus } from '../../src/train/data/synth.node.ts';

/** A generated corpus of `speakers` speakers and `classes`, written as RAVDESS names (a folder) or a CSV manifest (its path). */
export function writeCorpus(classes: Emotion[], speakers: number, layout: 'ravdess' | 'csv', seed = 3): string {
  const dir = mkdtempSync(join(tmpdir(), 'ser-corpora-'));
  const { manifest } = writeSynthCorpus(dir, synthCorpus({ speakers, clipsPerClassPerSpeaker: 2, seed, classes }), { layout });
  return manifest ?? dir;
}

// Writes a synthetic corpus (synth.ts) to disk as 16-bit WAV files that the normal loader reads:
//   layout 'ravdess'  <dir>/Actor_AA/03-01-EE-01-SS-RR-AA.wav, take t -> statement 1 + t % 2 and
//                     repetition 1 + floor(t / 2), so up to 198 takes per class and speaker;
//   layout 'csv'      <dir>/clips/<speaker>_<label>_<take>.wav plus <dir>/manifest.csv
//                     (path,label,speaker,sex); loadDataset(<dir>/manifest.csv).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RAVDESS_CODES } from './labels';
import { SYNTH_SAMPLE_RATE, type SynthClip } from './synth';
import { writeWav } from '../../dsp/wav';

const RAVDESS_CODE_OF = new Map(Object.entries(RAVDESS_CODES).map(([code, label]) => [label, code]));
const two = (n: number): string => String(n).padStart(2, '0');

export interface WriteSynthOptions { layout?: 'ravdess' | 'csv' }

/** Writes every clip and returns the written audio paths (and the manifest path for 'csv'). */
export function writeSynthCorpus(dir: string, clips: readonly SynthClip[], options: WriteSynthOptions = {}): { files: string[]; manifest?: string } {
  const { layout = 'ravdess' } = options;
  const files: string[] = [];
  const rows = ['path,label,speaker,sex'];
  for (const clip of clips) {
    let rel: string;
    if (layout === 'ravdess') {
      const code = RAVDESS_CODE_OF.get(clip.label);
      if (!code) throw new Error(`label ${clip.label} has no RAVDESS code; use layout 'csv'`);
      if (clip.take >= 198) throw new Error(`take ${clip.take} does not fit RAVDESS names (at most 198 per class and speaker)`);
      const actor = two(clip.speaker.number);
      rel = `Actor_${actor}/03-01-${code}-01-${two(1 + (clip.take % 2))}-${two(1 + Math.floor(clip.take / 2))}-${actor}.wav`;
    } else {
      rel = `clips/${clip.speaker.id}_${clip.label}_${clip.take}.wav`;
      rows.push(`${rel},${clip.label},${clip.speaker.id},${clip.speaker.sex}`);
    }
    const path = join(dir, ...rel.split('/'));
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, writeWav([clip.samples], SYNTH_SAMPLE_RATE));
    files.push(path);
  }
  if (layout === 'ravdess') return { files };
  const manifest = join(dir, 'manifest.csv');
  writeFileSync(manifest, rows.join('\n') + '\n');
  return { files, manifest };
}

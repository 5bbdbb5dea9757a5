// RAVDESS clips for the feature benchmarks (ours and Meyda's), decoded, resampled, pre-emphasised and
// trimmed once per process on the CPU (not timed), so every feature case works on the same signals.
// The data folder and clip count come from SER_BENCH_DATA (default ../shared/data/ravdess beside the repository, bench/data-folder.ts; the bench
// may read shared data, tests may not) and SER_BENCH_CLIPS (default 32), clips spread over the actors.

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { featureConfig, type FeatureConfig } from '../../src/dsp/config';
import { decodeFile } from '../../src/dsp/decode.node.ts';
import { prepareSignal } from '../../src/dsp/prepare';
import { DEFAULT_DATA } from '../data-folder';

export interface Clips {
  dir: string;
  config: FeatureConfig;
  signals: Float32Array[];
  /** Seconds of (trimmed) audio in all signals. */
  seconds: number;
}

export const CLIP_DIR = process.env.SER_BENCH_DATA ?? DEFAULT_DATA;
export const CLIP_COUNT = Number(process.env.SER_BENCH_CLIPS ?? 32);

function listAudio(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listAudio(join(dir, e.name)) : /\.(wav|flac)$/i.test(e.name) ? [join(dir, e.name)] : []))
    .sort();
}

let cached: Promise<Clips> | null = null;

export function loadClips(): Promise<Clips> {
  cached ??= (async () => {
    if (!existsSync(CLIP_DIR)) throw new Error(`feature bench: no audio folder ${CLIP_DIR} (set SER_BENCH_DATA to a folder of RAVDESS .wav files)`);
    const files = listAudio(CLIP_DIR);
    if (files.length === 0) throw new Error(`feature bench: no .wav/.flac files under ${CLIP_DIR}`);
    const step = Math.max(1, Math.floor(files.length / CLIP_COUNT));
    const chosen = files.filter((_, i) => i % step === 0).slice(0, CLIP_COUNT);
    const config = featureConfig();
    const signals: Float32Array[] = [];
    for (const f of chosen) {
      const audio = await decodeFile(f);
      signals.push(prepareSignal(audio.samples, audio.sampleRate, config).samples);
    }
    const seconds = signals.reduce((n, s) => n + s.length, 0) / config.sampleRate;
    return { dir: CLIP_DIR, config, signals, seconds };
  })();
  return cached;
}

/** A case's `items`, filled with the clips' seconds of audio once they are loaded (the harness reads it after timing). */
export function audioItems(): { count: number; unit: string } {
  return { count: 0, unit: 's audio' };
}

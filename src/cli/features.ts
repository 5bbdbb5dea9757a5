// `ser features <audio...>`: the 82-row model input of each file, as JSON lines or a summary. Files
// go through in chunks, each printed before the next is read, so any number of files runs in bounded
// memory. Files that fail are reported one line each and the rest still go through; the exit code is 1
// if any failed.

import type { Command } from 'commander';
import { featureConfig } from '../dsp/config';
import type { Skipped } from '../dsp/pipeline';

/** Files read, featurised and printed together (the feature pipeline's GPU batch). */
const CHUNK = 64;

interface FeaturesOptions {
  json?: boolean;
  frames: string;
  pad: boolean;
  tuning?: string;
  cache?: string;
}

export function registerFeatures(program: Command): void {
  program
    .command('features')
    .description('compute the 82 x 64 feature matrix (MFCC, deltas, chroma, ZCR, contrast, centroid, rolloff, bandwidth) of audio files')
    .argument('<audio...>', 'audio files (WAV, FLAC, MP3, OGG; any rate and channel count)')
    .option('--json', 'print one JSON object per file: {file, sampleRate, frames, rows, features}')
    .option('--frames <n>', 'fixed number of frames (pad with zeros / truncate)', '64')
    .option('--no-pad', 'keep all frames (up to --frames) instead of padding short clips')
    .option('--tuning <t>', "chroma tuning in fractions of a bin, or 'estimate'", 'estimate')
    .option('--cache <dir>', 'reuse features cached in this folder (keyed by file content and config)')
    .action(async (files: string[], opts: FeaturesOptions) => {
      const frames = Number(opts.frames);
      if (!Number.isInteger(frames) || frames < 1) throw new Error(`--frames must be a positive integer, got '${opts.frames}'`);
      const tuning = opts.tuning === 'estimate' || opts.tuning === undefined ? 'estimate' : Number(opts.tuning);
      if (tuning !== 'estimate' && !(Number.isFinite(tuning) && Math.abs(tuning) <= 0.5)) {
        throw new Error(`--tuning must be 'estimate' or a number in [-0.5, 0.5], got '${opts.tuning}'`);
      }
      const config = featureConfig({ frames, pad: true, tuning });
      const [{ featuresOfFiles }, { FeaturePipeline }, { createTunedNodeGpu }, { makeExtractor }] = await Promise.all([
        import('../dsp/files.node.ts'), import('../dsp/pipeline'), import('../tune/runtime.node.ts'), import('./extractor'),
      ]); // loaded only now: a refused flag answers without the engine
      const gpu = await createTunedNodeGpu();
      try {
        const pipeline = new FeaturePipeline(config, makeExtractor(gpu, config));
        const skipped: Skipped[] = [];
        for (let at = 0; at < files.length; at += CHUNK) {
          const chunk = await featuresOfFiles(pipeline, files.slice(at, at + CHUNK), { cacheDir: opts.cache });
          skipped.push(...chunk.skipped);
          for (const clip of chunk.clips) {
            if (!clip) continue;
            const keep = opts.pad ? frames : Math.min(frames, clip.frames);
            const rows = pipeline.rowNames.map((_, r) => Array.from(clip.features.subarray(r * frames, r * frames + keep)));
            if (opts.json) {
              console.log(JSON.stringify({ file: clip.name, sampleRate: config.sampleRate, frames: clip.frames, rows: pipeline.rowNames, features: rows }));
            } else {
              console.log(`${clip.name}: ${clip.frames} frames${clip.frames < frames && opts.pad ? ` (zero-padded to ${frames})` : clip.frames > frames ? ` (truncated to ${frames})` : ''}, ${rows.length} rows`);
            }
          }
        }
        for (const s of skipped) console.error(`skipped ${s.name}: ${s.reason}`);
        if (skipped.length > 0) {
          console.error(`${files.length - skipped.length} of ${files.length} files processed, ${skipped.length} skipped`);
          process.exitCode = 1;
        }
      } finally {
        gpu.destroy();
      }
    });
}

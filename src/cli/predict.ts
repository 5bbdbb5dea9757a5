// `ser predict [--model DIR] <audio...>`: the emotion of each file with every class probability. Without
// --model it uses the general model shipped in the package (models/general/: RAVDESS and CREMA-D, every
// clip band-limited to 8 kHz), or with --one-speaker its speaker-normalised twin
// (models/general-speaker-norm/). models/ravdess-8/ is the seed-protocol model (--model models/ravdess-8),
// models/ravdess-8-speaker-norm/ its speaker-normalised RAVDESS-only counterpart.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { numberWithin } from './options';

/** The default pretrained model shipped with the package (trained by `npm run train:general`). */
export const SHIPPED_MODEL = fileURLToPath(new URL('../../models/general', import.meta.url));
/** The seed-protocol RAVDESS model (`npm run train:ravdess`). */
export const SHIPPED_RAVDESS_MODEL = fileURLToPath(new URL('../../models/ravdess-8', import.meta.url));
/** The shipped speaker-normalised general model (`npm run train:general -- --variant speaker-norm`), for --one-speaker. */
export const SHIPPED_SPEAKER_NORM_MODEL = fileURLToPath(new URL('../../models/general-speaker-norm', import.meta.url));
/** The speaker-normalised RAVDESS-only model (`npm run train:ravdess -- --variant speaker-norm`). */
export const SHIPPED_RAVDESS_SPEAKER_NORM_MODEL = fileURLToPath(new URL('../../models/ravdess-8-speaker-norm', import.meta.url));

/** Below this many clips of the speaker, --one-speaker warns that the statistics are poor. */
const FEW_CLIPS = 8;
/** Below this many files, --adapt-bn warns that the batch-norm statistics are poor. */
const FEW_FOR_BN = 64;

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('predict the emotion of audio files with a trained model')
    .argument('<audio...>', 'audio files (WAV, FLAC, MP3, OGG)')
    .option('--model <dir>', 'folder written by `ser train` (model.json + model.safetensors); default: the shipped general model, models/general (with --one-speaker models/general-speaker-norm; the seed-protocol RAVDESS models are models/ravdess-8 and models/ravdess-8-speaker-norm)')
    .option('--eval-windows <k>', 'for a model trained on windows: average k evenly spaced windows per clip instead of its trained setting (1..32)', numberWithin(1, 32, true))
    .option('--one-speaker', 'for a model trained with --speaker-norm: the files are clips of one speaker, normalised together (give many, spanning their emotions)')
    .option('--adapt-bn', "the files come from one recording setup (corpus, microphone, room): re-estimate the batch-norm statistics from all of them before predicting (adaptive batch normalisation; give hundreds of files)")
    .option('--json', 'print one {"file", "label", "probabilities"} object per file')
    .option('--cache <dir>', 'reuse cached features from this folder')
    .action(async (files: string[], opts: { model?: string; json?: boolean; cache?: string; evalWindows?: number; oneSpeaker?: boolean; adaptBn?: boolean }) => {
      const modelDir = opts.model ?? (opts.oneSpeaker ? SHIPPED_SPEAKER_NORM_MODEL : SHIPPED_MODEL);
      if (!opts.model && !existsSync(`${modelDir}/model.json`)) {
        throw new Error(`no --model given and no pretrained model at ${modelDir} (train one: npm run train:general -- --data RAVDESS_DIR --data CREMA_D_DIR${opts.oneSpeaker ? ' --variant speaker-norm' : ''})`);
      }
      // The engine is loaded only now: a refused flag answers without it.
      const [{ createTunedNodeGpu }, { predictFiles }, { loadModel }, { withEvalWindows }, { makeExtractor }] = await Promise.all([
        import('../tune/runtime.node.ts'), import('../train/inference/infer.node.ts'), import('../train/model-files/saved-model.node.ts'),
        import('../train/model-files/saved-model'), import('./extractor'),
      ]);
      const gpu = await createTunedNodeGpu();
      try {
        const saved = await loadModel(gpu, modelDir);
        const loaded = opts.evalWindows === undefined ? saved : withEvalWindows(saved, opts.evalWindows);
        if (opts.oneSpeaker && !loaded.meta.speakerNorm) throw new Error(`--one-speaker applies only to a model trained with --speaker-norm; ${modelDir} was not`);
        if (loaded.meta.speakerNorm && !opts.oneSpeaker) throw new Error(`${modelDir} was trained with --speaker-norm: it normalises clips with their speaker's statistics, so give many clips of one speaker and --one-speaker (or use ser evaluate, which groups a data set's clips by speaker)`);
        const speakers = loaded.meta.speakerNorm ? files.map(() => 'speaker') : undefined;
        if (opts.adaptBn && files.length < FEW_FOR_BN) {
          console.error(`warning: --adapt-bn takes the batch-norm statistics of ${files.length} file(s); they stand in for a whole recording setup's only with many more (a few hundred, spanning the emotions)`);
        }
        if (speakers && files.length < FEW_CLIPS) {
          console.error(`warning: ${files.length} clip(s) of the speaker; a speaker-normalised model takes the speaker's statistics from them and is much less accurate with fewer than about ${FEW_CLIPS} spanning their emotions (docs/EXPERIMENTS.md run 23: ~28% with one clip, 43-61% with four)`);
        }
        const { predictions, skipped } = await predictFiles(gpu, loaded, files, (c) => makeExtractor(gpu, c), { cacheDir: opts.cache, speakers, batchNormGroups: opts.adaptBn ? files.map(() => 'files') : undefined });
        for (const p of predictions) {
          if (!p) continue;
          if (opts.json) console.log(JSON.stringify(p));
          else {
            const probs = Object.entries(p.probabilities).sort((a, b) => b[1] - a[1]).map(([c, v]) => `${c} ${(100 * v).toFixed(1)}%`).join(', ');
            console.log(`${p.file}: ${p.label}  (${probs})`);
          }
        }
        for (const s of skipped) console.error(`skipped ${s.name}: ${s.reason}`);
        if (skipped.length > 0) process.exitCode = 1;
      } finally {
        gpu.destroy();
      }
    });
}

// The training data of `ser train`, before any split: the data folder (or the embedded synthetic
// corpus, generated once into the cache folder), its recognised clips and their features (GPU
// pipeline, cached on disk), and on request augmented copies of chosen clips. Features are computed
// once here and shared by every split or fold that uses them.
//
// Augmented copies (dsp/augment.ts) are made from the decoded clip resampled to the feature rate, so
// the noise is white over the band the features see. Copy c of a clip draws its parameters from an
// Rng seeded by SHA-256(file bytes, seed, c): the same file, seed and settings give the same copy
// whatever its name or position, which is also what the feature cache is keyed on.

import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { createRng } from '../../common/random';
import { augmentWaveform, type AugmentConfig } from '../../dsp/augment';
import { featureConfig, type FeatureConfig } from '../../dsp/config';
import { featuresOfFiles, type FileVariant } from '../../dsp/files.node.ts';
import { FeaturePipeline, type FeatureExtractor, type Skipped } from '../../dsp/pipeline';
import { resample } from '../../dsp/resample';
import { loadDataset } from './datasets.node.ts';
import type { CorpusRecord, CorpusSpec } from '../scores/corpora';
import { loadCorpora } from './corpora.node.ts';
import type { Split, SplitExample } from './splits';
import { synthCorpus } from './synth';
import { writeSynthCorpus } from './synth.node.ts';

/** Bump when augmentWaveform produces other samples for the same config and seed. */
const AUGMENT_CODE_VERSION = 1;

export interface TrainingData {
  dataDir: string;
  /** Paths, examples and features of the clips that yielded features, in data-set order. */
  paths: string[];
  examples: SplitExample[];
  features: Float32Array[];
  /** Frames of each clip before padding or truncation (window training keeps windows inside them). */
  lengths: number[];
  /** Labels present among those clips, in vocabulary order. */
  classes: string[];
  skipped: Skipped[];
  pipeline: FeaturePipeline;
  featureConfig: FeatureConfig;
  cacheDir: string;
  /** Several corpora (`--data` given more than once, or named): each one, and each clip's corpus index. */
  corpora?: CorpusRecord[];
  corpusOf?: number[];
}

/** Features of one augmented copy of the clip at index `source`. */
export interface AugmentedClip { source: number; copy: number; features: Float32Array; length: number }

export interface TrainingDataOptions {
  data?: string;
  /** Several corpora (corpora.ts); replaces `data`. */
  corpora?: CorpusSpec[];
  cacheDir: string;
  seed: number;
  features?: Partial<FeatureConfig>;
  log: (line: string) => void;
}

/**
 * The embedded default corpus (v3): synthetic, deterministic, written once into the cache folder. Its
 * class profiles are pushed twice as far apart as synth.ts' defaults and each clip varies half as much
 * around its class (separation 2, variation 0.5): with the defaults (v2) the classes overlap so much
 * that a linear model on the clips' feature statistics reached 62.5% on the validation split and the
 * CNN under 35% in 15 epochs; v3 gives 90% and the CNN above 90%. Bump the folder name whenever the
 * clips change, so that no cache holds an older corpus under the new name.
 */
export const SYNTHETIC_CORPUS = { version: 3, speakers: 6, clipsPerClassPerSpeaker: 4, variation: 0.5, separation: 2 } as const;

function syntheticData(cacheDir: string, seed: number, log: (l: string) => void): string {
  const { version, ...corpus } = SYNTHETIC_CORPUS;
  const dir = join(cacheDir, `synthetic-v${version}-seed${seed}`);
  // The marker (beside the folder, so the loader never sees it) is written last: a corpus interrupted
  // mid-write is regenerated next time.
  const marker = `${dir}.complete`;
  if (!existsSync(marker)) {
    log(`generating the synthetic emotional-speech corpus into ${dir} (8 classes, ${corpus.speakers} speakers, ${8 * corpus.speakers * corpus.clipsPerClassPerSpeaker} clips; NOT real speech)`);
    writeSynthCorpus(dir, synthCorpus({ ...corpus, seed }), { layout: 'ravdess' });
    writeFileSync(marker, '');
  }
  return dir;
}

export async function loadTrainingData(extractorFor: (c: FeatureConfig) => FeatureExtractor, opts: TrainingDataOptions): Promise<TrainingData> {
  const log = opts.log;
  const several = opts.corpora?.length ? loadCorpora(opts.corpora, log) : null;
  const dataDir = several ? several.corpora[0]!.data : opts.data ? resolve(opts.data) : syntheticData(opts.cacheDir, opts.seed, log);
  const dataset = several ? several.dataset : loadDataset(dataDir);
  for (const w of dataset.warnings) log(`warning: ${w}`);
  log(`data: ${several ? `${several.corpora.length} corpora` : dataDir} — ${dataset.items.length} files, classes: ${dataset.classes.join(', ')}${dataset.skipped.length ? `, ${dataset.skipped.length} files not recognised` : ''}`);

  const fc = featureConfig(opts.features);
  const pipeline = new FeaturePipeline(fc, extractorFor(fc));
  const t0 = performance.now();
  const { clips, skipped, cacheHits } = await featuresOfFiles(pipeline, dataset.items.map((i) => i.path), { cacheDir: join(opts.cacheDir, 'features') });
  log(`features: ${clips.filter(Boolean).length} clips in ${((performance.now() - t0) / 1000).toFixed(1)} s (${cacheHits} from cache), ${skipped.length} skipped`);
  for (const s of skipped) log(`  skipped ${s.name}: ${s.reason}`);

  const keep = dataset.items.map((item, i) => ({ item, clip: clips[i], corpus: several?.corpusOf[i] ?? 0 })).filter((e) => e.clip);
  const corpora = several?.corpora.map((c, ci): CorpusRecord => {
    const mine = keep.filter((e) => e.corpus === ci);
    return { ...c, classes: dataset.classes.filter((k) => mine.some((e) => e.item.label === k)), clips: mine.length, speakers: new Set(mine.map((e) => e.item.speaker)).size };
  });
  return {
    ...(corpora ? { corpora, corpusOf: keep.map((e) => e.corpus) } : {}),
    dataDir,
    paths: keep.map((e) => e.item.path),
    examples: keep.map((e) => ({ label: e.item.label, speaker: e.item.speaker, sex: e.item.sex })),
    features: keep.map((e) => e.clip!.features),
    lengths: keep.map((e) => e.clip!.frames),
    classes: dataset.classes.filter((c) => keep.some((e) => e.item.label === c)),
    skipped,
    pipeline,
    featureConfig: fc,
    cacheDir: opts.cacheDir,
  };
}

/** A split as saved in split.json / splits.json: its description and the validation files by name. */
export function splitRecord(data: TrainingData, split: Split) {
  if (data.corpora && data.corpusOf) {
    // Several corpora: each one's validation files relative to its own folder (no top-level valFiles).
    const corpora = data.corpora.map((c, ci) => ({ name: c.name, data: c.data, valFiles: split.val.filter((i) => data.corpusOf![i] === ci).map((i) => relative(c.data, data.paths[i]!)) }));
    return { ...split.description, trainExamples: split.train.length, corpora };
  }
  return { ...split.description, trainExamples: split.train.length, valFiles: split.val.map((i) => relative(data.dataDir, data.paths[i]!)) };
}

/**
 * The inverse of splitRecord for `ser evaluate --held-out`: indices into `paths` (a data set's clips,
 * absolute) of `valFiles` (split.json's names, relative to the data folder `dataDir` trained from).
 * Every one must be present; `source` names the data in the error.
 */
export function heldOutIndices(valFiles: readonly string[], dataDir: string, paths: readonly string[], source: string): number[] {
  const index = new Map(paths.map((p, i) => [relative(resolve(dataDir), p), i]));
  const missing = valFiles.filter((f) => !index.has(f));
  if (missing.length > 0) throw new RangeError(`--held-out: ${missing.length} of the model's ${valFiles.length} validation clips are not in ${source} (first: ${missing[0]}); give the data folder it was trained from`);
  return valFiles.map((f) => index.get(f)!);
}

/**
 * The clips evaluation must predict to score `scored` (null: all `count`): only those, unless a
 * speaker-normalised model needs each speaker's statistics from all of the speaker's clips.
 */
export function clipsToPredict(scored: readonly number[] | null, count: number, speakerNorm: boolean): number[] {
  return scored && !speakerNorm ? [...scored] : Array.from({ length: count }, (_, i) => i);
}

/** The file variant that turns a decoded clip into augmented copy `copy`. */
export function augmentVariant(config: AugmentConfig, fc: FeatureConfig, seed: number, copy: number): FileVariant {
  const { copies: _, ...params } = config; // more copies must not invalidate the ones already cached
  const key = JSON.stringify({ augment: AUGMENT_CODE_VERSION, params, seed, copy });
  return {
    key,
    apply: (audio, contentSha256) => {
      const clipSeed = createHash('sha256').update(contentSha256).update(key).digest().readUInt32LE(0);
      const x = resample(audio.samples, audio.sampleRate, fc.sampleRate);
      const { samples } = augmentWaveform(x, fc.sampleRate, config, createRng(clipSeed));
      return { samples, sampleRate: fc.sampleRate, channels: 1, durationS: samples.length / fc.sampleRate };
    },
  };
}

/** Features of config.copies augmented copies of each clip in `indices` (copies that fail are skipped and logged). */
export async function augmentFeatures(data: TrainingData, indices: readonly number[], config: AugmentConfig, seed: number, log: (l: string) => void): Promise<AugmentedClip[]> {
  const paths = indices.map((i) => data.paths[i]!);
  const out: AugmentedClip[] = [];
  const t0 = performance.now();
  let hits = 0;
  let failed = 0;
  for (let copy = 0; copy < config.copies; copy++) {
    const variant = augmentVariant(config, data.featureConfig, seed, copy);
    const { clips, skipped, cacheHits } = await featuresOfFiles(data.pipeline, paths, { cacheDir: join(data.cacheDir, 'features'), variant });
    hits += cacheHits;
    failed += skipped.length;
    for (const s of skipped) log(`  augmented copy ${copy + 1} of ${s.name} skipped: ${s.reason}`);
    clips.forEach((c, k) => c && out.push({ source: indices[k]!, copy, features: c.features, length: c.frames }));
  }
  // Source order, then copy: the training set's layout does not depend on the loop above.
  out.sort((a, b) => a.source - b.source || a.copy - b.copy);
  log(`augmentation: ${out.length} copies of ${indices.length} training clips in ${((performance.now() - t0) / 1000).toFixed(1)} s (${hits} from cache${failed ? `, ${failed} skipped` : ''})`);
  return out;
}

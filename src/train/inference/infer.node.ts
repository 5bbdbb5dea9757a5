// Inference with a saved model on files: features of the files (same feature config as training,
// cached), then predictFeatures (predict.ts): the scaler, batched forward passes, softmax per file.
// `speakers` (one per file) is for models trained with --speaker-norm; `batchNormGroups` (one per file)
// re-estimates the BN statistics per group (predict.ts).

import { featuresOfFiles } from '../../dsp/files.node.ts';
import { FeaturePipeline, type FeatureExtractor, type Skipped } from '../../dsp/pipeline';
import type { FeatureConfig } from '../../dsp/config';
import type { Gpu } from '../../gpu';
import { predictFeatures } from './predict';
import type { LoadedModel } from '../model-files/saved-model';

export { softmax } from './predict';

export interface Prediction {
  file: string;
  label: string;
  probabilities: Record<string, number>;
}

export async function predictFiles(
  gpu: Gpu,
  loaded: LoadedModel,
  files: string[],
  extractorFor: (c: FeatureConfig) => FeatureExtractor,
  opts: { cacheDir?: string; batch?: number; speakers?: readonly string[]; batchNormGroups?: readonly string[] } = {},
): Promise<{ predictions: (Prediction | null)[]; skipped: Skipped[] }> {
  const pipeline = new FeaturePipeline(loaded.meta.featureConfig, extractorFor(loaded.meta.featureConfig));
  const { clips, skipped } = await featuresOfFiles(pipeline, files, { cacheDir: opts.cacheDir });
  const ok = clips.map((c, i) => ({ c, i })).filter((e) => e.c);
  const predictions: (Prediction | null)[] = files.map(() => null);
  const results = await predictFeatures(gpu, loaded, ok.map((e) => e.c!.features), { batch: opts.batch, lengths: ok.map((e) => e.c!.frames), speakers: opts.speakers && ok.map((e) => opts.speakers![e.i]!), batchNormGroups: opts.batchNormGroups && ok.map((e) => opts.batchNormGroups![e.i]!) });
  results.forEach((r, k) => {
    const i = ok[k]!.i;
    predictions[i] = { file: files[i]!, ...r };
  });
  return { predictions, skipped };
}

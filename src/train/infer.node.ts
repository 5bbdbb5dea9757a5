// Inference with a saved model: features of files (same feature config as training, cached), the
// training split's scaler, batched forward passes, softmax probabilities per file.

import { featuresOfFiles } from '../dsp/files.node.ts';
import { FeaturePipeline, type FeatureExtractor, type Skipped } from '../dsp/pipeline';
import type { FeatureConfig } from '../dsp/config';
import type { Gpu } from '../gpu';
import { gatherRows } from '../kernels/gather';
import { Trainer } from '../nn/train-step';
import type { LoadedModel } from './saved-model.node.ts';
import { transform } from './scaler';

export interface Prediction {
  file: string;
  label: string;
  probabilities: Record<string, number>;
}

export function softmax(row: ArrayLike<number>): number[] {
  const m = Math.max(...Array.from(row));
  const e = Array.from(row, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

export async function predictFiles(
  gpu: Gpu,
  loaded: LoadedModel,
  files: string[],
  extractorFor: (c: FeatureConfig) => FeatureExtractor,
  opts: { cacheDir?: string; batch?: number } = {},
): Promise<{ predictions: (Prediction | null)[]; skipped: Skipped[] }> {
  const { model, meta } = loaded;
  const pipeline = new FeaturePipeline(meta.featureConfig, extractorFor(meta.featureConfig));
  const { clips, skipped } = await featuresOfFiles(pipeline, files, { cacheDir: opts.cacheDir });
  const ok = clips.map((c, i) => ({ c, i })).filter((e) => e.c);
  const predictions: (Prediction | null)[] = files.map(() => null);
  if (ok.length === 0) return { predictions, skipped };
  const per = pipeline.featureSize;
  const x = new Float32Array(ok.length * per);
  ok.forEach((e, k) => x.set(transform(meta.scaler, e.c!.features), k * per));
  const trainer = new Trainer(model);
  const batch = opts.batch ?? 32;
  const K = meta.classes.length;
  const data = gpu.upload(x, [ok.length, pipeline.rowNames.length, meta.featureConfig.frames, 1], 'f32', 'predict.x');
  try {
    for (let s = 0; s < ok.length; s += batch) {
      const n = Math.min(batch, ok.length - s);
      const idx = gpu.upload(Uint32Array.from({ length: n }, (_, j) => s + j), [n], 'u32', 'predict.idx');
      const xb = gatherRows(gpu, data, idx);
      const logits = trainer.predict(xb);
      const rows = (await logits.read()) as Float32Array;
      for (const t of [idx, xb, logits]) t.dispose();
      for (let j = 0; j < n; j++) {
        const p = softmax(rows.subarray(j * K, (j + 1) * K));
        const best = p.indexOf(Math.max(...p));
        const e = ok[s + j]!;
        predictions[e.i] = { file: files[e.i]!, label: meta.classes[best]!, probabilities: Object.fromEntries(meta.classes.map((c, k) => [c, p[k]!])) };
      }
    }
  } finally {
    data.dispose();
    trainer.dispose();
  }
  return { predictions, skipped };
}

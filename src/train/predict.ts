// Inference on feature blocks with a loaded model: the training split's scaler, batched forward
// passes in inference mode (moving BN statistics, no dropout), softmax per clip. Browser-safe; the
// node file front end (infer.node.ts) and the browser entry (src/browser.ts) both go through it, so
// both give the same probabilities for the same features.

import type { Gpu } from '../gpu';
import { gatherRows } from '../kernels/gather';
import { predictLogits } from '../nn/train-step';
import type { LoadedModel } from './saved-model';
import { transform } from './scaler';

export interface ClassProbabilities {
  label: string;
  probabilities: Record<string, number>;
}

export function softmax(row: ArrayLike<number>): number[] {
  const m = Math.max(...Array.from(row));
  const e = Array.from(row, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Class probabilities of each features block (rows x config.frames, unscaled), `batch` clips per pass. */
export async function predictFeatures(gpu: Gpu, loaded: LoadedModel, features: readonly Float32Array[], opts: { batch?: number } = {}): Promise<ClassProbabilities[]> {
  const { model, meta } = loaded;
  if (features.length === 0) return [];
  const rows = meta.modelConfig.inputRows;
  const per = rows * meta.featureConfig.frames;
  const x = new Float32Array(features.length * per);
  features.forEach((f, k) => {
    if (f.length !== per) throw new RangeError(`predict: features block ${k} has ${f.length} values, the model needs ${rows} x ${meta.featureConfig.frames} = ${per}`);
    x.set(transform(meta.scaler, f), k * per);
  });
  const batch = opts.batch ?? 32;
  const K = meta.classes.length;
  const out: ClassProbabilities[] = [];
  const data = gpu.upload(x, [features.length, rows, meta.featureConfig.frames, 1], 'f32', 'predict.x');
  try {
    for (let s = 0; s < features.length; s += batch) {
      const n = Math.min(batch, features.length - s);
      const idx = gpu.upload(Uint32Array.from({ length: n }, (_, j) => s + j), [n], 'u32', 'predict.idx');
      const xb = gatherRows(gpu, data, idx);
      const logits = predictLogits(model, xb);
      const values = (await logits.read()) as Float32Array;
      for (const t of [idx, xb, logits]) t.dispose();
      for (let j = 0; j < n; j++) {
        const p = softmax(values.subarray(j * K, (j + 1) * K));
        const best = p.indexOf(Math.max(...p));
        out.push({ label: meta.classes[best]!, probabilities: Object.fromEntries(meta.classes.map((c, k) => [c, p[k]!])) });
      }
    }
  } finally {
    data.dispose();
  }
  return out;
}

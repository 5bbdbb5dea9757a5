// The browser entry of ser-webgpu (bundled to dist/ser-webgpu.browser.js): the WebGPU runtime on
// navigator.gpu, decoding, the feature pipeline (also on a stream, for microphones), model loading
// from URLs or bytes, and predictAudio.
// Everything here is browser-safe (no node-only module is reachable from this file).

import { createBrowserGpu } from './gpu/browser';
import type { Gpu, GpuOptions } from './gpu';
import { CheckpointError } from './train/model-files/safetensors';
import { loadModelFromBytes, type LoadedModel } from './train/model-files/saved-model';
import { Recogniser } from './train/inference/recogniser';

export * from './gpu';
export { createBrowserGpu } from './gpu/browser';
export { decodeAudio, DecodeError, type DecodedAudio, type DecodeOptions } from './dsp/decode';
export { defaultFeatureConfig, featureConfig, type FeatureConfig } from './dsp/config';
export { FeatureError, FeaturePipeline, ReferenceExtractor, prepareClip, type ClipFeatures, type FeatureExtractor } from './dsp/pipeline';
export { GpuFeatureExtractor } from './dsp/gpu-features';
export { StreamingPreparer } from './dsp/stream';
export { StreamingGpuFeatures } from './dsp/gpu-stream';
export { featureRowNames } from './dsp/reference/features82';
export { CheckpointError, decodeSafetensors } from './train/model-files/safetensors';
export { loadModelFromBytes, type LoadedModel, type ModelFiles, type ModelMeta } from './train/model-files/saved-model';
export { predictFeatures, softmax, type ClassProbabilities } from './train/inference/predict';
export { Recogniser, type AudioPrediction, type StageTimings } from './train/inference/recogniser';
export { useBrowserTuning, type BrowserTuning } from './tune/browser';

async function fetchBytes(url: string): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new CheckpointError(`${url}: cannot fetch (${(e as Error).message})`);
  }
  if (!response.ok) throw new CheckpointError(`${url}: HTTP ${response.status} ${response.statusText}`.trim());
  return response;
}

/** A model folder served over http: `<base>/<name>.json` and `<base>/<name>.safetensors`. */
export async function loadModelFromUrl(gpu: Gpu, base: string, name = 'model'): Promise<LoadedModel> {
  const root = new URL(base.endsWith('/') ? base : `${base}/`, globalThis.location?.href);
  const jsonUrl = new URL(`${name}.json`, root).href;
  const tensorsUrl = new URL(`${name}.safetensors`, root).href;
  const [json, tensors] = await Promise.all([fetchBytes(jsonUrl), fetchBytes(tensorsUrl)]);
  return loadModelFromBytes(gpu, {
    json: await json.text(),
    safetensors: new Uint8Array(await tensors.arrayBuffer()),
    from: { json: jsonUrl, tensors: tensorsUrl },
  });
}

export interface SessionOptions {
  /** A model folder URL, or the contents of its two files. */
  model: string | { json: string; safetensors: Uint8Array | ArrayBuffer };
  /** An existing runtime; by default one is created on navigator.gpu. */
  gpu?: Gpu;
  gpuOptions?: GpuOptions;
}

/** A runtime plus a loaded model, ready for predictAudio(bytes). */
export async function createRecogniser(opts: SessionOptions): Promise<Recogniser> {
  const gpu = opts.gpu ?? (await createBrowserGpu(opts.gpuOptions));
  const loaded =
    typeof opts.model === 'string'
      ? await loadModelFromUrl(gpu, opts.model)
      : await loadModelFromBytes(gpu, { json: opts.model.json, safetensors: new Uint8Array(opts.model.safetensors) });
  return new Recogniser(gpu, loaded);
}

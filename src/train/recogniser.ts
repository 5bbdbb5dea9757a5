// Emotion of one encoded audio clip with a loaded model, stage by stage, each stage timed: decode
// (audio-decode, librosa's scaling), prepare (resample, pre-emphasis, trim on the CPU), features (the
// WGSL feature pipeline, read back) and inference (scaler, forward pass, softmax). Browser-safe: the
// browser entry's predictAudio and the node parity test run exactly this code. The first call also
// pays for compiling the GPU pipelines; later calls reuse them.

import { decodeAudio, type DecodedAudio } from '../dsp/decode';
import { GpuFeatureExtractor } from '../dsp/gpu-features';
import { prepareClip } from '../dsp/pipeline';
import { featureRowNames } from '../dsp/reference/features82';
import type { Gpu } from '../gpu';
import { predictFeatures } from './predict';
import type { LoadedModel } from './saved-model';

export interface StageTimings {
  decodeMs: number;
  prepareMs: number;
  featuresMs: number;
  inferenceMs: number;
  totalMs: number;
}

export interface AudioPrediction {
  label: string;
  probabilities: Record<string, number>;
  timings: StageTimings;
  /** rows x featureConfig.frames, row-major, before scaling (zero-padded past `frames`). */
  features: Float32Array;
  rowNames: string[];
  /** Frames of the clip before padding or truncation. */
  frames: number;
  audio: DecodedAudio;
}

export class Recogniser {
  private readonly extractor: GpuFeatureExtractor;
  readonly rowNames: string[];

  constructor(
    readonly gpu: Gpu,
    readonly loaded: LoadedModel,
  ) {
    this.extractor = new GpuFeatureExtractor(gpu, loaded.meta.featureConfig);
    this.rowNames = featureRowNames(loaded.meta.featureConfig);
  }

  get classes(): string[] {
    return this.loaded.meta.classes;
  }

  /** Decode an encoded file (WAV, FLAC, MP3, Ogg) and predict; DecodeError or FeatureError on bad audio. */
  async predictAudio(bytes: ArrayBuffer | Uint8Array, opts: { fileName?: string } = {}): Promise<AudioPrediction> {
    const t0 = performance.now();
    const audio = await decodeAudio(bytes, { fileName: opts.fileName });
    const result = await this.predictDecoded(audio, opts);
    const decodeMs = performance.now() - t0 - result.timings.totalMs;
    return { ...result, timings: { ...result.timings, decodeMs, totalMs: result.timings.totalMs + decodeMs } };
  }

  /** Predict from samples already decoded (a microphone recording); decodeMs is 0. */
  async predictDecoded(audio: DecodedAudio, opts: { fileName?: string } = {}): Promise<AudioPrediction> {
    const t0 = performance.now();
    const signal = prepareClip(opts.fileName ?? 'audio input', audio, this.loaded.meta.featureConfig);
    const t1 = performance.now();
    const { features, frames } = await this.extractor.extract([signal]);
    const t2 = performance.now();
    const [p] = await predictFeatures(this.gpu, this.loaded, [features]);
    const t3 = performance.now();
    return {
      ...p!,
      timings: { decodeMs: 0, prepareMs: t1 - t0, featuresMs: t2 - t1, inferenceMs: t3 - t2, totalMs: t3 - t0 },
      features,
      rowNames: this.rowNames,
      frames: frames[0]!,
      audio,
    };
  }

  /** Release the model's weights and the feature tables. */
  dispose(): void {
    this.extractor.dispose();
    this.loaded.model.dispose();
  }
}

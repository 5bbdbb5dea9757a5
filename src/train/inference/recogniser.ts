// Emotion of one encoded audio clip with a loaded model, stage by stage, each stage timed: decode
// (audio-decode, librosa's scaling), prepare (resample, pre-emphasis, trim on the CPU), features (the
// WGSL feature pipeline, read back) and inference (scaler, forward pass, softmax). Browser-safe: the
// browser entry's predictAudio and the node parity test run exactly this code. The first call also
// pays for compiling the GPU pipelines (warmUp() pays it ahead); later calls reuse them. The stages
// are also callable one by one (features or streamFeatures, classify) for the microphone's streaming
// path.

import { decodeAudio, type DecodedAudio } from '../../dsp/decode';
import { clipNormalised } from '../../dsp/clip-norm';
import { GpuFeatureExtractor } from '../../dsp/gpu-features';
import { StreamingGpuFeatures } from '../../dsp/gpu-stream';
import { prepareClip } from '../../dsp/pipeline';
import { featureRowNames } from '../../dsp/reference/features82';
import type { Gpu } from '../../gpu';
import { predictFeatures, type ClassProbabilities } from './predict';
import type { LoadedModel } from '../model-files/saved-model';

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
    return this.predictPrepared(signal, audio, performance.now() - t0);
  }

  /** Predict from a prepared (resampled, pre-emphasised, trimmed) signal, e.g. a StreamingPreparer's. */
  async predictPrepared(signal: Float32Array, audio: DecodedAudio, prepareMs = 0): Promise<AudioPrediction> {
    const f = await this.features(signal);
    const c = await this.classify(f.features, f.frames);
    const timings = { decodeMs: 0, prepareMs, featuresMs: f.ms, inferenceMs: c.ms, totalMs: prepareMs + f.ms + c.ms };
    return { ...c.prediction, timings, features: f.features, rowNames: this.rowNames, frames: f.frames, audio };
  }

  /** The GPU features of one prepared signal, read back: rows x featureConfig.frames. */
  async features(signal: Float32Array): Promise<{ features: Float32Array; frames: number; ms: number }> {
    const t0 = performance.now();
    const { features, frames } = await this.extractor.extract([signal]);
    return { features, frames: frames[0]!, ms: performance.now() - t0 };
  }

  /** GPU features of a recording computed while it grows (dispose it after the recording). */
  streamFeatures(maxSeconds = 10): StreamingGpuFeatures {
    return new StreamingGpuFeatures(this.gpu, this.extractor, maxSeconds);
  }

  /** Scaler, forward pass and softmax of one features block (`frames`: its frames before padding). */
  async classify(features: Float32Array, frames?: number): Promise<{ prediction: ClassProbabilities; ms: number }> {
    const t0 = performance.now();
    // Features here come straight from the extractor: the model's per-clip normalisation, if any, is
    // applied as featuresOfFiles applies it for files (clip-norm.ts).
    const fc = this.loaded.meta.featureConfig;
    const block = clipNormalised(features, frames ?? fc.frames, fc);
    const [prediction] = await predictFeatures(this.gpu, this.loaded, [block], { lengths: frames === undefined ? undefined : [frames] });
    return { prediction: prediction!, ms: performance.now() - t0 };
  }

  /**
   * One prediction on a generated second of sound, so that the GPU pipelines are compiled before the
   * first real clip (on a software adapter compiling them takes seconds). Returns its time in ms.
   */
  async warmUp(): Promise<number> {
    const t0 = performance.now();
    const c = this.loaded.meta.featureConfig;
    const signal = Float32Array.from({ length: c.sampleRate }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 220 * i) / c.sampleRate) * Math.sin((Math.PI * i) / c.sampleRate));
    await this.classify((await this.features(signal)).features);
    return performance.now() - t0;
  }

  /** Release the model's weights and the feature tables. */
  dispose(): void {
    this.extractor.dispose();
    this.loaded.model.dispose();
  }
}

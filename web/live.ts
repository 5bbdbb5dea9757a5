// The microphone path of the demo, streaming: every chunk from the recorder goes into a
// StreamingPreparer (resampling, pre-emphasis and frame RMS as samples arrive), whose pre-emphasised
// signal feeds StreamingGpuFeatures (the per-frame GPU features of each completed block of frames).
// About once a second, while the GPU is idle, a live preview predicts from the sound so far, as if the
// recording stopped then. At stop only the rest remains: the last samples and the trim (CPU), the
// frames at the trimmed clip's edges, the whole-clip feature stage and one forward pass (GPU). A
// preview still running at stop is cut short after its features step and waited for; the wait is
// reported.

import { StreamingPreparer, type AudioPrediction, type ClassProbabilities, type Recogniser, type StreamingGpuFeatures } from '../src/browser';

const PREVIEW_EVERY_MS = 1000;

export interface LivePreview extends ClassProbabilities {
  features: Float32Array;
  frames: number;
  /** Seconds recorded when the preview started. */
  seconds: number;
}

export interface LiveResult {
  prediction: AudioPrediction;
  /** CPU time spent during the recording on preparing chunks and recording GPU blocks. */
  streamedMs: number;
  /** Time the final prediction waited for a preview that was running at stop. */
  previewWaitMs: number;
  previews: number;
}

export class LiveSession {
  private readonly preparer: StreamingPreparer;
  private readonly gpuFeatures: StreamingGpuFeatures;
  private preview: Promise<void> | null = null;
  private lastPreviewAt = -Infinity;
  private stopping = false;
  private previews = 0;

  constructor(
    private readonly recogniser: Recogniser,
    readonly sampleRate: number,
    private readonly onPreview: (p: LivePreview) => void,
    maxSeconds = 10,
  ) {
    this.preparer = new StreamingPreparer(sampleRate, recogniser.loaded.meta.featureConfig, { expectSeconds: maxSeconds });
    this.gpuFeatures = recogniser.streamFeatures(maxSeconds);
  }

  /** The raw recording so far (a view; valid until the next push). */
  get samples(): Float32Array {
    return this.preparer.samples;
  }

  push(chunk: Float32Array): void {
    this.preparer.push(chunk);
    const e = this.preparer.emphasised;
    this.gpuFeatures.advance(e, e.length);
    const now = performance.now();
    if (!this.preview && !this.stopping && now - this.lastPreviewAt >= PREVIEW_EVERY_MS && this.preparer.seconds >= 1) {
      const span = this.preparer.snapshotSpan();
      if (!span) return;
      this.lastPreviewAt = now;
      const seconds = this.preparer.seconds;
      this.preview = this.runPreview(span, seconds).finally(() => void (this.preview = null));
    }
  }

  private async runPreview(span: { start: number; end: number; emphasised: Float32Array }, seconds: number): Promise<void> {
    try {
      const f = await this.gpuFeatures.finish(span.emphasised, span.start, span.end);
      if (this.stopping) return;
      const c = await this.recogniser.classify(f.features, f.frames);
      if (this.stopping) return;
      this.previews++;
      this.onPreview({ ...c.prediction, features: f.features, frames: f.frames, seconds });
    } catch (e) {
      console.warn('live preview failed', e);
    }
  }

  /** The prediction of the whole recording (FeatureError when it is silent or too short). */
  async finish(name = 'recording'): Promise<LiveResult> {
    this.stopping = true;
    try {
      const w0 = performance.now();
      await this.preview;
      const previewWaitMs = performance.now() - w0;
      const streamedMs = this.preparer.workMs + this.gpuFeatures.workMs;
      const t0 = performance.now();
      const span = this.preparer.finishSpan(name);
      const t1 = performance.now();
      const f = await this.gpuFeatures.finish(span.emphasised, span.start, span.end);
      const t2 = performance.now();
      const c = await this.recogniser.classify(f.features, f.frames);
      const t3 = performance.now();
      const samples = this.preparer.samples;
      const audio = { samples, sampleRate: this.sampleRate, channels: 1, durationS: samples.length / this.sampleRate };
      const prediction: AudioPrediction = {
        ...c.prediction,
        timings: { decodeMs: 0, prepareMs: t1 - t0, featuresMs: t2 - t1, inferenceMs: t3 - t2, totalMs: t3 - t0 },
        features: f.features,
        rowNames: this.recogniser.rowNames,
        frames: f.frames,
        audio,
      };
      return { prediction, streamedMs, previewWaitMs, previews: this.previews };
    } finally {
      this.gpuFeatures.dispose();
    }
  }

  /** Release the GPU store without a prediction (the recording failed). */
  dispose(): void {
    this.stopping = true;
    this.gpuFeatures.dispose();
  }
}

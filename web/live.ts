// The microphone path of the demo, streaming: every chunk from the recorder goes into a
// StreamingPreparer (resampling, pre-emphasis and frame RMS of completed hops happen while recording),
// and about once a second, while the GPU is idle, a live preview runs features and the model on the
// sound so far (trimmed, at most PREVIEW_SECONDS). At stop only the rest remains: the resampler's
// tail and the trim (CPU), the features of the whole clip and one forward pass (GPU). A preview still
// running at stop is cut short after its features step and waited for; the wait is reported.

import { StreamingPreparer, type AudioPrediction, type ClassProbabilities, type Recogniser } from '../src/browser';

const PREVIEW_EVERY_MS = 1000;
const PREVIEW_SECONDS = 3;

export interface LivePreview extends ClassProbabilities {
  features: Float32Array;
  frames: number;
  /** Seconds recorded when the preview started. */
  seconds: number;
}

export interface LiveResult {
  prediction: AudioPrediction;
  /** CPU time spent preparing chunks during the recording. */
  streamedPrepareMs: number;
  /** Time the final prediction waited for a preview that was running at stop. */
  previewWaitMs: number;
  previews: number;
}

export class LiveSession {
  private readonly preparer: StreamingPreparer;
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
  }

  /** The raw recording so far (a view; valid until the next push). */
  get samples(): Float32Array {
    return this.preparer.samples;
  }

  push(chunk: Float32Array): void {
    this.preparer.push(chunk);
    const now = performance.now();
    if (!this.preview && !this.stopping && now - this.lastPreviewAt >= PREVIEW_EVERY_MS && this.preparer.seconds >= 1) {
      const signal = this.preparer.snapshot(PREVIEW_SECONDS);
      if (!signal) return;
      this.lastPreviewAt = now;
      const seconds = this.preparer.seconds;
      this.preview = this.runPreview(signal, seconds).finally(() => void (this.preview = null));
    }
  }

  private async runPreview(signal: Float32Array, seconds: number): Promise<void> {
    try {
      const f = await this.recogniser.features(signal);
      if (this.stopping) return;
      const c = await this.recogniser.classify(f.features);
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
    const w0 = performance.now();
    await this.preview;
    const previewWaitMs = performance.now() - w0;
    const streamedPrepareMs = this.preparer.workMs;
    const p0 = performance.now();
    const signal = this.preparer.finish(name);
    const prepareMs = performance.now() - p0;
    const samples = this.preparer.samples;
    const audio = { samples, sampleRate: this.sampleRate, channels: 1, durationS: samples.length / this.sampleRate };
    const prediction = await this.recogniser.predictPrepared(signal, audio, prepareMs);
    return { prediction, streamedPrepareMs, previewWaitMs, previews: this.previews };
  }
}

// The feature pipeline: decoded audio -> (resample, pre-emphasis, trim on the CPU) -> 82 x frames
// features from a FeatureExtractor (the WGSL one on the GPU; the float64 reference for checks), for a
// batch of clips at once. Clips that cannot yield features (all-silent, too short) are reported with a
// reason, and the rest of the batch still goes through. Browser-safe: no file access here.

import { defaultFeatureConfig, type FeatureConfig } from './config';
import type { DecodedAudio } from './decode';
import { prepareSignal } from './prepare';
import { features82, featureRowNames } from './reference/features82';

/** Turns prepared (trimmed) signals into a [clips, rows, frames] float32 block. */
export interface FeatureExtractor {
  extract(signals: Float32Array[]): Promise<{ features: Float32Array; frames: number[] }>;
}

/** The float64 reference as an extractor: slow, exact; used by tests and as a cross-check. */
export class ReferenceExtractor implements FeatureExtractor {
  constructor(private readonly config: FeatureConfig = defaultFeatureConfig) {}

  async extract(signals: Float32Array[]): Promise<{ features: Float32Array; frames: number[] }> {
    const per = featureRowNames(this.config).length * this.config.frames;
    const features = new Float32Array(signals.length * per);
    const frames = signals.map((s, i) => {
      const f = features82(s, { ...this.config, pad: true });
      features.set(f.features.data, i * per);
      return f.frames;
    });
    return { features, frames };
  }
}

export class FeatureError extends Error {
  constructor(readonly reason: string, readonly fileName: string) {
    super(`${fileName}: ${reason}`);
    this.name = 'FeatureError';
  }
}

export interface ClipFeatures {
  name: string;
  /** rows x config.frames, row-major (zero-padded on the right past `frames`). */
  features: Float32Array;
  /** Frames before padding or truncation. */
  frames: number;
}

export interface Skipped {
  name: string;
  reason: string;
}

/** Resample, pre-emphasise and trim; refuse clips from which no features can come. */
export function prepareClip(name: string, audio: DecodedAudio, config: FeatureConfig): Float32Array {
  let peak = 0;
  for (const v of audio.samples) peak = Math.max(peak, Math.abs(v));
  refuseSilent(name, peak);
  return refuseShort(name, prepareSignal(audio.samples, audio.sampleRate, config).samples, config);
}

/** prepareClip's first refusal, from the peak |sample| of the decoded audio. */
export function refuseSilent(name: string, peak: number): void {
  if (peak === 0) throw new FeatureError('all-silent audio (every sample is zero): nothing is left after trimming', name);
}

/** prepareClip's second refusal, on the prepared (trimmed) signal, which it returns. */
export function refuseShort(name: string, prepared: Float32Array, config: FeatureConfig): Float32Array {
  // The width-9 Savitzky-Golay deltas need at least deltaWidth frames, as in librosa.
  const minSamples = (config.deltaWidth - 1) * config.hop;
  if (prepared.length < minSamples) {
    const ms = (n: number) => ((1000 * n) / config.sampleRate).toFixed(0);
    throw new FeatureError(
      `audio too short: ${ms(prepared.length)} ms of sound after trimming silence; the features need at least ${ms(minSamples)} ms (${config.deltaWidth} frames of hop ${config.hop})`,
      name,
    );
  }
  return prepared;
}

export class FeaturePipeline {
  readonly rowNames: string[];

  constructor(
    readonly config: FeatureConfig,
    private readonly extractor: FeatureExtractor,
  ) {
    this.rowNames = featureRowNames(config);
  }

  get featureSize(): number {
    return this.rowNames.length * this.config.frames;
  }

  /** Features of every clip that yields them; the others are listed in `skipped` with the reason. */
  async fromDecoded(items: { name: string; audio: DecodedAudio }[]): Promise<{ clips: ClipFeatures[]; skipped: Skipped[] }> {
    const ok: { name: string; signal: Float32Array }[] = [];
    const skipped: Skipped[] = [];
    for (const { name, audio } of items) {
      try {
        ok.push({ name, signal: prepareClip(name, audio, this.config) });
      } catch (e) {
        if (!(e instanceof FeatureError)) throw e;
        skipped.push({ name, reason: e.reason });
      }
    }
    if (ok.length === 0) return { clips: [], skipped };
    const { features, frames } = await this.extractor.extract(ok.map((o) => o.signal));
    const per = this.featureSize;
    const clips = ok.map((o, i) => ({ name: o.name, features: features.slice(i * per, (i + 1) * per), frames: frames[i]! }));
    return { clips, skipped };
  }
}

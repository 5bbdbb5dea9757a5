// The feature pipeline's parameters, each default written once. The whole object is data: it is
// saved with every checkpoint so that inference recomputes exactly the features training saw.

export interface FeatureConfig {
  /** Rate every clip is resampled to before any feature is computed (Hz). */
  sampleRate: number;
  /** Pre-emphasis coefficient (librosa.effects.preemphasis). */
  preEmphasis: number;
  /** Silence threshold below the loudest frame for trimming (dB). */
  topDb: number;
  nFft: number;
  hop: number;
  nMels: number;
  nMfcc: number;
  /** Savitzky-Golay window of the MFCC deltas (odd). */
  deltaWidth: number;
  nChroma: number;
  /** Chroma tuning in fractions of a bin, or 'estimate' for librosa's piptrack estimate. */
  tuning: 'estimate' | number;
  contrastBands: number;
  /** Lower edge of spectral contrast band 1 (Hz). */
  contrastFmin: number;
  contrastQuantile: number;
  rolloffPercent: number;
  /** Frames kept per clip after features82 (truncate, or zero-pad on the right when pad). */
  frames: number;
  pad: boolean;
  /**
   * Band limit (Hz): a clip recorded at a rate above twice this is first resampled to twice this
   * rate, so that every clip, whatever its recording rate, carries no content above it (a 16 kHz
   * corpus and a 48 kHz microphone then give features of the same band). Absent: no limit (the
   * feature rate's Nyquist frequency). Optional, so configs saved before it existed are unchanged.
   */
  bandLimitHz?: number;
  /**
   * Per-clip normalisation of the feature rows after extraction (clip-norm.ts: 'cms' subtracts each
   * MFCC row's mean over the clip, 'cmvn' standardises every row over the clip). Absent: none.
   * Features are cached before it, so it does not change the cache key.
   */
  clipNorm?: 'cms' | 'cmvn';
}

export const defaultFeatureConfig: Readonly<FeatureConfig> = Object.freeze({
  sampleRate: 22050,
  preEmphasis: 0.97,
  topDb: 30,
  nFft: 2048,
  hop: 512,
  nMels: 128,
  nMfcc: 20,
  deltaWidth: 9,
  nChroma: 12,
  tuning: 'estimate',
  contrastBands: 5,
  contrastFmin: 200,
  contrastQuantile: 0.02,
  rolloffPercent: 0.85,
  frames: 64,
  pad: true,
});

/** The defaults overridden by whatever `partial` sets. */
export function featureConfig(partial: Partial<FeatureConfig> = {}): FeatureConfig {
  return { ...defaultFeatureConfig, ...partial };
}

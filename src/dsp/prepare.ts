// The CPU half of the feature pipeline after decoding: resample to the feature rate
// (resample_poly port; none when the rates match), pre-emphasis, then silence trimming.
// Its output is the signal every feature (GPU or reference) is computed from.

import { defaultFeatureConfig, type FeatureConfig } from './config';
import { preemphasis } from './preemphasis';
import { resample } from './resample';
import { trimSilence } from './trim';

export interface PreparedSignal {
  /** The trimmed, pre-emphasised signal at config.sampleRate. */
  samples: Float32Array;
  /** [start, end) of the kept part within the resampled, pre-emphasised signal. */
  trimmed: [number, number];
  resampledLength: number;
}

export function prepareSignal(
  mono: Float32Array,
  sampleRate: number,
  config: FeatureConfig = defaultFeatureConfig,
): PreparedSignal {
  const y = preemphasis(resample(mono, sampleRate, config.sampleRate), config.preEmphasis);
  const { start, end } = trimSilence(y, { topDb: config.topDb, frameLength: config.nFft, hop: config.hop });
  return { samples: y.subarray(start, end), trimmed: [start, end], resampledLength: y.length };
}

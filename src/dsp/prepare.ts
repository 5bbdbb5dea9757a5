// The CPU half of the feature pipeline after decoding: resample to the feature rate
// (resample_poly port; none when the rates match; through twice the band limit first when the
// config has one and the clip's rate is above it), pre-emphasis, then silence trimming.
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

/**
 * The rates a clip recorded at `inputRate` passes through on its way to config.sampleRate: with a
 * band limit below the input's Nyquist frequency, twice the limit comes between (a polyphase
 * low-pass and back); consecutive equal rates collapse, so [r] means no resampling at all.
 */
export function resampleRates(inputRate: number, config: Pick<FeatureConfig, 'sampleRate' | 'bandLimitHz'>): number[] {
  const rates = [inputRate];
  const limit = config.bandLimitHz;
  if (limit !== undefined) {
    if (!Number.isInteger(2 * limit) || limit <= 0 || 2 * limit > config.sampleRate) throw new RangeError(`band limit ${limit} Hz: must be positive, at most half the feature rate (${config.sampleRate / 2} Hz), and twice it an integer`);
    if (inputRate > 2 * limit) rates.push(2 * limit);
  }
  rates.push(config.sampleRate);
  return rates.filter((r, i) => i === 0 || r !== rates[i - 1]);
}

export function prepareSignal(
  mono: Float32Array,
  sampleRate: number,
  config: FeatureConfig = defaultFeatureConfig,
): PreparedSignal {
  const rates = resampleRates(sampleRate, config);
  let x = mono;
  for (let k = 1; k < rates.length; k++) x = resample(x, rates[k - 1]!, rates[k]!);
  const y = preemphasis(x, config.preEmphasis);
  const { start, end } = trimSilence(y, { topDb: config.topDb, frameLength: config.nFft, hop: config.hop });
  return { samples: y.subarray(start, end), trimmed: [start, end], resampledLength: y.length };
}

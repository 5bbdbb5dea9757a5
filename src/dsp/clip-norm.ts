// Per-clip normalisation of the feature rows (FeatureConfig.clipNorm), applied to every clip's
// features after extraction and before the training split's scaler, the same way at training and
// inference (featuresOfFiles, the browser's recogniser). Statistics come from the clip's own frames
// before padding, so nothing about other clips, speakers or corpora enters:
//   'cms'  — cepstral mean subtraction: each MFCC row (the first nMfcc rows) loses its mean over the
//            clip. A fixed microphone/room response is a multiplication in the spectrum, a constant
//            added to every frame's cepstrum; subtracting the clip's mean cancels it, while the
//            deltas (already differences) and the other rows keep their level.
//   'cmvn' — every row standardised over the clip (mean 0, standard deviation 1): removes channel and
//            level from every row, at the price of the absolute levels emotion also changes.
// Padding frames (past the clip's length) stay 0, the normalised rows' mean. Browser-safe.

import type { FeatureConfig } from './config';

export type ClipNorm = 'cms' | 'cmvn';
export const CLIP_NORMS: readonly ClipNorm[] = ['cms', 'cmvn'];

/** Below this standard deviation a row is taken as constant and only centred (avoids amplifying float noise). */
const MIN_STD = 1e-6;

/**
 * The features of one clip (rows x config.frames, row-major, `length` frames before padding or
 * truncation) normalised as config.clipNorm says; the input itself when it says nothing.
 */
export function clipNormalised(features: Float32Array, length: number, config: Pick<FeatureConfig, 'frames' | 'nMfcc' | 'clipNorm'>): Float32Array {
  const mode = config.clipNorm;
  if (mode === undefined) return features;
  if (!CLIP_NORMS.includes(mode)) throw new RangeError(`clip normalisation '${mode}': expected one of ${CLIP_NORMS.join(', ')}`);
  const S = config.frames;
  const rows = features.length / S;
  if (!Number.isInteger(rows)) throw new RangeError(`clip normalisation: ${features.length} values are not whole rows of ${S} frames`);
  const T = Math.max(1, Math.min(length, S));
  const out = features.slice();
  const normalisedRows = mode === 'cms' ? Math.min(config.nMfcc, rows) : rows;
  for (let r = 0; r < normalisedRows; r++) {
    const row = out.subarray(r * S, (r + 1) * S);
    let mean = 0;
    for (let t = 0; t < T; t++) mean += row[t]!;
    mean /= T;
    let scale = 1;
    if (mode === 'cmvn') {
      let v = 0;
      for (let t = 0; t < T; t++) v += (row[t]! - mean) ** 2;
      const std = Math.sqrt(v / T);
      scale = std > MIN_STD ? 1 / std : 1;
    }
    for (let t = 0; t < T; t++) row[t] = (row[t]! - mean) * scale;
  }
  return out;
}

// The 82-row feature stack of the seed model, computed in float64 from the trimmed signal:
// mfcc(20), delta(20), delta2(20), chroma(12), zcr(1), contrast(6), centroid(1), rolloff(1),
// bandwidth(1), in that order, then cut or zero-padded on the right to `frames` columns.
// Every step is the reference function of its own file, so each can be checked on its own.

import { defaultFeatureConfig, type FeatureConfig } from '../config';
import { chromaFilterbank, chromaStft } from './chroma';
import { zeros, map, type Matrix } from './matrix';
import { melFilterbank, melPower, powerToDb } from './mel';
import { delta, mfcc } from './mfcc';
import { spectralBandwidth, spectralCentroid, spectralContrast, spectralRolloff } from './spectral';
import { stftMagnitude } from './stft';
import { estimateTuning } from './tuning';
import { zeroCrossingRate } from './zcr';

const pitchClasses = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];

/** Names of the rows of features82, in order (row blocks sized by the config). */
export function featureRowNames(config: FeatureConfig = defaultFeatureConfig): string[] {
  const numbered = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}_${i}`);
  const chroma = Array.from({ length: config.nChroma }, (_, i) =>
    config.nChroma === 12 ? `chroma_${pitchClasses[i]}` : `chroma_${i}`,
  );
  return [
    ...numbered('mfcc', config.nMfcc),
    ...numbered('mfcc_delta', config.nMfcc),
    ...numbered('mfcc_delta2', config.nMfcc),
    ...chroma,
    'zcr',
    ...numbered('contrast', config.contrastBands + 1),
    'centroid',
    'rolloff',
    'bandwidth',
  ];
}

export interface FeatureStack {
  /** [rows][config.frames] when config.pad, otherwise [rows][min(T, config.frames)]. */
  features: Matrix;
  rowNames: string[];
  /** Frames before padding or truncation, T = 1 + floor(n / hop). */
  frames: number;
  tuning: number;
}

/** Every block of the stack, unpadded, keyed by the fixture's names. */
export function featureBlocks(trimmed: Float32Array, config: FeatureConfig = defaultFeatureConfig) {
  const { sampleRate, nFft, hop } = config;
  const magnitude = stftMagnitude(trimmed, { nFft, hop });
  const melPow = melPower(magnitude, melFilterbank({ sampleRate, nFft, nMels: config.nMels }));
  const melDb = powerToDb(melPow);
  const mfccs = mfcc(melDb, config.nMfcc);
  const tuning =
    config.tuning === 'estimate'
      ? estimateTuning(map(magnitude, (x) => x * x), { sampleRate, nFft }).tuning
      : config.tuning;
  const spectral = { sampleRate, nFft };
  return {
    magnitude,
    mel_power: melPow,
    mel_db: melDb,
    mfcc: mfccs,
    mfcc_delta: delta(mfccs, config.deltaWidth, 1),
    mfcc_delta2: delta(mfccs, config.deltaWidth, 2),
    chroma: chromaStft(magnitude, chromaFilterbank({ sampleRate, nFft, nChroma: config.nChroma, tuning })),
    tuning,
    zcr: zeroCrossingRate(trimmed, { frameLength: nFft, hop }),
    contrast: spectralContrast(magnitude, {
      ...spectral,
      nBands: config.contrastBands,
      fmin: config.contrastFmin,
      quantile: config.contrastQuantile,
    }),
    centroid: spectralCentroid(magnitude, spectral),
    rolloff: spectralRolloff(magnitude, { ...spectral, rollPercent: config.rolloffPercent }),
    bandwidth: spectralBandwidth(magnitude, spectral),
  };
}

export function features82(trimmed: Float32Array, config: FeatureConfig = defaultFeatureConfig): FeatureStack {
  const b = featureBlocks(trimmed, config);
  const stack = [b.mfcc, b.mfcc_delta, b.mfcc_delta2, b.chroma, b.zcr, b.contrast, b.centroid, b.rolloff, b.bandwidth];
  const frames = b.mfcc.cols;
  const cols = config.pad ? config.frames : Math.min(frames, config.frames);
  const rows = stack.reduce((n, m) => n + m.rows, 0);
  const features = zeros(rows, cols);
  let r0 = 0;
  for (const block of stack) {
    for (let r = 0; r < block.rows; r++) {
      for (let t = 0; t < Math.min(cols, frames); t++) features.data[(r0 + r) * cols + t] = block.data[r * frames + t];
    }
    r0 += block.rows;
  }
  return { features, rowNames: featureRowNames(config), frames, tuning: b.tuning };
}

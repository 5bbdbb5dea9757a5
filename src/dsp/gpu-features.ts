// The GPU half of the feature pipeline: trimmed signals -> [clips, 82, frames] float32 features, with
// librosa 0.11 semantics (see test/fixtures/librosa/README.md). A batch of clips goes through six
// dispatches recorded into one submit: stft (power), spectralFrames (mel, centroid, bandwidth,
// roll-off, zcr, piptrack peaks), contrastExtremes (band peaks and valleys), clipStats (top_db maxima,
// tuning estimated on the GPU), postFrames (MFCC, chroma, contrast dB) and assemble (deltas,
// stacking, padding). Pipelines depend on the config only, never on the batch's sizes. The constant tables
// (window, twiddles, sparse mel filterbank, DCT, the 100 chroma filterbanks of the tuning grid,
// Savitzky-Golay weights) are built once on the CPU in float64 with the reference builders and
// uploaded once. Browser-safe: no node-only imports.

import type { Gpu, Tensor } from '../gpu';
import { assemble, postColumns, postFrames, type PostFrameOptions } from '../kernels/features82';
import { TUNING_BINS, clipStats } from '../kernels/clipstats';
import { twiddleTable } from '../kernels/fft';
import { contrastBands, pitchRange, spectralFrames, statColumns, type SpectralConstants } from '../kernels/spectral';
import { stft } from '../kernels/stft';
import { contrastExtremes } from '../kernels/contrast';
import { defaultFeatureConfig, type FeatureConfig } from './config';
import { clipBatch, type ClipBatch } from './gpu-batch';
import type { FeatureExtractor } from './pipeline';
import { chromaFilterbank } from './reference/chroma';
import { linspace, melFilterbank } from './reference/mel';
import { savgolWeights } from './reference/mfcc';
import { periodicHann } from './reference/stft';

export interface GpuFeatures {
  /** [clips, rows, config.frames] row-major. */
  features: Float32Array;
  /** Frames of each clip before padding or truncation. */
  frames: number[];
}

/** A batch's tables on the GPU (gpu-batch.ts layout). */
export interface BatchTensors {
  signal: Tensor | null;
  clips: Tensor;
  frameClip: Tensor;
  postFrame: Tensor;
  counts: Tensor;
}

/** What the per-frame stage leaves, one row per global frame. */
export interface FrameTensors {
  /** [F, bins] */
  power: Tensor;
  /** [F, nMels] */
  mel: Tensor;
  /** [F, statColumns] */
  stats: Tensor;
  /** [F, maxPeaks, 2] */
  pitch: Tensor;
  /** [F] u32 */
  pitchCount: Tensor;
}

export interface GpuFeatureTensors {
  features: Tensor;
  frames: number[];
  /** [clips, 4]: mel max dB, contrast peak max dB, contrast valley max dB, tuning. */
  clipStats: Tensor;
}

/** The constant tables of the feature kernels (also used by the streaming extractor, gpu-stream.ts). */
export interface Tables {
  window: Tensor;
  twiddles: Tensor;
  melRuns: Tensor;
  melWeights: Tensor;
  dct: Tensor;
  chromaBanks: Tensor;
  savgol: Tensor;
}

/** Mel filterbank rows as (first bin, count, weight offset, 0) runs and the packed non-zero weights. */
function sparseRows(dense: Float32Array, rows: number, cols: number): { runs: Uint32Array; weights: Float32Array } {
  const runs = new Uint32Array(rows * 4);
  const weights: number[] = [];
  for (let r = 0; r < rows; r++) {
    const row = dense.subarray(r * cols, (r + 1) * cols);
    let first = row.findIndex((v) => v !== 0);
    let last = cols - 1 - [...row].reverse().findIndex((v) => v !== 0);
    if (first < 0) [first, last] = [0, -1];
    runs.set([first, last - first + 1, weights.length, 0], r * 4);
    for (let k = first; k <= last; k++) weights.push(row[k]!);
  }
  return { runs, weights: Float32Array.from(weights.length ? weights : [0]) };
}

function dctOrtho(nMfcc: number, nMels: number): Float32Array {
  const out = new Float32Array(nMfcc * nMels);
  for (let k = 0; k < nMfcc; k++) {
    const scale = Math.sqrt((k === 0 ? 1 : 2) / nMels);
    for (let m = 0; m < nMels; m++) out[k * nMels + m] = scale * Math.cos((Math.PI * k * (2 * m + 1)) / (2 * nMels));
  }
  return out;
}

export class GpuFeatureExtractor implements FeatureExtractor {
  readonly config: FeatureConfig;
  readonly spectral: SpectralConstants;
  readonly post: PostFrameOptions;
  private tables: Tables | null = null;

  constructor(
    private readonly gpu: Gpu,
    config: Partial<FeatureConfig> = defaultFeatureConfig,
  ) {
    this.config = { ...defaultFeatureConfig, ...config };
    const c = this.config;
    if (c.deltaWidth < 3 || c.deltaWidth % 2 === 0) throw new RangeError(`deltaWidth must be odd and >= 3, got ${c.deltaWidth}`);
    this.spectral = {
      sampleRate: c.sampleRate,
      nFft: c.nFft,
      hop: c.hop,
      nMels: c.nMels,
      rollPercent: c.rolloffPercent,
      contrast: contrastBands(c.sampleRate, c.nFft, c.contrastBands, c.contrastFmin, c.contrastQuantile),
      pitch: pitchRange(c.sampleRate, c.nFft),
    };
    this.post = {
      nFft: c.nFft,
      nMels: c.nMels,
      nMfcc: c.nMfcc,
      nChroma: c.nChroma,
      contrastBands: c.contrastBands + 1,
      statColumns: statColumns(this.spectral),
      topDb: 80,
    };
  }

  /** Rows of the feature stack (82 with the default config). */
  get rows(): number {
    return postColumns(this.post) + 2 * this.config.nMfcc;
  }

  /** The constant tables, uploaded on first use and kept until dispose(). */
  buildTables(): Tables {
    if (this.tables) return this.tables;
    const g = this.gpu;
    const c = this.config;
    const bins = c.nFft / 2 + 1;
    const mel = sparseRows(melFilterbank({ sampleRate: c.sampleRate, nFft: c.nFft, nMels: c.nMels }), c.nMels, bins);
    // Estimated tunings fall on the left edges of the 0.01 grid: one filterbank per edge.
    const tunings = c.tuning === 'estimate' ? Array.from(linspace(-0.5, 0.5, TUNING_BINS + 1).subarray(0, TUNING_BINS)) : [c.tuning];
    const chroma = new Float32Array(tunings.length * c.nChroma * bins);
    tunings.forEach((tuning, i) =>
      chroma.set(chromaFilterbank({ sampleRate: c.sampleRate, nFft: c.nFft, nChroma: c.nChroma, tuning }), i * c.nChroma * bins),
    );
    const W = c.deltaWidth;
    const savgol = new Float32Array(2 * W * W);
    for (let order = 1; order <= 2; order++) {
      for (let pos = 0; pos < W; pos++) savgol.set(savgolWeights(W, order, order, pos), ((order - 1) * W + pos) * W);
    }
    g.scopes.begin();
    const tables: Tables = {
      window: g.upload(Float32Array.from(periodicHann(c.nFft)), [c.nFft], 'f32', 'features.window'),
      twiddles: g.upload(twiddleTable(c.nFft), [2 * c.nFft], 'f32', 'features.twiddles'),
      melRuns: g.upload(mel.runs, [c.nMels, 4], 'u32', 'features.melRuns'),
      melWeights: g.upload(mel.weights, [mel.weights.length], 'f32', 'features.melWeights'),
      dct: g.upload(dctOrtho(c.nMfcc, c.nMels), [c.nMfcc, c.nMels], 'f32', 'features.dct'),
      chromaBanks: g.upload(chroma, [tunings.length, c.nChroma, bins], 'f32', 'features.chromaBanks'),
      savgol: g.upload(savgol, [2, W, W], 'f32', 'features.savgol'),
    };
    // The tables live as long as the extractor: taken out of every scope (a new tensor is tracked
    // only by the innermost one, which is this fresh scope).
    for (const table of Object.values(tables)) g.untrack(table);
    g.scopes.end();
    this.tables = tables;
    return tables;
  }

  /** Features of a batch as GPU tensors (no readback); the caller disposes them. */
  extractTensor(signals: readonly Float32Array[]): GpuFeatureTensors {
    const c = this.config;
    if (signals.length === 0) throw new RangeError('extract: no signals');
    const minSamples = (c.deltaWidth - 1) * c.hop;
    signals.forEach((s, i) => {
      if (s.length < minSamples) {
        throw new RangeError(`extract: signal ${i} has ${s.length} samples; the width-${c.deltaWidth} deltas need at least ${minSamples} (${c.deltaWidth} frames)`);
      }
    });
    const batch = this.batch(signals);
    const result = this.gpu.scope(() => {
      const tables = this.uploadBatch(batch);
      return this.clipStage(this.frameStage(tables), tables);
    });
    return { ...result, frames: batch.frames };
  }

  /** The batch layout of these signals (concatenated signal, clip table, frame and post-frame lists). */
  batch(signals: readonly Float32Array[]): ClipBatch {
    return clipBatch(signals, this.config.hop, this.config.frames, (this.config.deltaWidth - 1) / 2);
  }

  /** The batch's tables on the GPU; the signal too unless `withSignal` is false (clipStage needs none). */
  uploadBatch(batch: ClipBatch, withSignal = true): BatchTensors {
    const g = this.gpu;
    return {
      signal: withSignal ? g.upload(batch.signal, [batch.signal.length], 'f32', 'features.signal') : null,
      clips: g.upload(batch.clips, [batch.clips.length], 'u32', 'features.clips'),
      frameClip: g.upload(batch.frameClip, [batch.frameClip.length], 'u32', 'features.frameClip'),
      postFrame: g.upload(batch.postFrame.length ? batch.postFrame : [0], [Math.max(1, batch.postFrame.length)], 'u32', 'features.postFrame'),
      counts: g.upload(batch.counts, [4], 'u32', 'features.counts'),
    };
  }

  /** The per-frame stage: stft, spectralFrames and contrastExtremes; every frame depends only on its own window. */
  frameStage(b: BatchTensors): FrameTensors {
    const c = this.config;
    const t = this.buildTables();
    if (!b.signal) throw new RangeError('frameStage: the batch was uploaded without its signal');
    const { signal, clips, frameClip, counts } = b;
    const { power } = stft(this.gpu, { signal, clips, frameClip, counts, window: t.window, twiddles: t.twiddles }, { nFft: c.nFft, hop: c.hop });
    const sp = spectralFrames(this.gpu, { power, signal, clips, frameClip, counts, melRuns: t.melRuns, melWeights: t.melWeights }, this.spectral);
    contrastExtremes(this.gpu, power, counts, sp.stats, { nFft: c.nFft, bands: this.spectral.contrast, statColumns: this.post.statColumns });
    return { power, mel: sp.mel, stats: sp.stats, pitch: sp.pitch, pitchCount: sp.pitchCount };
  }

  /** The whole-clip stage: clip statistics (top_db maxima, tuning), post frames and assembly. */
  clipStage(f: FrameTensors, b: BatchTensors): { features: Tensor; clipStats: Tensor } {
    const c = this.config;
    const t = this.buildTables();
    const g = this.gpu;
    const cs = clipStats(
      g,
      { clips: b.clips, mel: f.mel, stats: f.stats, pitch: f.pitch, pitchCount: f.pitchCount },
      {
        nMels: c.nMels,
        statColumns: this.post.statColumns,
        contrastBands: this.post.contrastBands,
        maxPeaks: this.spectral.pitch.maxPeaks,
        binsPerOctave: c.nChroma,
        estimateTuning: c.tuning === 'estimate',
      },
    );
    const post = postFrames(
      g,
      { power: f.power, mel: f.mel, stats: f.stats, clipStats: cs.stats, bank: cs.bank, frameClip: b.frameClip, postFrame: b.postFrame, counts: b.counts, dct: t.dct, chromaBanks: t.chromaBanks },
      this.post,
    );
    const features = assemble(g, post, b.clips, b.counts, t.savgol, {
      nMfcc: c.nMfcc,
      postColumns: postColumns(this.post),
      deltaWidth: c.deltaWidth,
      frames: c.frames,
    });
    return { features, clipStats: cs.stats };
  }

  /** Release the constant tables (a later extract uploads them again). */
  dispose(): void {
    for (const table of Object.values(this.tables ?? {})) table.dispose();
    this.tables = null;
  }

  /** Features of a batch, read back: [clips, rows, config.frames] and each clip's frame count. */
  async extract(signals: Float32Array[]): Promise<GpuFeatures> {
    const { features, frames, clipStats: stats } = this.extractTensor(signals);
    stats.dispose();
    const data = (await features.read()) as Float32Array;
    features.dispose();
    return { features: data, frames };
  }
}

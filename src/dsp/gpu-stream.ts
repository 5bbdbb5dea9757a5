// The GPU features of a recording computed while it is made. The per-frame stage of the feature
// kernels (stft, spectral, contrast: each frame depends only on the n_fft samples of its window) runs
// on blocks of frames of the pre-emphasised, untrimmed signal as soon as their windows are complete,
// into store tensors. At the end the clip is trimmed; frame t of the trimmed clip is frame first + t
// of the untrimmed signal (the trim starts on a hop boundary) wherever its window lies inside the
// trimmed clip, so only the frames whose windows cross the trimmed clip's edges (zero / edge
// padding there) are computed anew; the rows are copied together and the whole-clip stage (clip
// statistics, post frames, assembly) runs on them. Same features as GpuFeatureExtractor.extract on
// the trimmed clip (test/dsp/gpu-stream.test.ts); clips too short for this fall back to it.

import type { Gpu, Tensor } from '../gpu';
import type { FeatureConfig } from './config';
import type { FrameTensors, GpuFeatureExtractor } from './gpu-features';

/** Frames per block while recording (about 0.37 s of audio at the default config). */
const BLOCK = 16;
const STORE_KEYS = ['power', 'mel', 'stats', 'pitch', 'pitchCount'] as const;

export class StreamingGpuFeatures {
  private readonly config: FeatureConfig;
  /** Frames before a clip's start that a window reaches: frames below it see the clip's padding. */
  private readonly lead: number;
  /** Samples of a window after its frame's position. */
  private readonly after: number;
  private store: FrameTensors | null = null;
  private readonly capacity: number;
  /** Frames [0, computed) of the untrimmed signal are in the store. */
  private computed = 0;
  /** CPU time spent recording blocks (the GPU's time is not measured). */
  workMs = 0;
  /** How the last finish() got its features: from the store, or the whole clip afresh (too short). */
  lastPath: 'stream' | 'whole' | null = null;

  constructor(
    private readonly gpu: Gpu,
    private readonly extractor: GpuFeatureExtractor,
    maxSeconds = 10,
  ) {
    this.config = extractor.config;
    const half = Math.floor(this.config.nFft / 2);
    this.lead = Math.ceil(half / this.config.hop);
    this.after = this.config.nFft - half;
    this.capacity = 1 + Math.floor((maxSeconds * this.config.sampleRate) / this.config.hop) + BLOCK;
  }

  /** Frames whose windows lie inside the first n samples. */
  private finalFrames(n: number): number {
    return Math.min(this.capacity, Math.max(0, Math.floor((n - this.after) / this.config.hop) + 1));
  }

  private allocate(): FrameTensors {
    if (this.store) return this.store;
    const g = this.gpu;
    const c = this.config;
    const n = this.capacity;
    const store: FrameTensors = {
      power: g.empty([n, c.nFft / 2 + 1], 'f32', 'stream.power'),
      mel: g.empty([n, c.nMels], 'f32', 'stream.mel'),
      stats: g.empty([n, this.extractor.post.statColumns], 'f32', 'stream.stats'),
      pitch: g.empty([n, this.extractor.spectral.pitch.maxPeaks, 2], 'f32', 'stream.pitch'),
      pitchCount: g.empty([n], 'u32', 'stream.pitchCount'),
    };
    for (const t of Object.values(store)) g.untrack(t);
    this.store = store;
    return store;
  }

  /** Copy rows [from, from + count) of each per-frame tensor of src to rows starting at `to` of dst. */
  private copyRows(src: FrameTensors, from: number, dst: FrameTensors, to: number, count: number): void {
    if (count <= 0) return;
    for (const k of STORE_KEYS) {
      const row = (src[k].size / src[k].shape[0]!) * 4;
      this.gpu.copy(src[k], dst[k], count * row, from * row, to * row);
    }
  }

  /**
   * Run the per-frame stage on every complete block of frames of the first n samples of the
   * pre-emphasised signal y (all remaining final frames, up to frame upTo, when `all`), and submit
   * the work.
   */
  advance(y: Float32Array, n: number, all = false, upTo = Infinity): void {
    const target = Math.min(this.finalFrames(n), upTo);
    if (target - this.computed < (all ? 1 : BLOCK)) return;
    const t0 = performance.now();
    const store = this.allocate();
    const c = this.config;
    const from = this.computed;
    const first = Math.max(0, from - this.lead);
    // The segment starts on a hop boundary, so its frame j is frame first + j of the signal.
    const segment = y.subarray(first * c.hop, Math.min(n, (target - 1) * c.hop + this.after));
    this.gpu.scope(() => {
      const frames = this.extractor.frameStage(this.extractor.uploadBatch(this.extractor.batch([segment])));
      this.copyRows(frames, from - first, store, from, target - from);
    });
    this.computed = target;
    this.gpu.flush();
    this.workMs += performance.now() - t0;
  }

  /**
   * The features of the trimmed clip y[start, end) of the whole pre-emphasised signal y (rows x
   * config.frames, as GpuFeatureExtractor.extract gives them) and its frame count.
   */
  async finish(y: Float32Array, start: number, end: number): Promise<{ features: Float32Array; frames: number }> {
    const c = this.config;
    const trimmed = y.subarray(start, end);
    const len = trimmed.length;
    const T = 1 + Math.floor(len / c.hop);
    const first = start / c.hop;
    // Rows [tA, tB) come from the store; the others see the trimmed clip's edges.
    const tA = start === 0 ? 0 : this.lead;
    const inside = Math.min(T, Math.floor((len - this.after) / c.hop) + 1);
    if (Number.isInteger(first)) this.advance(y, y.length, true, first + inside);
    const tB = Math.min(inside, this.computed - first);
    if (!Number.isInteger(first) || tB - tA < 1 || tB < this.lead || !this.store) return this.whole(trimmed);
    this.lastPath = 'stream';
    const store = this.store;
    const features = this.gpu.scope(() => {
      const head = tA > 0 ? trimmed.subarray(0, Math.min(len, (tA - 1) * c.hop + this.after)) : null;
      const tail = tB < T ? trimmed.subarray((tB - this.lead) * c.hop) : null;
      const edges = [head, tail].filter((s): s is Float32Array => s !== null);
      const edgeBatch = edges.length ? this.extractor.batch(edges) : null;
      const edgeFrames = edgeBatch ? this.extractor.frameStage(this.extractor.uploadBatch(edgeBatch)) : null;
      const rows = this.allocateLike(store, T);
      if (head) this.copyRows(edgeFrames!, 0, rows, 0, tA);
      this.copyRows(store, first + tA, rows, tA, tB - tA);
      if (tail) this.copyRows(edgeFrames!, (head ? edgeBatch!.frames[0]! : 0) + this.lead, rows, tB, T - tB);
      const out = this.extractor.clipStage(rows, this.extractor.uploadBatch(this.extractor.batch([trimmed]), false));
      out.clipStats.dispose();
      return out.features;
    });
    try {
      return { features: (await features.read()) as Float32Array, frames: T };
    } finally {
      features.dispose();
    }
  }

  private allocateLike(store: FrameTensors, rows: number): FrameTensors {
    const out = {} as Record<(typeof STORE_KEYS)[number], Tensor>;
    for (const k of STORE_KEYS) out[k] = this.gpu.empty([rows, ...store[k].shape.slice(1)], store[k].dtype, `stream.clip.${k}`);
    return out;
  }

  private async whole(trimmed: Float32Array): Promise<{ features: Float32Array; frames: number }> {
    this.lastPath = 'whole';
    const { features, frames } = await this.extractor.extract([trimmed]);
    return { features, frames: frames[0]! };
  }

  /** Release the store. */
  dispose(): void {
    for (const t of Object.values(this.store ?? {})) t.dispose();
    this.store = null;
    this.computed = 0;
  }
}

// The CPU half of the feature pipeline (prepare.ts: resample, pre-emphasis, silence trimming) done
// on a stream, for the microphone: every push of raw samples resamples, pre-emphasises and takes the
// frame RMS of whatever is already final, so at the end only the last few hundred samples and the
// trim (which needs the loudest frame of the whole clip) remain. finish() returns exactly what
// prepareSignal/prepareClip return for the whole recording (bit-identical; test/dsp/stream.test.ts),
// and snapshotSpan() the same for what has arrived so far, for live previews. Browser-safe.

import type { FeatureConfig } from './config';
import { preemphasisRange } from './preemphasis';
import { checkResampleRates, polyphaseFilter, polyphaseOutputs, polyphaseReady, resampledLength, type PolyphaseFilter } from './resample';
import { refuseShort, refuseSilent } from './pipeline';
import { resampleRates } from './prepare';
import { frameRmsRange, trimBounds } from './trim';

/** A growable float array: a view of the first `length` values of a buffer that doubles when full. */
class Grow<T extends Float32Array | Float64Array> {
  length = 0;
  constructor(public data: T) {}

  reserve(n: number): void {
    if (n <= this.data.length) return;
    const bigger = new (this.data.constructor as new (n: number) => T)(Math.max(n, 2 * this.data.length));
    bigger.set(this.data.subarray(0, this.length));
    this.data = bigger;
  }

  view(): T {
    return this.data.subarray(0, this.length) as T;
  }
}

export class StreamingPreparer {
  private readonly raw: Grow<Float32Array>;
  /**
   * The resampling stages (prepare.ts resampleRates: none when the rates match, two with a band
   * limit below the input's Nyquist frequency), each reading the previous one's output (the first,
   * the raw buffer) into its own buffer.
   */
  private readonly stages: { from: number; to: number; filter: PolyphaseFilter; out: Grow<Float32Array> }[];
  private readonly pre: Grow<Float32Array>;
  private readonly rms = new Grow(new Float64Array(256));
  private peak = 0;
  private done = false;
  /** CPU time spent in push() so far (ms). */
  workMs = 0;

  constructor(
    readonly inputRate: number,
    readonly config: FeatureConfig,
    opts: { expectSeconds?: number } = {},
  ) {
    checkResampleRates(inputRate, config.sampleRate);
    const seconds = opts.expectSeconds ?? 10;
    this.raw = new Grow(new Float32Array(Math.ceil(seconds * inputRate) + 1024));
    const rates = resampleRates(inputRate, config);
    this.stages = rates.slice(1).map((to, k) => ({ from: rates[k]!, to, filter: polyphaseFilter(rates[k]!, to), out: new Grow(new Float32Array(Math.ceil(seconds * to) + 1024)) }));
    this.pre = new Grow(new Float32Array(Math.ceil(seconds * config.sampleRate) + 1024));
  }

  /** Raw samples received so far (a view; valid until the next push). */
  get samples(): Float32Array {
    return this.raw.view();
  }

  get seconds(): number {
    return this.raw.length / this.inputRate;
  }

  /** Append raw mono samples; the work that is final already is done at once. */
  push(chunk: Float32Array): void {
    if (this.done) throw new Error('StreamingPreparer: push after finish');
    const t0 = performance.now();
    this.raw.reserve(this.raw.length + chunk.length);
    this.raw.data.set(chunk, this.raw.length);
    this.raw.length += chunk.length;
    for (const v of chunk) this.peak = Math.max(this.peak, Math.abs(v));
    this.advance(false);
    this.workMs += performance.now() - t0;
  }

  /** Brings each stage as far as its inputs allow; at the end (last) every stage completes. */
  private advance(last: boolean): void {
    const c = this.config;
    // Resample, stage by stage: outputs that no later input can change; at the end, all of them.
    let y = this.raw;
    for (const { from, to, filter, out: r } of this.stages) {
      const nIn = y.length;
      const target = last ? resampledLength(nIn, from, to) : polyphaseReady(filter, nIn);
      if (target > r.length) {
        r.reserve(target);
        polyphaseOutputs(filter, y.data, nIn, r.length, target, r.data);
        r.length = target;
      }
      y = r;
    }
    // Pre-emphasis: sample 0 waits for sample 1 (its initial state), unless the signal ends first.
    const e = this.pre;
    const n = y.length;
    const from = e.length;
    const to = n >= 2 || last ? n : 0;
    if (to > from) {
      e.reserve(to);
      preemphasisRange(y.data, n, from, to, e.data, c.preEmphasis);
      e.length = to;
    }
    // Frame RMS of the emphasised signal: frame t is final once its window is complete.
    const half = Math.floor(c.nFft / 2);
    const frames = last ? 1 + Math.floor(e.length / c.hop) : Math.max(0, Math.floor((e.length + half - c.nFft) / c.hop) + 1);
    if (frames > this.rms.length) {
      this.rms.reserve(frames);
      frameRmsRange(e.data, e.length, c.nFft, c.hop, this.rms.length, frames, this.rms.data);
      this.rms.length = frames;
    }
  }

  /** The pre-emphasised signal at the feature rate so far: every value in it is final (a view). */
  get emphasised(): Float32Array {
    return this.pre.view();
  }

  /**
   * The prepared clip of the whole recording: the trimmed, pre-emphasised signal at the feature rate,
   * as prepareClip computes it (FeatureError for an all-silent or too short recording).
   */
  finish(name = 'recording'): Float32Array {
    return this.finishSpan(name).signal;
  }

  /** finish(), with where the clip lies in the whole pre-emphasised signal: signal = emphasised[start, end). */
  finishSpan(name = 'recording'): { signal: Float32Array; start: number; end: number; emphasised: Float32Array } {
    if (!this.done) {
      this.advance(true);
      this.done = true;
    }
    refuseSilent(name, this.peak);
    const e = this.pre;
    const { start, end } = trimBounds(this.rms.data, this.rms.length, e.length, this.config.topDb, this.config.hop);
    return { signal: refuseShort(name, e.data.subarray(start, end), this.config), start, end, emphasised: e.view() };
  }

  /**
   * What finishSpan would give if the recording stopped now (the trim from the frames complete so
   * far), or null while there is too little sound for features. For live previews: the final clip may
   * trim differently once louder frames arrive. The views stay valid: later pushes only append.
   */
  snapshotSpan(): { signal: Float32Array; start: number; end: number; emphasised: Float32Array } | null {
    const c = this.config;
    if (this.peak === 0 || this.rms.length === 0) return null;
    const e = this.pre.view();
    const { start, end } = trimBounds(this.rms.data, this.rms.length, e.length, c.topDb, c.hop);
    if (end - start < (c.deltaWidth - 1) * c.hop) return null;
    return { signal: e.subarray(start, end), start, end, emphasised: e };
  }
}

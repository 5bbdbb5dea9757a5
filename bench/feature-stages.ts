// The feature kernels one by one, on a batch of 32 clips of about 4 s (22050 Hz; n_fft 2048, hop
// 512: ~5 500 frames), with the inputs each stage gets inside GpuFeatureExtractor: rfft (the plain
// row FFT), stft (framing, Hann window, real FFT, power), spectralFrames (mel 128, centroid,
// bandwidth, roll-off, zcr, piptrack peaks), contrastExtremes, clipStats (top_db maxima, tuning),
// postFrames (MFCC 20, chroma 12, contrast dB) and assemble (deltas, stacking, padding to 64 frames),
// then all six in one submit. The clips are the project's synthetic voice (src/train/data/synth.ts),
// concatenated per clip up to the target length, so pitch tracking and contrast see speech-like
// spectra. FFT GFLOP/s uses the conventional 2.5 N log2 N flops of a real transform of length N.
// A stage's earlier stages run once in setup; run() records only that stage and frees its outputs.

import type { Gpu, Tensor } from '../src/gpu';
import { defaultFeatureConfig } from '../src/dsp/config';
import { clipBatch } from '../src/dsp/gpu-batch';
import { GpuFeatureExtractor } from '../src/dsp/gpu-features';
import { clipStats } from '../src/kernels/clipstats';
import { contrastExtremes } from '../src/kernels/contrast';
import { assemble, postColumns, postFrames, type PostFrameOptions } from '../src/kernels/features82';
import { rfft } from '../src/kernels/fft';
import { spectralFrames, type SpectralConstants } from '../src/kernels/spectral';
import { stft } from '../src/kernels/stft';
import { synthCorpus } from '../src/train/data/synth';
import type { BenchCase } from './harness';
import { BATCH, randomTensor } from './util';

const cfg = defaultFeatureConfig;
const BINS = cfg.nFft / 2 + 1;
const FFT_FLOPS = 2.5 * cfg.nFft * Math.log2(cfg.nFft);

/** Samples of each clip: 3.5 to 4.5 s. */
const CLIP_LENGTHS = Array.from({ length: BATCH }, (_, i) => Math.round((3.5 + (i % 5) * 0.25) * cfg.sampleRate));
const FRAMES = CLIP_LENGTHS.reduce((n, len) => n + 1 + Math.floor(len / cfg.hop), 0);

let clipCache: Float32Array[] | null = null;
/** 32 speech-like clips of 3.5 to 4.5 s, deterministic (synthesised on first use). */
export function benchClips(): Float32Array[] {
  if (clipCache) return clipCache;
  const voices = synthCorpus({ speakers: 4, clipsPerClassPerSpeaker: 1 }).map((c) => c.samples);
  clipCache = CLIP_LENGTHS.map((len, i) => {
    const out = new Float32Array(len);
    for (let at = 0, k = i; at < out.length; k++) {
      const v = voices[k % voices.length]!;
      out.set(v.subarray(0, out.length - at), at);
      at += v.length;
    }
    return out;
  });
  return clipCache;
}

type Stage = 'stft' | 'spectral' | 'contrast' | 'clipStats' | 'post' | 'assemble';
const STAGES: Stage[] = ['stft', 'spectral', 'contrast', 'clipStats', 'post', 'assemble'];

/** The extractor's constants (kept private there; TypeScript allows bracket access for this). */
function internals(ex: GpuFeatureExtractor) {
  const tables = ex['buildTables']();
  return { tables, spectral: ex['spectral'] as SpectralConstants, post: ex['post'] as PostFrameOptions };
}

/** The batch's input tensors and a runner of each stage over a shared state (in stage order). */
function pipeline(gpu: Gpu, ex: GpuFeatureExtractor) {
  const { tables: t, spectral, post: postOpts } = internals(ex);
  const b = clipBatch(benchClips(), cfg.hop, cfg.frames, (cfg.deltaWidth - 1) / 2);
  const inputs = {
    clips: gpu.upload(b.clips, [b.clips.length], 'u32'),
    frameClip: gpu.upload(b.frameClip, [b.frameClip.length], 'u32'),
    signal: gpu.upload(b.signal, [b.signal.length]),
    counts: gpu.upload(b.counts, [4], 'u32'),
    postFrame: gpu.upload(b.postFrame, [b.postFrame.length], 'u32'),
  };
  const { clips, frameClip, signal, counts, postFrame } = inputs;
  const s: Partial<Record<'power' | 'mel' | 'stats' | 'pitch' | 'pitchCount' | 'cstats' | 'bank' | 'post' | 'features', Tensor>> = {};
  const run: Record<Stage, () => Tensor[]> = {
    stft: () => [(s.power = stft(gpu, { signal, clips, frameClip, counts, window: t.window, twiddles: t.twiddles }, { nFft: cfg.nFft, hop: cfg.hop }).power)],
    spectral: () => {
      const o = spectralFrames(gpu, { power: s.power!, signal, clips, frameClip, counts, melRuns: t.melRuns, melWeights: t.melWeights }, spectral);
      Object.assign(s, o);
      return Object.values(o);
    },
    contrast: () => {
      contrastExtremes(gpu, s.power!, counts, s.stats!, { nFft: cfg.nFft, bands: spectral.contrast, statColumns: postOpts.statColumns });
      return [];
    },
    clipStats: () => {
      const o = clipStats(gpu, { clips, mel: s.mel!, stats: s.stats!, pitch: s.pitch!, pitchCount: s.pitchCount! }, {
        nMels: cfg.nMels, statColumns: postOpts.statColumns, contrastBands: postOpts.contrastBands,
        maxPeaks: spectral.pitch.maxPeaks, binsPerOctave: cfg.nChroma, estimateTuning: cfg.tuning === 'estimate',
      });
      [s.cstats, s.bank] = [o.stats, o.bank];
      return [o.stats, o.bank];
    },
    post: () => [
      (s.post = postFrames(gpu, {
        power: s.power!, mel: s.mel!, stats: s.stats!, clipStats: s.cstats!, bank: s.bank!, frameClip, postFrame, counts, dct: t.dct, chromaBanks: t.chromaBanks,
      }, postOpts)),
    ],
    assemble: () => [
      (s.features = assemble(gpu, s.post!, clips, counts, t.savgol, { nMfcc: cfg.nMfcc, postColumns: postColumns(postOpts), deltaWidth: cfg.deltaWidth, frames: cfg.frames })),
    ],
  };
  if (b.frameClip.length !== FRAMES) throw new Error(`bench: ${b.frameClip.length} frames, expected ${FRAMES}`);
  return { run, inputs: Object.values(inputs) };
}

function stageCase(stage: Stage, guard: boolean): BenchCase {
  const frames = FRAMES;
  const work: Partial<Record<Stage, Pick<BenchCase, 'flops' | 'bytes'>>> = {
    stft: { flops: frames * FFT_FLOPS, bytes: frames * (cfg.nFft + BINS) * 4 },
    spectral: { bytes: frames * BINS * 4 },
    contrast: { bytes: frames * BINS * 4 },
  };
  return {
    group: 'features-kernels',
    name: `${stage} ${BATCH} clips ~4 s (${frames} frames)`,
    ...work[stage],
    guard,
    setup(gpu) {
      const ex = new GpuFeatureExtractor(gpu, cfg);
      const p = pipeline(gpu, ex);
      const before: Tensor[] = [];
      for (const st of STAGES.slice(0, STAGES.indexOf(stage))) before.push(...p.run[st]());
      return {
        run: () => p.run[stage]().forEach((x) => x.dispose()),
        dispose: () => {
          [...before, ...p.inputs].forEach((x) => x.dispose());
          ex.dispose();
        },
      };
    },
  };
}

function rfftCase(): BenchCase {
  const rows = FRAMES;
  return {
    group: 'features-kernels',
    name: `rfft ${rows}x${cfg.nFft}`,
    flops: rows * FFT_FLOPS,
    bytes: rows * (cfg.nFft + 2 * BINS) * 4,
    guard: true,
    setup(gpu) {
      const x = randomTensor(gpu, [rows, cfg.nFft]);
      const ex = new GpuFeatureExtractor(gpu, cfg);
      const { tables } = internals(ex);
      return { run: () => rfft(gpu, x, tables.twiddles).dispose(), dispose: () => (x.dispose(), ex.dispose()) };
    },
  };
}

function allStagesCase(): BenchCase {
  const frames = FRAMES;
  const seconds = CLIP_LENGTHS.reduce((a, b) => a + b, 0) / cfg.sampleRate;
  return {
    group: 'features-kernels',
    name: `all six stages ${BATCH} clips ~4 s, no readback`,
    flops: frames * FFT_FLOPS,
    items: { count: seconds, unit: 's audio' },
    setup(gpu) {
      const ex = new GpuFeatureExtractor(gpu, cfg);
      const p = pipeline(gpu, ex);
      return {
        run: () => STAGES.flatMap((st) => p.run[st]()).forEach((x) => x.dispose()),
        dispose: () => (p.inputs.forEach((x) => x.dispose()), ex.dispose()),
      };
    },
  };
}

export function featureStageCases(): BenchCase[] {
  return [rfftCase(), ...STAGES.map((st) => stageCase(st, st !== 'contrast')), allStagesCase()];
}

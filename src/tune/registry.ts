// The tuner's registry: every kernel family with more than one implementation, its candidates (only
// variants the kernel tests cover: test/kernels/conv2d.test.ts, winograd.test.ts, winograd-gemm-tiled.test.ts, subgroups.test.ts,
// image-textures.test.ts, matmul-tiled.test.ts, batchnorm-wg.test.ts, conv1x1-tiled.test.ts, stem-tiled.test.ts,
// test/tune/dispatch.test.ts) and the shapes the SER model
// runs them at for a given batch (SEED_MODEL: 82x64x1 inputs, blocks halving H and W, dense head).
// Each case sets up inputs once and records one run of the work that family's choice affects, returning
// its outputs (the tuner's correctness gate, gate.ts, compares them with the default's on the adapter):
//   conv2d.forward / .input-grad / .filter-grad  per 3x3 layer: winograd4 (default), winograd2, direct
//   subgroups        (where the device has them)  the Winograd block convs, all passes: on (default), off
//   image-textures                                 the Winograd block convs, all passes: on (default), off
//   winograd.gemm    per 3x3 layer and pass (forward S = Cin -> D = Cout, input grad Cout -> Cin; one case
//                    where both are the same GEMM): the Winograd F(4,3) GEMM pass alone, lanes (default),
//                    tiled8, tiled16 (winograd-gemm-tiled.ts)
//   winograd.reduce  per 3x3 layer: the filter gradient's reduction over tiles and the Gᵀ·G pass after it,
//                    lanes (default), tiled8, tiled16
//   matmul           per dense product: compact (default: one shader for every layout), register,
//                    tiled8, tiled16 (matmul-tiled.ts). The
//                    tiled kernels were held back once (a wrong result seen in one shared test process,
//                    never reproduced); the gate now keeps a variant whose check run disagrees with
//                    the default on the adapter at hand from being chosen.
//   batchnorm.statistics / .grad-sums  per BN activation shape (modelBatchNorms): lanes (default), tree
//                    (batchnorm-wg.ts); the case records the whole training forward (statistics and
//                    normalisation) or backward (sums and dx), with the fused ReLU where the model has it.
//   conv1x1.forward / .input-grad / .filter-grad  per residual shortcut (modelShortcuts, the 1x1 convs
//                    on the GEMM path): lanes (default; 'direct' for the filter gradient), tiled8,
//                    tiled16 (conv1x1-tiled.ts); the case records that pass of the model's call.
//   stem.forward     the stem conv (1 -> stem filters at the input resolution, bias): gather (default),
//                    tile16x16, tile8x32 (stem-tiled.ts; candidates the device's limits exclude are left out).
//   fft.workgroup    the feature STFT at the feature config's n_fft (batch clips of 3 s): wg64 (default),
//                    wg256 (fft.ts).
// Browser-safe.

import type { Gpu, Tensor } from '../gpu';
import { withVariant } from '../gpu/choices';
import { type ModelConfig, SEED_MODEL } from '../nn/model';
import { conv2d, conv2dGeometry, usePointwiseGemm } from '../kernels/conv2d';
import { CONV1X1_FAMILY, CONV1X1_VARIANTS, conv1x1ShapeKey } from '../kernels/conv1x1-tiled';
import { conv2dBackwardFilter, conv2dBackwardInput } from '../kernels/conv2d-grad';
import { CONV_FAMILY, CONV_VARIANTS, DEFAULT_CONV_VARIANT, type ConvPass, convShapeKey } from '../kernels/conv-variants';
import { batchNormBackward, batchNormTrain } from '../kernels/batchnorm';
import { BN_GRAD_FAMILY, BN_STATS_FAMILY, BN_VARIANTS, bnShapeKey } from '../kernels/batchnorm-wg';
import { STEM_FORWARD_FAMILY, STEM_FORWARD_VARIANTS, stemShapeKey, stemVariantFits } from '../kernels/stem-tiled';
import { FFT_FAMILY, FFT_VARIANTS, twiddleTable } from '../kernels/fft';
import { stft } from '../kernels/stft';
import { clipBatch } from '../dsp/gpu-batch';
import { defaultFeatureConfig } from '../dsp/config';
import { MATMUL_FAMILY, MATMUL_VARIANTS, matmul, matmulShapeKey } from '../kernels/matmul';
import { SUBGROUPS_FAMILY, SUBGROUPS_SHAPE } from '../kernels/subgroups';
import { TEXTURES_FAMILY, TEXTURES_SHAPE, winogradFits, winogradGemm } from '../kernels/winograd';
import { filterFromTiles } from '../kernels/winograd-filter-grad';
import { WINOGRAD_GEMM_FAMILY, WINOGRAD_GEMM_VARIANTS, WINOGRAD_REDUCE_FAMILY, winogradGemmShapeKey } from '../kernels/winograd-gemm-tiled';

/** The matmul variants the tuner may choose: all of them, the default ('compact') first. */
const SELECTABLE_MATMUL_VARIANTS = MATMUL_VARIANTS;

export interface CaseWork {
  run: () => Tensor[];
  dispose: () => void;
}

export interface TuneCase {
  family: string;
  shape: string;
  /** Candidate variants, the built-in default first. */
  variants: readonly string[];
  /**
   * Inputs for the case; `run` records one run with the variant in force (the runtime's choice table)
   * and returns its outputs, which the caller disposes (the same for every variant: the gate compares them).
   */
  setup(gpu: Gpu): CaseWork;
}

/** Every variant name each family accepts (a cached choice outside these lists is dropped). */
export const FAMILY_VARIANTS: Readonly<Record<string, readonly string[]>> = {
  [CONV_FAMILY.forward]: Object.keys(CONV_VARIANTS),
  [CONV_FAMILY['input-grad']]: Object.keys(CONV_VARIANTS),
  [CONV_FAMILY['filter-grad']]: Object.keys(CONV_VARIANTS),
  [SUBGROUPS_FAMILY]: ['on', 'off'],
  [TEXTURES_FAMILY]: ['on', 'off'],
  [MATMUL_FAMILY]: SELECTABLE_MATMUL_VARIANTS,
  [WINOGRAD_GEMM_FAMILY]: WINOGRAD_GEMM_VARIANTS,
  [WINOGRAD_REDUCE_FAMILY]: WINOGRAD_GEMM_VARIANTS,
  [BN_STATS_FAMILY]: BN_VARIANTS,
  [BN_GRAD_FAMILY]: BN_VARIANTS,
  [FFT_FAMILY]: FFT_VARIANTS,
  [STEM_FORWARD_FAMILY]: STEM_FORWARD_VARIANTS,
  ...Object.fromEntries((['forward', 'input-grad', 'filter-grad'] as const).map((p) => [CONV1X1_FAMILY[p], CONV1X1_VARIANTS[p]])),
};

/** A conv layer of the model at its input resolution (batch left out). */
interface ConvLayer { H: number; W: number; cin: number; cout: number }

/** The model's 1x1 shortcut convs, one per block at the block's input resolution (Cin -> the block's filters). */
export function modelShortcuts(c: ModelConfig = SEED_MODEL): ConvLayer[] {
  return modelConvs(c).filter((_, i) => i % 2 === 0);
}

/** The model's 3x3 convs after the stem (stride 1, 'same'), in order: two per block. */
export function modelConvs(c: ModelConfig = SEED_MODEL): ConvLayer[] {
  let H = Math.floor(c.inputRows / 2);
  let W = Math.floor(c.inputFrames / 2);
  let cin = c.stem.filters;
  const out: ConvLayer[] = [];
  for (const b of c.blocks) {
    out.push({ H, W, cin, cout: b.filters }, { H, W, cin: b.filters, cout: b.filters });
    cin = b.filters;
    H = Math.floor(H / 2);
    W = Math.floor(W / 2);
  }
  return out;
}

/** The dense head's products at batch n: forward, dX = dY·Wᵀ and dW = Xᵀ·dY per layer (M, N, K, transA, transB). */
export function modelMatmuls(n: number, c: ModelConfig = SEED_MODEL): [number, number, number, boolean, boolean][] {
  const widths = [c.blocks.at(-1)?.filters ?? c.stem.filters, ...c.dense.map((d) => d.units), c.classes];
  const out: [number, number, number, boolean, boolean][] = [];
  for (let i = 0; i + 1 < widths.length; i++) {
    const [fin, fout] = [widths[i]!, widths[i + 1]!];
    out.push([n, fout, fin, false, false], [n, fin, fout, false, true], [fin, fout, n, true, false]);
  }
  return out;
}

/**
 * The distinct activation shapes the model's training batch norms run at, batch n: the stem's (full
 * input, with ReLU), then per block conv_a, conv_b and the shortcut at the block's input resolution
 * (relu: false, as conv_b and the shortcut; conv_a's ReLU variant shares the shape and the choice).
 */
export function modelBatchNorms(n: number, c: ModelConfig = SEED_MODEL): { shape: number[]; relu: boolean }[] {
  const out = [{ shape: [n, c.inputRows, c.inputFrames, c.stem.filters], relu: true }];
  let [H, W] = [Math.floor(c.inputRows / 2), Math.floor(c.inputFrames / 2)];
  for (const b of c.blocks) {
    out.push({ shape: [n, H, W, b.filters], relu: false });
    [H, W] = [Math.floor(H / 2), Math.floor(W / 2)];
  }
  return out.filter((l, i) => out.findIndex((o) => o.shape.join() === l.shape.join()) === i);
}

/** Inputs for one batch norm: x, dy, the parameters and a training forward's saved statistics. */
function batchNormWork(gpu: Gpu, shape: number[], relu: boolean) {
  const C = shape.at(-1)!;
  const x = random(gpu, shape);
  const p = { gamma: gpu.upload(new Float32Array(C).fill(1), [C]), beta: gpu.zeros([C]), movingMean: gpu.zeros([C]), movingVar: gpu.upload(new Float32Array(C).fill(1), [C]) };
  const dy = random(gpu, shape);
  const fwd = batchNormTrain(gpu, x, p, { relu });
  return {
    forward: (): Tensor[] => {
      const f = batchNormTrain(gpu, x, p, { relu });
      return [f.y, f.mean, f.invstd];
    },
    backward: (): Tensor[] => {
      const b = batchNormBackward(gpu, dy, x, p.gamma, fwd, relu ? { reluOutput: fwd.y } : {});
      return [b.dx, b.dgamma, b.dbeta];
    },
    dispose: () => [x, dy, fwd.y, fwd.mean, fwd.invstd, ...Object.values(p)].forEach((t) => t.dispose()),
  };
}

/** Inputs for the feature STFT of n clips of 3 s (the default feature config's rate, n_fft and hop). */
function stftWork(gpu: Gpu, n: number) {
  const { sampleRate, nFft, hop } = defaultFeatureConfig;
  const signals = Array.from({ length: n }, (_, c) => Float32Array.from({ length: 3 * sampleRate }, (_, i) => Math.sin((i + c) * 12.9898) * 0.5));
  const b = clipBatch(signals, hop, defaultFeatureConfig.frames, 4);
  const window = Float32Array.from({ length: nFft }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / nFft));
  const inputs = {
    signal: gpu.upload(b.signal, [b.signal.length]),
    clips: gpu.upload(b.clips, [b.clips.length], 'u32'),
    frameClip: gpu.upload(b.frameClip, [b.frameClip.length], 'u32'),
    counts: gpu.upload(b.counts, [4], 'u32'),
    window: gpu.upload(window, [nFft]),
    twiddles: gpu.upload(twiddleTable(nFft), [2 * nFft]),
  };
  return { run: () => [stft(gpu, inputs, { nFft, hop }).power], dispose: () => Object.values(inputs).forEach((t) => t.dispose()) };
}

function random(gpu: Gpu, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(i * 12.9898) * 0.5;
  return gpu.upload(data, shape, 'f32', 'tune.input');
}

/** Inputs for one conv layer (3x3, or k x k) and a recorder of its passes (the model's calls: 'same', bias on forward). */
function convWork(gpu: Gpu, n: number, l: ConvLayer, k = 3) {
  const xShape = [n, l.H, l.W, l.cin];
  const wShape = [k, k, l.cin, l.cout];
  const t = { x: random(gpu, xShape), w: random(gpu, wShape), bias: random(gpu, [l.cout]), dy: random(gpu, [n, l.H, l.W, l.cout]) };
  const opts = { padding: 'same' as const };
  const passes: Record<ConvPass, () => Tensor> = {
    forward: () => conv2d(gpu, t.x, t.w, { ...opts, bias: t.bias }),
    'input-grad': () => conv2dBackwardInput(gpu, t.dy, t.w, xShape, opts),
    'filter-grad': () => conv2dBackwardFilter(gpu, t.x, t.dy, wShape, opts),
  };
  return { run: (p: ConvPass) => passes[p](), dispose: () => Object.values(t).forEach((x) => x.dispose()) };
}

function forced(family: string, shape: string, variants: readonly string[], work: TuneCase['setup']): TuneCase {
  return { family, shape, variants, setup: work };
}

/** Every case for this runtime at batch `n` (candidates the device cannot run are left out). */
export function tuneCases(gpu: Gpu, n: number, config: ModelConfig = SEED_MODEL): TuneCase[] {
  const cases: TuneCase[] = [];
  const maxBinding = gpu.limits.maxStorageBufferBindingSize;
  const convs = modelConvs(config);
  for (const l of convs) {
    const g = conv2dGeometry('tune', [n, l.H, l.W, l.cin], [3, 3, l.cin, l.cout], { padding: 'same' });
    const variants = Object.keys(CONV_VARIANTS).filter((v) => v === 'direct' || winogradFits(g, maxBinding, CONV_VARIANTS[v]!.winogradTile ?? 4));
    if (variants.length < 2) continue;
    for (const pass of ['forward', 'input-grad', 'filter-grad'] as const) {
      cases.push(forced(CONV_FAMILY[pass], convShapeKey(g), variants, (gpu) => {
        const w = convWork(gpu, n, l);
        return { run: () => [w.run(pass)], dispose: w.dispose };
      }));
    }
  }
  cases.push(...winogradGemmCases(gpu, n, convs));
  for (const l of modelShortcuts(config)) {
    if (!usePointwiseGemm(gpu, conv2dGeometry('tune', [n, l.H, l.W, l.cin], [1, 1, l.cin, l.cout], { padding: 'same' }))) continue;
    for (const pass of ['forward', 'input-grad', 'filter-grad'] as const) {
      cases.push(forced(CONV1X1_FAMILY[pass], conv1x1ShapeKey(l.H, l.W, l.cin, l.cout), CONV1X1_VARIANTS[pass], (gpu) => {
        const w = convWork(gpu, n, l, 1);
        return { run: () => [w.run(pass)], dispose: w.dispose };
      }));
    }
  }
  const stem = { H: config.inputRows, W: config.inputFrames, cin: 1, cout: config.stem.filters };
  const sg = conv2dGeometry('tune', [n, stem.H, stem.W, 1], [3, 3, 1, stem.cout], { padding: 'same' });
  const stemVariants = STEM_FORWARD_VARIANTS.filter((v, i) => i === 0 || stemVariantFits(gpu.limits, sg, v));
  if (stemVariants.length > 1) {
    cases.push(forced(STEM_FORWARD_FAMILY, stemShapeKey(sg), stemVariants, (gpu) => {
      const w = convWork(gpu, n, stem);
      return { run: () => [w.run('forward')], dispose: w.dispose };
    }));
  }
  // Device-wide switches, timed on every pass of the block convs that run as Winograd.
  const blockWork = (gpu: Gpu) => {
    const works = convs.map((l) => convWork(gpu, n, l));
    const passes = ['forward', 'input-grad', 'filter-grad'] as const;
    return { run: () => works.flatMap((w) => passes.map((p) => w.run(p))), dispose: () => works.forEach((w) => w.dispose()) };
  };
  if (gpu.subgroups && convs.length > 0) cases.push(forced(SUBGROUPS_FAMILY, SUBGROUPS_SHAPE, ['on', 'off'], blockWork));
  if (gpu.options.imageTextures !== false && convs.length > 0) cases.push(forced(TEXTURES_FAMILY, TEXTURES_SHAPE, ['on', 'off'], blockWork));
  for (const [M, N, K, transA, transB] of modelMatmuls(n, config)) {
    cases.push(forced(MATMUL_FAMILY, matmulShapeKey(M, N, K, transA, transB), SELECTABLE_MATMUL_VARIANTS, (gpu) => {
      const a = random(gpu, transA ? [K, M] : [M, K]);
      const b = random(gpu, transB ? [N, K] : [K, N]);
      return { run: () => [matmul(gpu, a, b, { transA, transB })], dispose: () => [a, b].forEach((t) => t.dispose()) };
    }));
  }
  for (const { shape, relu } of modelBatchNorms(n, config)) {
    for (const [family, pass] of [[BN_STATS_FAMILY, 'forward'], [BN_GRAD_FAMILY, 'backward']] as const) {
      cases.push(forced(family, bnShapeKey(shape), BN_VARIANTS, (gpu) => {
        const w = batchNormWork(gpu, shape, relu);
        return { run: w[pass], dispose: w.dispose };
      }));
    }
  }
  cases.push(forced(FFT_FAMILY, String(defaultFeatureConfig.nFft), FFT_VARIANTS, (gpu) => stftWork(gpu, n)));
  return cases;
}

/**
 * The Winograd F(4,3) GEMM pass (forward and input grad) and filter-gradient reduction of each layer
 * that runs as Winograd, on random transformed tiles (the transforms are the same for every variant).
 */
function winogradGemmCases(gpu: Gpu, n: number, convs: readonly ConvLayer[]): TuneCase[] {
  const m = 4;
  const P = (m + 2) ** 2;
  const cases = new Map<string, TuneCase>();
  for (const l of convs) {
    const g = conv2dGeometry('tune', [n, l.H, l.W, l.cin], [3, 3, l.cin, l.cout], { padding: 'same' });
    if (!winogradFits(g, gpu.limits.maxStorageBufferBindingSize, m)) continue;
    const T = n * Math.ceil(l.H / m) * Math.ceil(l.W / m);
    for (const [S, D] of [[l.cin, l.cout], [l.cout, l.cin]] as const) {
      const shape = winogradGemmShapeKey(m, l.H, l.W, S, D);
      cases.set(`${WINOGRAD_GEMM_FAMILY}|${shape}`, forced(WINOGRAD_GEMM_FAMILY, shape, WINOGRAD_GEMM_VARIANTS, (gpu) => {
        const [v, u] = [random(gpu, [P, T, S]), random(gpu, [P, S, D])];
        return { run: () => [winogradGemm(gpu, v, u, shape)], dispose: () => [v, u].forEach((t) => t.dispose()) };
      }));
    }
    const shape = winogradGemmShapeKey(m, l.H, l.W, l.cin, l.cout);
    cases.set(`${WINOGRAD_REDUCE_FAMILY}|${shape}`, forced(WINOGRAD_REDUCE_FAMILY, shape, WINOGRAD_GEMM_VARIANTS, (gpu) => {
      const [v, z] = [random(gpu, [P, T, l.cin]), random(gpu, [P, T, l.cout])];
      return { run: () => [filterFromTiles(gpu, g, m, v, z)], dispose: () => [v, z].forEach((t) => t.dispose()) };
    }));
  }
  return [...cases.values()];
}

/** Record one run of `c` with `variant` in force; its outputs. */
export function runVariant(gpu: Gpu, c: TuneCase, run: () => Tensor[], variant: string): Tensor[] {
  return withVariant(gpu, c.family, c.shape, variant, run);
}

/** The default of a family (the first candidate of its variant list). */
export const defaultVariant = (family: string): string => FAMILY_VARIANTS[family]?.[0] ?? DEFAULT_CONV_VARIANT;

// GPU-shaped variants of the 1x1 stride-1 unpadded convolution's three passes (the model's residual
// shortcuts), chosen per adapter and layer by the tuner (src/tune/registry.ts) through the runtime's
// choice table (src/gpu/choices.ts). With x [N,H,W,Cin] as the matrix [M = N*H*W, Cin] and the filter
// [1,1,Cin,Cout] as [Cin, Cout], every pass is one GEMM:
//   conv1x1.forward      y  [M, Cout] = x [M, Cin] · w [Cin, Cout] (+ bias)    default 'lanes': conv1x1.ts
//   conv1x1.input-grad   dx [M, Cin]  = dy [M, Cout] · wᵀ [Cout, Cin]          default 'lanes': conv2d-grad.ts
//   conv1x1.filter-grad  dw [Cin, Cout] = xᵀ [Cin, M] · dy [M, Cout]           default 'direct': conv2d-grad.ts
// (the defaults are the lavapipe-shaped Winograd GEMM with one position, winograd.ts batchedGemm, and
// the direct filter-gradient kernel). The variants 'tiled8' (8x8 = 64 invocations, 32x32 blocks) and
// 'tiled16' (16x16 = 256 invocations, 64x64 blocks) run the workgroup-memory tiled GEMM of
// matmul-tiled.ts: 4x4 register blocks per invocation, vec4 loads (channels are multiples of 4, so every
// operand is vec4-aligned: wᵀ is transposed once, small, as the default does; x is read as [K, M] by
// the transA path, vec4 along channels). The filter gradient reduces over M pixels, so it is split into
// chunks of pixels (split-K, reduceChunkTiles of winograd-gemm-tiled.ts) whose partial sums conv2d-grad.ts
// adds in order (deterministic). One family per pass: the three GEMMs have different shapes (the
// reduction is long and thin), so the best variant can differ per pass, as for conv2d.*.
// Shape key: the layer without the batch, "41x32x32->64" (H x W x Cin -> Cout), for all three passes.
// Fits-check (tiledConv1x1Lanes): a tiled variant runs only where conv1x1Fits holds (the callers'
// condition) and the device allows S² invocations per workgroup and the dispatch's workgroup counts;
// elsewhere the default runs.

import type { Gpu, Tensor } from '../gpu';
import type { ConvPass } from './conv-variants';
import { type TiledLanes, chunkCount, matmulTiled } from './matmul-tiled';
import { reduceChunkTiles, tiledGemmWorkgroups, tiledReduceWorkgroups, tiledWinogradLanes } from './winograd-gemm-tiled';
import { transpose } from './transpose';

/** Tuner family of each pass of a 1x1 conv. */
export const CONV1X1_FAMILY: Record<ConvPass, string> = {
  forward: 'conv1x1.forward',
  'input-grad': 'conv1x1.input-grad',
  'filter-grad': 'conv1x1.filter-grad',
};

/** Every variant of each pass, the built-in default (today's kernel) first. */
export const CONV1X1_VARIANTS: Record<ConvPass, readonly string[]> = {
  forward: ['lanes', 'tiled8', 'tiled16'],
  'input-grad': ['lanes', 'tiled8', 'tiled16'],
  'filter-grad': ['direct', 'tiled8', 'tiled16'],
};

/** The tuning key of a 1x1 conv layer: H x W x Cin -> Cout (no batch). */
export const conv1x1ShapeKey = (H: number, W: number, cin: number, cout: number): string => `${H}x${W}x${cin}->${cout}`;

/**
 * Lanes per side of the tiled variant chosen for this pass of the 1x1 conv of x [N,H,W,Cin] to `cout`
 * channels, where it fits this device; null: run the default kernel.
 */
export function tiledConv1x1Lanes(gpu: Gpu, pass: ConvPass, xShape: readonly number[], cout: number): TiledLanes | null {
  const [N, H, W, Cin] = xShape as [number, number, number, number];
  const M = N * H * W;
  const workgroups: Record<ConvPass, (l: TiledLanes) => readonly number[]> = {
    forward: (l) => tiledGemmWorkgroups(1, M, cout, l),
    'input-grad': (l) => tiledGemmWorkgroups(1, M, Cin, l),
    'filter-grad': (l) => tiledReduceWorkgroups(1, M, Cin, cout, l),
  };
  return tiledWinogradLanes(gpu, CONV1X1_FAMILY[pass], conv1x1ShapeKey(H, W, Cin, cout), workgroups[pass]);
}

/** y [N,H,W,Cout] = x [N,H,W,Cin] · w [1,1,Cin,Cout] (+ bias) on the tiled GEMM. */
export function conv1x1ForwardTiled(gpu: Gpu, x: Tensor, w: Tensor, bias: Tensor | undefined, lanes: TiledLanes): Tensor {
  const [N, H, W, Cin] = x.shape as [number, number, number, number];
  const Cout = w.shape[3]!;
  const M = N * H * W;
  return matmulTiled(gpu, x, w, { M, N: Cout, K: Cin, transA: false, transB: false, bias, relu: false }, lanes, { count: 1, name: 'conv1x1' }, [N, H, W, Cout]);
}

/** dx [N,H,W,Cin] = dy [N,H,W,Cout] · wᵀ on the tiled GEMM (w [1,1,Cin,Cout] transposed once). */
export function conv1x1InputGradTiled(gpu: Gpu, dy: Tensor, w: Tensor, lanes: TiledLanes): Tensor {
  const [N, H, W, Cout] = dy.shape as [number, number, number, number];
  const Cin = w.shape[2]!;
  const M = N * H * W;
  return gpu.scope(() => {
    const wT = transpose(gpu, w.reshape([Cin, Cout]));
    return matmulTiled(gpu, dy, wT, { M, N: Cin, K: Cout, transA: false, transB: false, relu: false }, lanes, { count: 1, name: 'conv1x1.dx' }, [N, H, W, Cin]);
  });
}

/**
 * Partial sums [chunks, Cin * Cout] of dw = xᵀ · dy over chunks of pixels (split-K tiled GEMM);
 * the caller adds the chunks in order (one chunk: the result itself).
 */
export function conv1x1FilterGradPartials(gpu: Gpu, x: Tensor, dy: Tensor, lanes: TiledLanes): Tensor {
  const [N, H, W, Cin] = x.shape as [number, number, number, number];
  const Cout = dy.shape[3]!;
  const M = N * H * W;
  const kPer = reduceChunkTiles(1, M, Cin, Cout, lanes);
  const chunks = chunkCount(M, kPer);
  return matmulTiled(gpu, x, dy, { M: Cin, N: Cout, K: M, transA: true, transB: false, relu: false }, lanes, { count: 1, kPer, name: 'conv1x1.dw' }, [chunks, Cin * Cout]);
}

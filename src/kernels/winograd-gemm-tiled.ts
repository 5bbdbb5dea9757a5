// GPU-shaped variants of the Winograd conv's two GEMM passes (winograd.ts, winograd-filter-grad.ts),
// chosen per adapter and layer by the tuner (src/tune/registry.ts) through the runtime's choice table
// (src/gpu/choices.ts); the built-in default stays the lavapipe-shaped kernels ('lanes': workgroups of
// D/4 or S/4 lanes over channels, tiles uniform across the workgroup, subgroup broadcast).
//   winograd.gemm    M[ξ] = V[ξ] · U[ξ]   V [a², T, S], U [a², S, D] -> M [a², T, D]   (forward, input grad)
//   winograd.reduce  dU[ξ] = V[ξ]ᵀ · Z[ξ] V [a², T, S], Z [a², T, D] -> partials [chunks, a², S, D]
// Both run on the workgroup-memory tiled GEMM of matmul-tiled.ts batched over the a² positions ξ (workgroups
// along z): 'tiled8' (8x8 = 64 invocations, 32x32 blocks of the result) or 'tiled16' (16x16 = 256
// invocations, 64x64 blocks), each invocation a 4x4 register block, vec4 loads and stores. The reduction
// runs over the T tiles, so it is split into chunks of tiles (split-K) until about TARGET_INVOCATIONS
// invocations run, as the default reduction does; winograd-filter-grad.ts sums the chunks in order.
// Any T >= 1 and channel counts (multiples of 4, as Winograd needs) work: partial blocks are zero-padded.
// Fits-check (tiledWinogradLanes): the variant is used only where the device allows S² invocations per
// workgroup and the dispatch's workgroup counts; elsewhere the default runs. Shape keys name the layer
// without the batch (as the conv's own tuning keys): "F4 41x32 32->64" = tile m, destination grid, S->D.
// On lavapipe the tiled variants measured 3-6x slower than the defaults (bench/RESULTS.md): they are for
// adapters where the tuner measures them faster.

import type { Gpu, Tensor } from '../gpu';
import { chosenVariant } from '../gpu/choices';
import { TILED_K, type TiledLanes, chunkCount, matmulTiled } from './matmul-tiled';

/** Tuner family of the forward / input-gradient GEMM pass. */
export const WINOGRAD_GEMM_FAMILY = 'winograd.gemm';
/** Tuner family of the filter-gradient reduction over tiles. */
export const WINOGRAD_REDUCE_FAMILY = 'winograd.reduce';
/** Every variant of both families, the built-in default first. */
export const WINOGRAD_GEMM_VARIANTS = ['lanes', 'tiled8', 'tiled16'] as const;
export type WinogradGemmVariant = (typeof WINOGRAD_GEMM_VARIANTS)[number];

const LANES: Partial<Record<string, TiledLanes>> = { tiled8: 8, tiled16: 16 };
// Split the reduction until about this many invocations run (as winograd-filter-grad.ts's default).
const TARGET_INVOCATIONS = 16384;

/** The tuning key of one Winograd pass: tile m, the destination grid DH x DW, channels S -> D (no batch). */
export const winogradGemmShapeKey = (m: number, DH: number, DW: number, S: number, D: number): string => `F${m} ${DH}x${DW} ${S}->${D}`;

/**
 * The lanes per side of the tiled variant chosen for (family, shape) where it fits this device, given
 * the workgroups its dispatch needs with that many lanes (tiledGemmWorkgroups, tiledReduceWorkgroups),
 * or null: run the default kernel.
 */
export function tiledWinogradLanes(gpu: Gpu, family: string, shape: string, workgroups: (lanes: TiledLanes) => readonly number[]): TiledLanes | null {
  const S = LANES[chosenVariant(gpu, family, shape) ?? ''];
  if (S === undefined) return null;
  const l = gpu.limits;
  const fits = S * S <= l.maxComputeInvocationsPerWorkgroup && S <= Math.min(l.maxComputeWorkgroupSizeX, l.maxComputeWorkgroupSizeY)
    && 2 * TILED_K * S * 16 <= l.maxComputeWorkgroupStorageSize
    && workgroups(S).every((n) => n <= l.maxComputeWorkgroupsPerDimension);
  return fits ? S : null;
}

/** Workgroups (x, y, z) of tiledBatchedGemm for V [P, T, S] and D destination channels. */
export const tiledGemmWorkgroups = (P: number, T: number, D: number, lanes: TiledLanes): number[] => [Math.ceil(D / (4 * lanes)), Math.ceil(T / (4 * lanes)), P];

/** M [P, T, D] = V [P, T, S] · U [P, S, D] per position on the tiled GEMM with S x S lanes. */
export function tiledBatchedGemm(gpu: Gpu, v: Tensor, u: Tensor, lanes: TiledLanes, name = 'winograd.gemm'): Tensor {
  const [P, T, S] = v.shape as [number, number, number];
  const D = u.shape[2]!;
  return matmulTiled(gpu, v, u, { M: T, N: D, K: S, transA: false, transB: false, relu: false }, lanes, { count: P, name }, [P, T, D]);
}

/** Tiles per chunk (a multiple of the tiled k step) for the reduction of T tiles. */
export function reduceChunkTiles(P: number, T: number, S: number, D: number, lanes: TiledLanes): number {
  const blocks = P * Math.ceil(S / (4 * lanes)) * Math.ceil(D / (4 * lanes));
  const chunks = Math.max(1, Math.min(Math.ceil(T / TILED_K), Math.ceil(TARGET_INVOCATIONS / (blocks * lanes * lanes))));
  return Math.ceil(Math.ceil(T / chunks) / TILED_K) * TILED_K;
}

/** Workgroups (x, y, z) of tiledTileReduction for V [P, T, S] and D destination channels. */
export function tiledReduceWorkgroups(P: number, T: number, S: number, D: number, lanes: TiledLanes): number[] {
  return [Math.ceil(D / (4 * lanes)), Math.ceil(S / (4 * lanes)), P * chunkCount(T, reduceChunkTiles(P, T, S, D, lanes))];
}

/** partials [chunks, P, S, D] = Σ over each chunk's tiles t of V[ξ, t, :]ᵀ Z[ξ, t, :] (split-K tiled GEMM). */
export function tiledTileReduction(gpu: Gpu, v: Tensor, z: Tensor, lanes: TiledLanes): Tensor {
  const [P, T, S] = v.shape as [number, number, number];
  const D = z.shape[2]!;
  const kPer = reduceChunkTiles(P, T, S, D, lanes);
  const chunks = chunkCount(T, kPer);
  return matmulTiled(gpu, v, z, { M: S, N: D, K: T, transA: true, transB: false, relu: false }, lanes, { count: P, kPer, name: 'winograd.reduce' }, [chunks, P, S, D]);
}

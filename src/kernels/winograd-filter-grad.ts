// Filter gradient of the Winograd F(m x m, 3x3) conv (see winograd.ts for the transforms and layout):
//   dU[ξ] = Σ_t Z_t[ξ] ⊙ V_t[ξ],  Z_t = A dY_t Aᵀ (dy's m x m block),  V_t = Bᵀ d_t B (x's a x a patch),
//   dw = Gᵀ dU G,
// which follows from Y = Aᵀ [ Σ_s U_s ⊙ V_s ] A with U = G g Gᵀ. Passes: the two tile transforms, a
// reduction over tiles split into chunks (partials [chunks, a², Cin, Cout]; each lane 4 input x 16 output
// channels where Cout divides by 16, else 8 or 4, with Z workgroup-uniform: shared by subgroup broadcast
// where subgroups.ts allows, lane k loading Z's vec4 k), then one pass that sums
// the chunks in order (deterministic, no atomics) and applies Gᵀ . G. The reduction reads the tile count
// and tiles per chunk at run time (shape-params.ts), so batch sizes with the same chunk count (any with
// enough tiles) share its pipeline. The tuner may replace the reduction per layer by a tiled split-K GEMM
// (winograd-gemm-tiled.ts: family winograd.reduce). Limits: those of winogradFits;
// Cin/4 lanes per workgroup (Cin <= 1024).

import { wgsl } from './wgsl';
import { type Gpu, type Tensor } from '../gpu';
import { type Conv2dGeometry } from './conv-geometry';
import { foldGrid } from './grid';
import { canShareRows } from './subgroups';
import { shapeDecl, shapeParams } from './shape-params';
import { tileTransform } from './winograd';
import { WINOGRAD_REDUCE_FAMILY, tiledReduceWorkgroups, tiledTileReduction, tiledWinogradLanes, winogradGemmShapeKey } from './winograd-gemm-tiled';
import { DEFAULT_TILE, MATRICES, WG, type WinogradTile, sandwich, transposed } from './winograd-matrices';

// Split the reduction until about this many invocations run (enough for a real GPU; harmless on a CPU).
const TARGET_INVOCATIONS = 16384;

/** Most vec4s of destination channels per lane in the tile reduction (fewer where Cout does not divide). */
export type ReduceVectors = 1 | 2 | 4;
/** 4 (4 x 16 channels per lane) measured 6-11% faster than 2 over the model's layers on lavapipe (bench/RESULTS.md). */
export const DEFAULT_REDUCE_VECTORS: ReduceVectors = 4;

/** dw [3,3,Cin,Cout] of y = conv2d(x, w) (stride 1) from x and dy, by the Winograd identity above. */
export function winogradFilterGrad(gpu: Gpu, g: Conv2dGeometry, x: Tensor, dy: Tensor, m: WinogradTile = DEFAULT_TILE, vectors: ReduceVectors = DEFAULT_REDUCE_VECTORS): Tensor {
  return gpu.scope(() => {
    const v = tileTransform(gpu, m, 'input', x, g.Ho, g.Wo, g.top, g.left);
    const z = tileTransform(gpu, m, 'output-grad', dy, g.Ho, g.Wo, 0, 0);
    return filterFromTiles(gpu, g, m, v, z, vectors);
  });
}

/**
 * dw from the transformed tiles V (of x) and Z (of dy): the reduction over tiles the tuner chose for
 * this layer (family WINOGRAD_REDUCE_FAMILY: winograd-gemm-tiled.ts), else tileReduction, then Gᵀ dU G.
 */
export function filterFromTiles(gpu: Gpu, g: Conv2dGeometry, m: WinogradTile, v: Tensor, z: Tensor, vectors: ReduceVectors = DEFAULT_REDUCE_VECTORS): Tensor {
  const [XI, T, S] = v.shape as [number, number, number];
  const D = z.shape[2]!;
  const shape = winogradGemmShapeKey(m, g.Ho, g.Wo, S, D);
  const lanes = tiledWinogradLanes(gpu, WINOGRAD_REDUCE_FAMILY, shape, (l) => tiledReduceWorkgroups(XI, T, S, D, l));
  return gpu.scope(() => filterInverse(gpu, m, lanes ? tiledTileReduction(gpu, v, z, lanes) : tileReduction(gpu, v, z, vectors), g));
}

/**
 * partials [chunks, P, S, D] = Σ over the chunk's tiles t of V[ξ, t, s] Z[ξ, t, d]. A workgroup holds S/4
 * lanes (each 4 source channels x 4·CV destination channels) and one (ξ, channel block, chunk): Z's loads
 * are workgroup-uniform.
 */
function tileReduction(gpu: Gpu, v: Tensor, z: Tensor, vectors: ReduceVectors): Tensor {
  const [XI, T, S] = v.shape as [number, number, number];
  const D = z.shape[2]!;
  const CV = ([4, 2, 1] as const).find((c) => c <= vectors && D % (4 * c) === 0)!;
  const dBlocks = D / (4 * CV);
  const lanes = S / 4;
  const chunks = Math.max(1, Math.min(T, Math.ceil(TARGET_INVOCATIONS / (XI * dBlocks * lanes))));
  const per = Math.ceil(T / chunks);
  const out = gpu.empty([chunks, XI, S, D], 'f32', 'winograd.reduce');
  const V = [...Array(CV).keys()];
  const R = [0, 1, 2, 3];
  const shared = CV > 1 && canShareRows(gpu, lanes, CV);
  const zLoads = shared
    ? `    let bMine = B[(xi * shape.tiles + t) * ${D / 4}u + d4 + lane % ${CV}u];\n${V.map((c) => `    let b${c} = subgroupBroadcast(bMine, ${c}u);`).join('\n')}`
    : V.map((c) => `    let b${c} = B[(xi * shape.tiles + t) * ${D / 4}u + d4 + ${c}u];`).join('\n');
  gpu.dispatch({
    name: 'winograd.reduce',
    key: `winograd.reduce:${XI}:${S}:${D}:${chunks}:${CV}:${shared}`,
    code: () => wgsl`
#if ${shared}
enable subgroups;
#endif
@group(0) @binding(0) var<storage, read> A: array<vec4f>;
@group(0) @binding(1) var<storage, read> B: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> O: array<vec4f>;
${shapeDecl(['tiles', 'per', 'stores'], 3)}
@compute @workgroup_size(${lanes})
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u${shared ? ', @builtin(subgroup_invocation_id) lane: u32' : ''}) {
  let xi = wid.x / ${dBlocks}u;
  let d4 = (wid.x % ${dBlocks}u) * ${CV}u;
  let s4 = lid.x;
  let chunk = wid.y;
  let end = min((chunk + 1u) * shape.per, shape.tiles);
${R.flatMap((r) => V.map((c) => `  var acc${r}_${c} = vec4f(0.0);`)).join('\n')}
  for (var t = chunk * shape.per; t < end; t++) {
    let a = A[(xi * shape.tiles + t) * ${lanes}u + s4];
${zLoads}
${R.flatMap((r) => V.map((c) => `    acc${r}_${c} = fma(vec4f(a[${r}]), b${c}, acc${r}_${c});`)).join('\n')}
  }
  let base = (chunk * ${XI}u + xi) * ${S}u + s4 * 4u;
  // Stored from a private array in a loop whose bound is read at run time: one store in the compiled
  // code instead of 4·CV (lavapipe's LLVM cost grows with each store: bench/RESULTS.md).
  var staged: array<vec4f, ${4 * CV}>;
${R.flatMap((r) => V.map((c) => `  staged[${r * CV + c}] = acc${r}_${c};`)).join('\n')}
  for (var k = 0u; k < shape.stores; k++) {
    O[(base + k / ${CV}u) * ${D / 4}u + d4 + k % ${CV}u] = staged[k];
  }
}`,
    bindings: [v, z, out, shapeParams(gpu, [T, per, 4 * CV])],
    workgroups: [XI * dBlocks, chunks, 1],
  });
  return out;
}

/** dw [3,3,Cin,Cout] = Gᵀ (Σ_chunks dU) G, summing the chunks in order (deterministic). */
function filterInverse(gpu: Gpu, m: WinogradTile, partials: Tensor, g: Conv2dGeometry): Tensor {
  const [chunks, XI] = partials.shape as [number, number];
  const a = m + 2;
  const E = g.Cin * g.Cout;
  const dw = gpu.empty([3, 3, g.Cin, g.Cout], 'f32', 'conv2dBackwardFilter');
  const [gx, gz] = foldGrid(Math.ceil(E / WG));
  const K = [0, 1, 2];
  gpu.dispatch({
    name: 'conv2dBackwardFilter',
    key: `winograd.filterInverse:${m}:${g.Cin}:${g.Cout}:${chunks}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> P: array<f32>;
@group(0) @binding(1) var<storage, read_write> DW: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let e = gid.x + gid.z * ${gx * WG}u;
  if (e >= ${E}u) { return; }
  var u: array<f32, ${XI}>;
  for (var c = 0u; c < ${chunks}u; c++) {
    for (var k = 0u; k < ${XI}u; k++) { u[k] += P[(c * ${XI}u + k) * ${E}u + e]; }
  }
${sandwich(transposed(MATRICES[m].G), (k, l) => `u[${k * a + l}]`, 'dg', 'q', '0.0')}
${K.flatMap((i) => K.map((j) => `  DW[${(i * 3 + j) * E}u + e] = dg_${i}_${j};`)).join('\n')}
}`,
    bindings: [partials, dw],
    workgroups: [gx, 1, gz],
  });
  return dw;
}

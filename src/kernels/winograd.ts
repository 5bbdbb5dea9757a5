// Winograd F(m x m, 3x3) convolution for 3x3, stride-1 filters (m = 4 by default, 2 kept for comparison):
// forward, input gradient and filter gradient. Each m x m block of outputs ("tile") is computed from the
// a x a input patch under it (a = m + 2) as
//   Y = Aᵀ [ Σ_s (G g_s Gᵀ) ⊙ (Bᵀ d_s B) ] A,
// so the 9 m² multiplies per tile and pair of channels of the direct conv become a² (F(2,3): 2.25x fewer,
// F(4,3): 4x fewer), plus transforms that only add and scale. Three passes, each its own dispatch:
//   1. transform:  V[a², T, S] from the source image [N, SH, SW, S] (zero padding resolved here),
//   2. GEMM:       M[ξ] = V[ξ] · U[ξ] for each of the a² positions ξ; U [a², S, D] is the transformed filter,
//   3. inverse:    destination [N, DH, DW, D] = Aᵀ M A per tile, + bias, ReLU (winograd-inverse.ts; at
//                  inference also + residual and a fused 2x2 max pool).
// T = N * ceil(DH/m) * ceil(DW/m) tiles. The tile transforms, the filter transform and the inverse read
// every size and channel count at run time (shape-params.ts; the grid stride from num_workgroups): one
// pipeline per tile size and kind serves every layer and batch size. The GEMM and the filter gradient's
// tile reduction read T at run time but keep their channel counts baked (warm speed), so one pipeline
// per layer serves every batch size. The input gradient is the same conv of dy with the filter rotated
// by 180° and its channels swapped (padding 2 - pad). The filter gradient follows from the same identity:
//   dU = Σ_t (A dY_t Aᵀ) ⊙ V_t  (a GEMM reducing over tiles, split into chunks),  dg = Gᵀ dU G
// (winograd-filter-grad.ts).
// Compile cost: lavapipe compiles each pipeline with LLVM at its first dispatch, where every storage
// buffer load or store in the code costs ~0.05-0.1 s (it becomes a per-lane loop), so the loads and
// stores the transforms repeat per tile position sit in loops with run-time bounds (NIR unrolls a
// constant one): the transforms apply the matrices below along rows unrolled (zero coefficients skipped),
// then store one row of the result per iteration; the GEMM and the reduction store from a private array
// in a loop (bench/RESULTS.md: 3-20x less LLVM time per pipeline, warm time within noise).
// Layout: NHWC activations, [3,3,Cin,Cout] filters (as conv2d.ts). Tiling: the GEMM gives each lane one
// vec4 of destination channels for 8 (or 32) tiles whose V rows are workgroup-uniform (shared by subgroup
// broadcast where the device allows it: subgroups.ts); the reduction gives each lane 4 source x up to 16
// destination channels with the dY transform uniform (winograd-filter-grad.ts). These defaults suit
// llvmpipe; the tuner may choose per layer workgroup-memory tiled kernels for both (winograd-gemm-tiled.ts,
// families winograd.gemm and winograd.reduce), the shape real GPUs reward. Limits (winogradFits; callers fall back to the direct kernels): both channel counts
// multiples of 4 and <= 1024 (workgroups of C/4 lanes), pads <= 2, every [a², T, C] buffer within the
// device's storage-binding size, at most 65535 workgroups along x (8 tiles each). Accuracy: F(4,3) rounds a little more than the direct sum (relative L2 a few
// 1e-7 on the model's layers, measured in test/kernels/winograd.test.ts), well inside float32 training.

import { wgsl } from './wgsl';
import { ShapeError, type Gpu, type Tensor } from '../gpu';
import { type Conv2dGeometry } from './conv-geometry';
import { foldGrid } from './grid';
import { DEFAULT_TILE, MATRICES, WG, type Pass, type WinogradTile, matrixLiteral, rowTransform, transposed } from './winograd-matrices';
import { type InverseEpilogue, inverseTransform, poolCrop } from './winograd-inverse';
import { canShareRows } from './subgroups';
import { chosenVariant } from '../gpu/choices';
import { WINOGRAD_GEMM_FAMILY, tiledBatchedGemm, tiledGemmWorkgroups, tiledWinogradLanes, winogradGemmShapeKey } from './winograd-gemm-tiled';
import { shapeDecl, shapeParams } from './shape-params';

/** Tuner family (src/tune/) switching the transforms' texture reads (textures.ts): 'on' (default) or 'off'. */
export const TEXTURES_FAMILY = 'image-textures';
export const TEXTURES_SHAPE = 'winograd transforms';

// The tile size is part of the Winograd interface: callers keep importing it from here.
export { DEFAULT_TILE, type Pass, type WinogradTile } from './winograd-matrices';

const MAX_GROUPS = 65535;

const tileCount = (N: number, DH: number, DW: number, m: number) => N * Math.ceil(DH / m) * Math.ceil(DW / m);

/** Whether this conv (forward, and with it both gradients) can run as Winograd F(m,3) on this device. */
export function winogradFits(g: Conv2dGeometry, maxBinding: number, m: WinogradTile = DEFAULT_TILE): boolean {
  if (g.KH !== 3 || g.KW !== 3 || g.strideH !== 1 || g.strideW !== 1) return false;
  if (g.Cin % 4 !== 0 || g.Cout % 4 !== 0 || g.Cin > 1024) return false;
  if (Math.max(g.top, g.bottom, g.left, g.right) > 2) return false;
  const T = Math.max(tileCount(g.N, g.Ho, g.Wo, m), tileCount(g.N, g.H, g.W, m));
  if ((m + 2) ** 2 * T * Math.max(g.Cin, g.Cout) * 4 > maxBinding) return false;
  return Math.ceil(T / 8) <= MAX_GROUPS && g.Cin <= 1024 && g.Cout <= 1024;
}

export const forwardPass = (g: Conv2dGeometry): Pass =>
  ({ N: g.N, DH: g.Ho, DW: g.Wo, D: g.Cout, top: g.top, left: g.left });
export const inputGradPass = (g: Conv2dGeometry): Pass =>
  ({ N: g.N, DH: g.H, DW: g.W, D: g.Cin, top: 2 - g.top, left: 2 - g.left });

/** U [a², S, D] = G g Gᵀ of each filter [3,3,Cin,Cout]; `rotated`: the input-gradient filter (S = Cout). */
export function winogradFilter(gpu: Gpu, w: Tensor, rotated: boolean, m: WinogradTile = DEFAULT_TILE): Tensor {
  const [, , Cin, Cout] = w.shape as [number, number, number, number];
  const [S, D] = rotated ? [Cout, Cin] : [Cin, Cout];
  const a = m + 2;
  const u = gpu.empty([a * a, S, D], 'f32', 'winograd.filter');
  const [gx, gz] = foldGrid(Math.ceil((S * D) / WG));
  // Tap (kh, kw) of the filter as seen by this pass (rotated by 180° for the input gradient).
  const tap = (kh: number, kw: number) => `Wt[${rotated ? (2 - kh) * 3 + (2 - kw) : kh * 3 + kw}u * shape.taps + wi]`;
  const G = MATRICES[m].G;
  const I = [...Array(a).keys()];
  gpu.dispatch({
    name: 'winograd.filter',
    key: `winograd.filter:${m}:${Cin}:${Cout}:${rotated}`,
    // Channel counts are read at run time (shape-params.ts): one pipeline per tile size and direction.
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> Wt: array<f32>;
@group(0) @binding(1) var<storage, read_write> U: array<f32>;
${shapeDecl(['elements', 'dCount', 'cout', 'taps', 'rows'], 2)}
const G_ROWS = ${matrixLiteral(G)};
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let e = gid.x + gid.z * groups.x * ${WG}u;
  if (e >= shape.elements) { return; }
  let s = e / shape.dCount;
  let d = e % shape.dCount;
  let wi = ${rotated ? 'd * shape.cout + s' : 's * shape.cout + d'};
${[0, 1, 2].flatMap((k) => [0, 1, 2].map((l) => `  let g_${k}_${l} = ${tap(k, l)};`)).join('\n')}
${rowTransform(G, 3, (k, l) => `g_${k}_${l}`, 'q', '0.0')}
  // Row i of G g Gᵀ per iteration; the bound is read at run time so that the loop stays a loop (a
  // stores in the compiled code, not a²).
  for (var i = 0u; i < shape.rows; i++) {
    let c = G_ROWS[i];
${I.map((j) => `    U[(i * ${a}u + ${j}u) * shape.elements + e] = c[0] * q_0_${j} + c[1] * q_1_${j} + c[2] * q_2_${j};`).join('\n')}
  }
}`,
    bindings: [w, u, shapeParams(gpu, [S * D, D, Cout, Cin * Cout, a])],
    workgroups: [gx, 1, gz],
  });
  return u;
}

/**
 * out [a², T, C] from an image [N, H, W, C] cut into tiles over a DH x DW grid. 'input': Bᵀ d B of the
 * a x a patch at (m ty - top, m tx - left); 'output-grad': A y Aᵀ of the m x m block at (m ty, m tx) (dy of
 * the forward, zero past its edge).
 */
export function tileTransform(gpu: Gpu, m: WinogradTile, kind: 'input' | 'output-grad', img: Tensor, DH: number, DW: number, top: number, left: number): Tensor {
  const [N, H, W, C] = img.shape as [number, number, number, number];
  const a = m + 2;
  const TH = Math.ceil(DH / m);
  const TW = Math.ceil(DW / m);
  const T = N * TH * TW;
  const C4 = C / 4;
  const out = gpu.empty([a * a, T, C], 'f32', `winograd.${kind}`);
  const [gx, gz] = foldGrid(Math.ceil((T * C4) / WG));
  const isInput = kind === 'input';
  const P = isInput ? a : m;
  const L = isInput ? MATRICES[m].BT : transposed(MATRICES[m].AT);
  const I = [...Array(a).keys()];
  // The image as a [W * C/4, N * H] texture where it can be staged (textures.ts: vectorised gathers).
  const image = gpu.canStageImage(W * C4, N * H) && chosenVariant(gpu, TEXTURES_FAMILY, TEXTURES_SHAPE) !== 'off';
  // Every size is read at run time (shape-params.ts): one pipeline per kind, tile size and image path.
  const fields = ['tiles', 'c4s', 'tilesW', 'tilesPerImage', 'imageH', 'imageW', 'top', 'left', 'rows'];
  gpu.dispatch({
    name: `winograd.${kind}`,
    // N stays in the key (the tuner's tests read it); layers and batch sizes share the WGSL and so one pipeline.
    key: `winograd.${kind}:${m}:${N}:${H}:${W}:${C}:${DH}:${DW}:${top}:${left}:${image}`,
    code: () => wgsl`
${shapeDecl(fields, 2)}
#if ${image}
@group(0) @binding(0) var XT: texture_2d<f32>;
fn load(n: u32, h: i32, w: i32, c4: u32) -> vec4f {
  let H = i32(shape.imageH);
  let W = i32(shape.imageW);
  let inside = (h >= 0) & (h < H) & (w >= 0) & (w < W);
  let texel = vec2u(u32(clamp(w, 0, W - 1)) * shape.c4s + c4, n * shape.imageH + u32(clamp(h, 0, H - 1)));
  return select(vec4f(0.0), textureLoad(XT, texel, 0), inside);
}
#else
@group(0) @binding(0) var<storage, read> X: array<vec4f>;
fn load(n: u32, h: i32, w: i32, c4: u32) -> vec4f {
  if (h < 0 || h >= i32(shape.imageH) || w < 0 || w >= i32(shape.imageW)) { return vec4f(0.0); }
  return X[((n * shape.imageH + u32(h)) * shape.imageW + u32(w)) * shape.c4s + c4];
}
#endif
@group(0) @binding(1) var<storage, read_write> O: array<vec4f>;
const L_ROWS = ${matrixLiteral(L)};
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let e = gid.x + gid.z * groups.x * ${WG}u;
  if (e >= shape.tiles * shape.c4s) { return; }
  let t = e / shape.c4s;
  let c4 = e % shape.c4s;
  let n = t / shape.tilesPerImage;
  let r = t % shape.tilesPerImage;
  let h0 = i32(r / shape.tilesW) * ${m} - i32(shape.top);
  let w0 = i32(r % shape.tilesW) * ${m} - i32(shape.left);
${[...Array(P).keys()].flatMap((i) => [...Array(P).keys()].map((j) => `  let d_${i}_${j} = load(n, h0 + ${i}, w0 + ${j}, c4);`)).join('\n')}
${rowTransform(L, P, (k, l) => `d_${k}_${l}`, 'q', 'vec4f(0.0)')}
  // Row i of L X Lᵀ = Σ_k L[i][k] q_k, one row per iteration; the bound is read at run time so that the
  // loop stays a loop (a stores in the compiled code, not a²).
  for (var i = 0u; i < shape.rows; i++) {
    let c = L_ROWS[i];
${I.map((j) => `    O[((i * ${a}u + ${j}u) * shape.tiles + t) * shape.c4s + c4] = ${[...Array(P).keys()].map((k) => `c[${k}] * q_${k}_${j}`).join(' + ')};`).join('\n')}
  }
}`,
    bindings: [image ? gpu.imageOf(img, W * C4, N * H) : img, out, shapeParams(gpu, [T, C4, TW, TH * TW, H, W, isInput ? top : 0, isInput ? left : 0, a])],
    workgroups: [gx, 1, gz],
  });
  return out;
}

/** Rows (tiles) per workgroup of the GEMM's shared path; a multiple of SHARE. */
export type GemmRows = 8 | 16 | 32;
// Rows shared per subgroup broadcast source: lane k of each group of 8 loads row k.
const SHARE = 8;
/** Rows per workgroup on the shared path where there are enough tiles (bench/RESULTS.md). */
export const SHARED_ROWS: GemmRows = 32;
/** Tiles from which the shared path takes SHARED_ROWS rows (the model's layers at batch 32 have 640 and more). */
export const LARGE_T = 512;

/**
 * M [P, T, D] = V [P, T, S] · U [P, S, D] (+ bias [D]), per position ξ; also the 1x1 conv (conv1x1.ts).
 * A workgroup holds D/4 lanes, one per vec4 of destination channels, and 8 tiles of one position, whose
 * V rows are workgroup-uniform; each lane gathers its U column. Measured 15-20% faster on lavapipe than
 * lanes over tiles with U uniform (the design of conv2d.ts), which needs more live registers. Where
 * subgroups allow (subgroups.ts), lane k of each subgroup loads the vec4 of V row k and the others
 * take it by subgroupBroadcast, instead of every lane loading all 8 rows; with the loads shared, 32 tiles
 * per workgroup measured 4-20% faster than 8 on the model's shapes (bench/RESULTS.md); they take ~1 s
 * longer to compile on lavapipe, so small GEMMs (T < LARGE_T: tests, tiny inputs) keep 8.
 */
export function batchedGemm(gpu: Gpu, v: Tensor, u: Tensor, bias?: Tensor, name = 'winograd.gemm', rows?: GemmRows): Tensor {
  const [XI, T, S] = v.shape as [number, number, number];
  const D = u.shape[2]!;
  const shared = canShareRows(gpu, D / 4, SHARE);
  const ROWS = shared ? (rows ?? (T >= LARGE_T ? SHARED_ROWS : SHARE)) : 8;
  if (ROWS % SHARE !== 0) throw new ShapeError(`batchedGemm: ${ROWS} rows per workgroup must be a multiple of ${SHARE}`);
  const out = gpu.empty([XI, T, D], 'f32', name);
  const R = [...Array(ROWS).keys()];
  const G = [...Array(ROWS / SHARE).keys()];
  const J = [0, 1, 2, 3];
  const rowLoad = (r: number) => (shared ? `subgroupBroadcast(aMine${Math.floor(r / SHARE)}, ${r % SHARE}u)` : `A[a${r}Base + s / 4u]`);
  gpu.dispatch({
    name,
    // T stays in the key (tests read it); the WGSL reads it at run time, so batch sizes share one pipeline.
    key: `winograd.gemm:${XI}:${T}:${S}:${D}:${!!bias}:${shared}:${ROWS}`,
    code: () => wgsl`
#if ${shared}
enable subgroups;
#endif
@group(0) @binding(0) var<storage, read> A: array<vec4f>;
@group(0) @binding(1) var<storage, read> B: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> O: array<vec4f>;
${shapeDecl(['tiles', 'rows'], 3)}
#if ${!!bias}
@group(0) @binding(4) var<storage, read> bias: array<vec4f>;
#endif
@compute @workgroup_size(${D / 4})
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u${shared ? ', @builtin(subgroup_invocation_id) lane: u32' : ''}) {
  let xi = wid.y;
  let t0 = wid.x * ${ROWS}u;
  let d4 = lid.x;
  let T = shape.tiles;
${shared
    ? G.map((g) => `  let aMine${g}Base = (xi * T + min(t0 + ${g * SHARE}u + lane % ${SHARE}u, T - 1u)) * ${S / 4}u;`).join('\n')
    : R.map((r) => `  let a${r}Base = (xi * T + min(t0 + ${r}u, T - 1u)) * ${S / 4}u;`).join('\n')}
${R.map((r) => `  var acc${r} = ${bias ? 'bias[d4]' : 'vec4f(0.0)'};`).join('\n')}
  for (var s = 0u; s < ${S}u; s += 4u) {
${J.map((j) => `    let b${j} = B[(xi * ${S}u + s + ${j}u) * ${D / 4}u + d4];`).join('\n')}
${shared ? G.map((g) => `    let aMine${g} = A[aMine${g}Base + s / 4u];`).join('\n') : ''}
${R.map((r) => `    let a${r} = ${rowLoad(r)};
${J.map((j) => `    acc${r} = fma(vec4f(a${r}[${j}]), b${j}, acc${r});`).join('\n')}`).join('\n')}
  }
  // Stored from a private array in a loop whose bound is read at run time: one store in the compiled
  // code instead of ROWS (on lavapipe each store costs ~50 ms of LLVM; warm time within noise).
  var staged: array<vec4f, ${ROWS}>;
${R.map((r) => `  staged[${r}] = acc${r};`).join('\n')}
  for (var r = 0u; r < shape.rows; r++) {
    if (t0 + r < T) { O[(xi * T + t0 + r) * ${D / 4}u + d4] = staged[r]; }
  }
}`,
    bindings: bias ? [v, u, out, shapeParams(gpu, [T, ROWS]), bias] : [v, u, out, shapeParams(gpu, [T, ROWS])],
    workgroups: [Math.ceil(T / ROWS), XI, 1],
  });
  return out;
}

/**
 * M = V · U per position by the kernel the tuner chose for this layer (`shape`: winogradGemmShapeKey;
 * family WINOGRAD_GEMM_FAMILY, winograd-gemm-tiled.ts), else the default batchedGemm.
 */
export function winogradGemm(gpu: Gpu, v: Tensor, u: Tensor, shape: string): Tensor {
  const [XI, T] = v.shape as [number, number];
  const lanes = tiledWinogradLanes(gpu, WINOGRAD_GEMM_FAMILY, shape, (l) => tiledGemmWorkgroups(XI, T, u.shape[2]!, l));
  return lanes ? tiledBatchedGemm(gpu, v, u, lanes) : batchedGemm(gpu, v, u);
}

/**
 * One Winograd conv pass: dst = conv(src, filter transformed to u) as described in `p`, then the
 * epilogue (bias, residual, ReLU, 2x2 max pool: winograd-inverse.ts).
 */
export function winogradConv(gpu: Gpu, p: Pass, src: Tensor, u: Tensor, epilogue: InverseEpilogue, label: string, m: WinogradTile = DEFAULT_TILE): Tensor {
  const q = poolCrop(p, epilogue);
  return gpu.scope(() => {
    const v = tileTransform(gpu, m, 'input', src, q.DH, q.DW, q.top, q.left);
    const mt = winogradGemm(gpu, v, u, winogradGemmShapeKey(m, p.DH, p.DW, u.shape[1]!, p.D));
    return inverseTransform(gpu, m, q, mt, epilogue, label);
  });
}

// The last pass of the Winograd F(m x m, 3x3) conv (winograd.ts): per tile, Y = Aᵀ M A, then an epilogue
//   y = act(Y + bias + residual), and optionally a 2x2 max pool (stride 2, floor) of y.
// Training and the input gradient use only bias and ReLU. Inference also fuses a residual block's tail
// into it (conv_b + shortcut, ReLU, max pool): the full-resolution sum is never written, only the pooled
// result. A tile's outputs start at multiples of m (m even), so each tile holds exactly (m/2)² whole pool
// windows; windows past floor(DH/2) x floor(DW/2) are dropped, as maxPool2x2. Since the pool never reads
// an odd last row or column, a pooled conv is computed on its even part only (poolCrop: e.g. 40 of 41
// rows, 10 tile rows instead of 11).
// Layout: M [a², T, D] (a = m + 2, T = N * ceil(DH/m) * ceil(DW/m) tiles, tile-major, channels last),
// unpooled output NHWC [N, DH, DW, D], pooled output [N, DH/2, DW/2, D] (DH, DW even after the crop),
// residual [N, RH, RW, D] with RH >= DH, RW >= DW (its top-left DH x DW part is added).
// Tiling: one invocation per (tile, vec4 of channels), 64 per workgroup, grid folded onto z. Every size
// (T, so the batch size, DH, DW, D, the residual's RH x RW) is read at run time (shape-params.ts): one
// pipeline per tile size and epilogue serves every layer and batch. Compile cost (lavapipe compiles with
// LLVM at the first dispatch, and each storage-buffer load or store in the code costs ~0.1 s there):
// Aᵀ M A is a loop over the a² positions (one load of M in the code; y_i_j += Aᵀ[i][k] Aᵀ[j][l] M[k,l])
// and the m² outputs (pooled: (m/2)² windows) are stored in a loop, both with run-time bounds so that
// NIR does not unroll them: 0.2-0.7 s of LLVM instead of 4-8 s per pipeline; warm time within noise
// (training; the pooled inference tail perhaps ~1-2 ms slower per batch: bench/RESULTS.md).
// Limits: D % 4 == 0 (as every Winograd pass); pooling needs DH, DW >= 2. Max pool uses WGSL max(), so
// a NaN in a window is not propagated the way maxPool2x2 does (inference only, where none is expected).

import { wgsl } from './wgsl';
import { ShapeError, fmtShape, type Gpu, type Tensor } from '../gpu';
import { foldGrid } from './grid';
import { MATRICES, WG, type Pass, type WinogradTile } from './winograd-matrices';
import { shapeDecl, shapeParams } from './shape-params';

// Every size is read at run time (shape-params.ts), in this order: one pipeline per tile size and
// epilogue serves every layer and batch.
const SHAPE_FIELDS = ['tiles', 'c4s', 'tilesW', 'tilesPerImage', 'outH', 'outW', 'convH', 'convW', 'resH', 'resW', 'positions', 'tileOutputs'];

export interface InverseEpilogue {
  /** [D] added to every output pixel. */
  bias?: Tensor;
  /** [N, DH, DW, D] added before the activation (a residual block's shortcut). */
  residual?: Tensor;
  relu: boolean;
  /** 2x2 max pool (stride 2, floor) after the activation. */
  pool?: boolean;
}

/** The pass a pooled conv needs: its output cropped to even height and width (the pool's input). */
export function poolCrop(p: Pass, e: InverseEpilogue): Pass {
  if (!e.pool) return p;
  if (p.DH < 2 || p.DW < 2) throw new ShapeError(`winograd: a 2x2 pool needs a conv output of at least 2x2, got ${p.DH}x${p.DW}`);
  return { ...p, DH: p.DH - (p.DH % 2), DW: p.DW - (p.DW % 2) };
}

/** dst = pool?(act(Aᵀ M A + bias + residual)) per tile; [N, DH, DW, D], or pooled [N, ⌊DH/2⌋, ⌊DW/2⌋, D]. */
export function inverseTransform(gpu: Gpu, m: WinogradTile, p: Pass, mt: Tensor, e: InverseEpilogue, label: string): Tensor {
  const a = m + 2;
  const TH = Math.ceil(p.DH / m);
  const TW = Math.ceil(p.DW / m);
  const T = p.N * TH * TW;
  const D4 = p.D / 4;
  const pool = !!e.pool;
  if (pool && (p.DH % 2 !== 0 || p.DW % 2 !== 0 || p.DH < 2 || p.DW < 2)) throw new ShapeError(`${label}: a pooled inverse needs an even output of at least 2x2 (poolCrop), got ${p.DH}x${p.DW}`);
  const [PH, PW] = pool ? [p.DH / 2, p.DW / 2] : [p.DH, p.DW];
  const [RN, RH, RW, RD] = (e.residual?.shape ?? [p.N, p.DH, p.DW, p.D]) as [number, number, number, number];
  if (e.residual && (e.residual.shape.length !== 4 || RN !== p.N || RD !== p.D || RH < p.DH || RW < p.DW)) {
    throw new ShapeError(`${label}: residual ${fmtShape(e.residual.shape)} must be [${p.N}, >= ${p.DH}, >= ${p.DW}, ${p.D}]`);
  }
  const out = gpu.empty([p.N, PH, PW, p.D], 'f32', label);
  const [gx, gz] = foldGrid(Math.ceil((T * D4) / WG));
  const hasBias = !!e.bias;
  const hasRes = !!e.residual;
  const O = [...Array(m).keys()];
  const act = (v: string) => (e.relu ? `max(${v}, vec4f(0.0))` : v);
  const bindings = [mt, out];
  if (hasBias) bindings.push(e.bias!);
  if (hasRes) bindings.push(e.residual!);
  // Value of output pixel (i, j) of the tile (row i, column j: WGSL u32 expressions), before pooling.
  const pixel = (i: string, j: string) => act(`ys[${i} * ${m}u + ${j}] + b${hasRes ? ` + res(n, h + ${i}, w + ${j}, c4)` : ''}`);
  // Column l of Aᵀ (the coefficients Aᵀ[i][l], i < m) as a vec{m}f literal.
  const AT = MATRICES[m].AT;
  const column = (l: number) => `vec${m}f(${O.map((i) => `${AT[i]![l]!.toFixed(1)}`).join(', ')})`;
  gpu.dispatch({
    name: pool || hasRes ? 'winograd.inverse-tail' : 'winograd.inverse',
    key: `winograd.inverse:${m}:${[p.DH, p.DW, p.D].join(':')}:${hasBias}:${e.relu}:${hasRes && `${RH}:${RW}`}:${pool}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> M: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> Y: array<vec4f>;
#if ${hasBias}
@group(0) @binding(2) var<storage, read> bias: array<vec4f>;
#endif
${shapeDecl(SHAPE_FIELDS, bindings.length)}
#if ${hasRes}
@group(0) @binding(${hasBias ? 3 : 2}) var<storage, read> R: array<vec4f>;
fn res(n: u32, h: u32, w: u32, c4: u32) -> vec4f {
  if (h >= shape.convH || w >= shape.convW) { return vec4f(0.0); }
  return R[((n * shape.resH + h) * shape.resW + w) * shape.c4s + c4];
}
#endif
fn store(n: u32, h: u32, w: u32, c4: u32, v: vec4f) {
  if (h >= shape.outH || w >= shape.outW) { return; }
  Y[((n * shape.outH + h) * shape.outW + w) * shape.c4s + c4] = v;
}
const AT_COLUMNS = array<vec${m}f, ${a}>(${[...Array(a).keys()].map(column).join(', ')});
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let e = gid.x + gid.z * groups.x * ${WG}u;
  if (e >= shape.tiles * shape.c4s) { return; }
  let t = e / shape.c4s;
  let c4 = e % shape.c4s;
${O.flatMap((i) => O.map((j) => `  var y_${i}_${j} = vec4f(0.0);`)).join('\n')}
  // Y = Aᵀ M A as a sum over the a² positions x = (k, l): y_i_j += Aᵀ[i][k] Aᵀ[j][l] M[x]. The bound is
  // read at run time so that the loop stays a loop (one load in the compiled code, not a²).
  for (var x = 0u; x < shape.positions; x++) {
    let v = M[(x * shape.tiles + t) * shape.c4s + c4];
    let ck = AT_COLUMNS[x / ${a}u];
    let cl = AT_COLUMNS[x % ${a}u];
${O.map((i) => `    let v${i} = ck[${i}] * v;
${O.map((j) => `    y_${i}_${j} = fma(vec4f(cl[${j}]), v${i}, y_${i}_${j});`).join('\n')}`).join('\n')}
  }
  let b = ${hasBias ? 'bias[c4]' : 'vec4f(0.0)'};
  let n = t / shape.tilesPerImage;
  let r = t % shape.tilesPerImage;
  let h = (r / shape.tilesW) * ${m}u;
  let w = (r % shape.tilesW) * ${m}u;
  // The tile's outputs (pooled: its (m/2)² pool windows) are stored in a loop whose bound is read at
  // run time, from a private array: one store (and residual read) in the compiled code, not m².
  var ys: array<vec4f, ${m * m}>;
${O.flatMap((i) => O.map((j) => `  ys[${i * m + j}] = y_${i}_${j};`)).join('\n')}
  for (var o = 0u; o < shape.tileOutputs; o++) {
#if ${pool}
    let i = (o / ${m / 2}u) * 2u;
    let j = (o % ${m / 2}u) * 2u;
    store(n, h / 2u + i / 2u, w / 2u + j / 2u, c4, max(max(${pixel('i', 'j')}, ${pixel('i', '(j + 1u)')}), max(${pixel('(i + 1u)', 'j')}, ${pixel('(i + 1u)', '(j + 1u)')})));
#else
    let i = o / ${m}u;
    let j = o % ${m}u;
    store(n, h + i, w + j, c4, ${pixel('i', 'j')});
#endif
  }
}`,
    bindings: [...bindings, shapeParams(gpu, [T, D4, TW, TH * TW, PH, PW, p.DH, p.DW, hasRes ? RH : 0, hasRes ? RW : 0, a * a, pool ? (m / 2) ** 2 : m * m])],
    workgroups: [gx, 1, gz],
  });
  return out;
}

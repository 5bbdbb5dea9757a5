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
// Tiling: one invocation per (tile, vec4 of channels), 64 per workgroup, grid folded onto z. T (so the
// batch size) is read at run time (shape-params.ts): one pipeline per layer and epilogue for every batch.
// Limits: D % 4 == 0 (as every Winograd pass); pooling needs DH, DW >= 2. Max pool uses WGSL max(), so
// a NaN in a window is not propagated the way maxPool2x2 does (inference only, where none is expected).

import { wgsl } from './wgsl';
import { ShapeError, fmtShape, type Gpu, type Tensor } from '../gpu';
import { foldGrid } from './grid';
import { MATRICES, WG, sandwich, type Pass, type WinogradTile } from './winograd-matrices';
import { shapeDecl, shapeParams } from './shape-params';

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
  const I = [...Array(a).keys()];
  const O = [...Array(m).keys()];
  const Q = [...Array(m / 2).keys()];
  const act = (v: string) => (e.relu ? `max(${v}, vec4f(0.0))` : v);
  const bindings = [mt, out];
  if (hasBias) bindings.push(e.bias!);
  if (hasRes) bindings.push(e.residual!);
  // Value of output pixel (i, j) of the tile, before pooling.
  const pixel = (i: number, j: number) => act(`y_${i}_${j} + b${hasRes ? ` + res(n, h + ${i}u, w + ${j}u, c4)` : ''}`);
  gpu.dispatch({
    name: pool || hasRes ? 'winograd.inverse-tail' : 'winograd.inverse',
    key: `winograd.inverse:${m}:${[p.DH, p.DW, p.D].join(':')}:${hasBias}:${e.relu}:${hasRes && `${RH}:${RW}`}:${pool}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> M: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> Y: array<vec4f>;
#if ${hasBias}
@group(0) @binding(2) var<storage, read> bias: array<vec4f>;
#endif
#if ${hasRes}
@group(0) @binding(${hasBias ? 3 : 2}) var<storage, read> R: array<vec4f>;
fn res(n: u32, h: u32, w: u32, c4: u32) -> vec4f {
  if (h >= ${p.DH}u || w >= ${p.DW}u) { return vec4f(0.0); }
  return R[((n * ${RH}u + h) * ${RW}u + w) * ${D4}u + c4];
}
#endif
fn store(n: u32, h: u32, w: u32, c4: u32, v: vec4f) {
  if (h >= ${PH}u || w >= ${PW}u) { return; }
  Y[((n * ${PH}u + h) * ${PW}u + w) * ${D4}u + c4] = v;
}
${shapeDecl(['tiles'], bindings.length)}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let e = gid.x + gid.z * groups.x * ${WG}u;
  if (e >= shape.tiles * ${D4}u) { return; }
  let t = e / ${D4}u;
  let c4 = e % ${D4}u;
${I.flatMap((i) => I.map((j) => `  let m_${i}_${j} = M[(${i * a + j}u * shape.tiles + t) * ${D4}u + c4];`)).join('\n')}
${sandwich(MATRICES[m].AT, (k, l) => `m_${k}_${l}`, 'y', 'q', 'vec4f(0.0)')}
  let b = ${hasBias ? 'bias[c4]' : 'vec4f(0.0)'};
  let n = t / ${TH * TW}u;
  let r = t % ${TH * TW}u;
  let h = (r / ${TW}u) * ${m}u;
  let w = (r % ${TW}u) * ${m}u;
${pool
  ? Q.flatMap((i) => Q.map((j) => `  store(n, h / 2u + ${i}u, w / 2u + ${j}u, c4, max(max(${pixel(2 * i, 2 * j)}, ${pixel(2 * i, 2 * j + 1)}), max(${pixel(2 * i + 1, 2 * j)}, ${pixel(2 * i + 1, 2 * j + 1)})));`)).join('\n')
  : O.flatMap((i) => O.map((j) => `  store(n, h + ${i}u, w + ${j}u, c4, ${pixel(i, j)});`)).join('\n')}
}`,
    bindings: [...bindings, shapeParams(gpu, [T])],
    workgroups: [gx, 1, gz],
  });
  return out;
}

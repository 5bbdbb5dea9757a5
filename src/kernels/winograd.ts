// Winograd F(2x2, 3x3) convolution for 3x3, stride-1 filters: forward, input gradient and filter gradient.
// Each 2x2 block of outputs ("tile") is computed from the 4x4 input patch under it as
//   Y = Aᵀ [ Σ_s (G g_s Gᵀ) ⊙ (Bᵀ d_s B) ] A,
// so the 36 multiplies per output pair of channels of the direct conv become 16 per tile (2.25x fewer),
// plus transforms that only add. Three passes, each its own dispatch:
//   1. transform:  V[16, T, S] from the source image [N, SH, SW, S] (zero padding resolved here),
//   2. GEMM:       M[ξ] = V[ξ] · U[ξ] for each of the 16 positions ξ; U [16, S, D] is the transformed filter,
//   3. inverse:    destination [N, DH, DW, D] = Aᵀ M A per tile, + bias, ReLU.
// T = N * ceil(DH/2) * ceil(DW/2) tiles. The input gradient is the same conv of dy with the filter rotated
// by 180° and its channels swapped (padding 2 - pad). The filter gradient follows from the same identity:
//   dU = Σ_t (A dY_t Aᵀ) ⊙ V_t  (a GEMM reducing over tiles, split into chunks),  dg = Gᵀ dU G.
// Layout: NHWC activations, [3,3,Cin,Cout] filters (as conv2d.ts). Tiling: the GEMMs use conv2d.ts's
// register blocking (each invocation 4 rows x 8 channels, the other operand workgroup-uniform, which software
// adapters load once per workgroup). Limits (checked by winogradFits; callers fall back to the direct
// kernels): both channel counts multiples of 4, Cin <= 1024, pads <= 2, every [16, T, C] buffer within the device's
// storage-binding size, at most 65535 workgroups along x.

import { wgsl } from './wgsl';
import { type Gpu, type Tensor } from '../gpu';
import { type Conv2dGeometry, foldGrid } from './conv2d';

const WG = 64;
const TARGET_INVOCATIONS = 16384;
const MAX_GROUPS = 65535;

/** Tiles of a destination image of DH x DW (2x2 outputs each). */
const tileCount = (N: number, DH: number, DW: number) => N * Math.ceil(DH / 2) * Math.ceil(DW / 2);

/** Whether this conv (forward, and with it both gradients) can run as Winograd on this device. */
export function winogradFits(g: Conv2dGeometry, maxBinding: number): boolean {
  if (g.KH !== 3 || g.KW !== 3 || g.strideH !== 1 || g.strideW !== 1) return false;
  if (g.Cin % 4 !== 0 || g.Cout % 4 !== 0 || g.Cin > 1024) return false;
  if (Math.max(g.top, g.bottom, g.left, g.right) > 2) return false;
  const T = Math.max(tileCount(g.N, g.Ho, g.Wo), tileCount(g.N, g.H, g.W));
  if (16 * T * Math.max(g.Cin, g.Cout) * 4 > maxBinding) return false;
  return Math.ceil(T / (4 * WG)) <= MAX_GROUPS;
}

/** Source / destination geometry of one Winograd pass. */
interface Pass {
  N: number; SH: number; SW: number; S: number;
  DH: number; DW: number; D: number;
  top: number; left: number;
}

export const forwardPass = (g: Conv2dGeometry): Pass =>
  ({ N: g.N, SH: g.H, SW: g.W, S: g.Cin, DH: g.Ho, DW: g.Wo, D: g.Cout, top: g.top, left: g.left });
export const inputGradPass = (g: Conv2dGeometry): Pass =>
  ({ N: g.N, SH: g.Ho, SW: g.Wo, S: g.Cout, DH: g.H, DW: g.W, D: g.Cin, top: 2 - g.top, left: 2 - g.left });

const key = (p: Pass) => [p.N, p.SH, p.SW, p.S, p.DH, p.DW, p.D, p.top, p.left].join(':');

/** U [16, S, D] = G g Gᵀ of each filter [3,3,Cin,Cout]; `rotated`: the input-gradient filter (S = Cout). */
export function winogradFilter(gpu: Gpu, w: Tensor, rotated: boolean): Tensor {
  const [, , Cin, Cout] = w.shape as [number, number, number, number];
  const [S, D] = rotated ? [Cout, Cin] : [Cin, Cout];
  const u = gpu.empty([16, S, D], 'f32', 'winograd.filter');
  const [gx, gz] = foldGrid(Math.ceil((S * D) / WG));
  gpu.dispatch({
    name: 'winograd.filter',
    key: `winograd.filter:${Cin}:${Cout}:${rotated}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> Wt: array<f32>;
@group(0) @binding(1) var<storage, read_write> U: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let e = gid.x + gid.z * ${gx * WG}u;
  if (e >= ${S * D}u) { return; }
  let s = e / ${D}u;
  let d = e % ${D}u;
#if ${rotated}
  let wi = d * ${Cout}u + s;   // w[2-kh][2-kw][ci = d][co = s]
#else
  let wi = s * ${Cout}u + d;   // w[kh][kw][ci = s][co = d]
#endif
  var g: array<f32, 9>;
  for (var k = 0u; k < 9u; k++) {
#if ${rotated}
    g[k] = Wt[(8u - k) * ${Cin * Cout}u + wi];
#else
    g[k] = Wt[k * ${Cin * Cout}u + wi];
#endif
  }
  // t = G g (4x3), then u = t Gᵀ (4x4).
  var t: array<f32, 12>;
  for (var j = 0u; j < 3u; j++) {
    t[j] = g[j];
    t[3u + j] = 0.5 * (g[j] + g[3u + j] + g[6u + j]);
    t[6u + j] = 0.5 * (g[j] - g[3u + j] + g[6u + j]);
    t[9u + j] = g[6u + j];
  }
  for (var i = 0u; i < 4u; i++) {
    let r = i * 3u;
    let o = i * 4u;
    U[((o + 0u) * ${S}u + s) * ${D}u + d] = t[r];
    U[((o + 1u) * ${S}u + s) * ${D}u + d] = 0.5 * (t[r] + t[r + 1u] + t[r + 2u]);
    U[((o + 2u) * ${S}u + s) * ${D}u + d] = 0.5 * (t[r] - t[r + 1u] + t[r + 2u]);
    U[((o + 3u) * ${S}u + s) * ${D}u + d] = t[r + 2u];
  }
}`,
    bindings: [w, u],
    workgroups: [gx, 1, gz],
  });
  return u;
}

/**
 * out [16, T, C] from an image [N, H, W, C] cut into tiles over a DH x DW grid. 'input': Bᵀ d B of the
 * 4x4 patch at (2ty - top, 2tx - left); 'output-grad': A y Aᵀ of the 2x2 block at (2ty, 2tx) (dy of the
 * forward, zero past its edge).
 */
function tileTransform(gpu: Gpu, kind: 'input' | 'output-grad', img: Tensor, DH: number, DW: number, top: number, left: number): Tensor {
  const [N, H, W, C] = img.shape as [number, number, number, number];
  const TH = Math.ceil(DH / 2);
  const TW = Math.ceil(DW / 2);
  const T = N * TH * TW;
  const C4 = C / 4;
  const out = gpu.empty([16, T, C], 'f32', `winograd.${kind}`);
  const [gx, gz] = foldGrid(Math.ceil((T * C4) / WG));
  const isInput = kind === 'input';
  const P = isInput ? 4 : 2;
  gpu.dispatch({
    name: `winograd.${kind}`,
    key: `winograd.${kind}:${N}:${H}:${W}:${C}:${DH}:${DW}:${top}:${left}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> X: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> O: array<vec4f>;
fn load(n: u32, h: i32, w: i32, c4: u32) -> vec4f {
  if (h < 0 || h >= ${H} || w < 0 || w >= ${W}) { return vec4f(0.0); }
  return X[((n * ${H}u + u32(h)) * ${W}u + u32(w)) * ${C4}u + c4];
}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let e = gid.x + gid.z * ${gx * WG}u;
  if (e >= ${T * C4}u) { return; }
  let t = e / ${C4}u;
  let c4 = e % ${C4}u;
  let n = t / ${TH * TW}u;
  let r = t % ${TH * TW}u;
  let h0 = i32(r / ${TW}u) * 2 - ${top};
  let w0 = i32(r % ${TW}u) * 2 - ${left};
  var d: array<vec4f, ${P * P}>;
  for (var i = 0; i < ${P}; i++) {
    for (var j = 0; j < ${P}; j++) { d[i * ${P} + j] = load(n, h0 + i, w0 + j, c4); }
  }
  var m: array<vec4f, 16>;
  for (var j = 0; j < ${P}; j++) {
#if ${isInput}
    // Bᵀ d along rows: (d0 - d2, d1 + d2, d2 - d1, d1 - d3).
    m[j] = d[j] - d[8 + j];
    m[4 + j] = d[4 + j] + d[8 + j];
    m[8 + j] = d[8 + j] - d[4 + j];
    m[12 + j] = d[4 + j] - d[12 + j];
#else
    // A y along rows: (y0, y0 + y1, y0 - y1, -y1).
    m[j] = d[j];
    m[4 + j] = d[j] + d[2 + j];
    m[8 + j] = d[j] - d[2 + j];
    m[12 + j] = -d[2 + j];
#endif
  }
  for (var i = 0u; i < 4u; i++) {
    let b = i * 4u;
#if ${isInput}
    let v = array<vec4f, 4>(m[b] - m[b + 2u], m[b + 1u] + m[b + 2u], m[b + 2u] - m[b + 1u], m[b + 1u] - m[b + 3u]);
#else
    let v = array<vec4f, 4>(m[b], m[b] + m[b + 1u], m[b] - m[b + 1u], -m[b + 1u]);
#endif
    for (var j = 0u; j < 4u; j++) { O[((b + j) * ${T}u + t) * ${C4}u + c4] = v[j]; }
  }
}`,
    bindings: [img, out],
    workgroups: [gx, 1, gz],
  });
  return out;
}

/** M [16, T, D] = V [16, T, S] · U [16, S, D], per position ξ; lanes over tiles, U workgroup-uniform. */
function batchedGemm(gpu: Gpu, v: Tensor, u: Tensor): Tensor {
  const [, T, S] = v.shape as [number, number, number];
  const D = u.shape[2]!;
  const CV = D % 8 === 0 ? 2 : 1;
  const dBlocks = D / (4 * CV);
  const m = gpu.empty([16, T, D], 'f32', 'winograd.gemm');
  const gx = Math.ceil(T / (4 * WG));
  const R = [0, 1, 2, 3];
  const V = [...Array(CV).keys()];
  gpu.dispatch({
    name: 'winograd.gemm',
    key: `winograd.gemm:${T}:${S}:${D}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> A: array<vec4f>;
@group(0) @binding(1) var<storage, read> B: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> O: array<vec4f>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let xi = wid.y / ${dBlocks}u;
  let d4 = (wid.y % ${dBlocks}u) * ${CV}u;
  let t0 = gid.x * 4u;
  if (t0 >= ${T}u) { return; }
${R.map((r) => `  let a${r}Base = (xi * ${T}u + min(t0 + ${r}u, ${T - 1}u)) * ${S / 4}u;`).join('\n')}
  let bBase = xi * ${S}u;
${R.flatMap((r) => V.map((c) => `  var acc${r}_${c} = vec4f(0.0);`)).join('\n')}
  for (var s = 0u; s < ${S}u; s += 4u) {
${R.map((r) => `    let a${r} = A[a${r}Base + s / 4u];`).join('\n')}
${R.map((j) => `${V.map((c) => `    let b${j}_${c} = B[(bBase + s + ${j}u) * ${D / 4}u + d4 + ${c}u];`).join('\n')}
${R.flatMap((r) => V.map((c) => `    acc${r}_${c} = fma(vec4f(a${r}[${j}]), b${j}_${c}, acc${r}_${c});`)).join('\n')}`).join('\n')}
  }
${R.map((r) => `  if (t0 + ${r}u < ${T}u) {
${V.map((c) => `    O[(xi * ${T}u + t0 + ${r}u) * ${D / 4}u + d4 + ${c}u] = acc${r}_${c};`).join('\n')}
  }`).join('\n')}
}`,
    bindings: [v, u, m],
    workgroups: [gx, 16 * dBlocks, 1],
  });
  return m;
}

/** dst [N, DH, DW, D] = Aᵀ M A per tile (+ bias, then ReLU). */
function inverseTransform(gpu: Gpu, p: Pass, m: Tensor, bias: Tensor | undefined, relu: boolean, label: string): Tensor {
  const TH = Math.ceil(p.DH / 2);
  const TW = Math.ceil(p.DW / 2);
  const T = p.N * TH * TW;
  const D4 = p.D / 4;
  const out = gpu.empty([p.N, p.DH, p.DW, p.D], 'f32', label);
  const [gx, gz] = foldGrid(Math.ceil((T * D4) / WG));
  const hasBias = !!bias;
  gpu.dispatch({
    name: label,
    key: `winograd.inverse:${key(p)}:${hasBias}:${relu}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> M: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> Y: array<vec4f>;
#if ${hasBias}
@group(0) @binding(2) var<storage, read> bias: array<vec4f>;
#endif
fn store(n: u32, h: u32, w: u32, c4: u32, v: vec4f) {
  if (h >= ${p.DH}u || w >= ${p.DW}u) { return; }
#if ${relu}
  Y[((n * ${p.DH}u + h) * ${p.DW}u + w) * ${D4}u + c4] = max(v, vec4f(0.0));
#else
  Y[((n * ${p.DH}u + h) * ${p.DW}u + w) * ${D4}u + c4] = v;
#endif
}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let e = gid.x + gid.z * ${gx * WG}u;
  if (e >= ${T * D4}u) { return; }
  let t = e / ${D4}u;
  let c4 = e % ${D4}u;
  var m: array<vec4f, 16>;
  for (var k = 0u; k < 16u; k++) { m[k] = M[(k * ${T}u + t) * ${D4}u + c4]; }
  // Aᵀ m along rows: (m0 + m1 + m2, m1 - m2 - m3), then along columns.
  var r: array<vec4f, 8>;
  for (var j = 0u; j < 4u; j++) {
    r[j] = m[j] + m[4u + j] + m[8u + j];
    r[4u + j] = m[4u + j] - m[8u + j] - m[12u + j];
  }
#if ${hasBias}
  let b = bias[c4];
#else
  let b = vec4f(0.0);
#endif
  let n = t / ${TH * TW}u;
  let q = t % ${TH * TW}u;
  let h = (q / ${TW}u) * 2u;
  let w = (q % ${TW}u) * 2u;
  for (var i = 0u; i < 2u; i++) {
    let o = i * 4u;
    store(n, h + i, w, c4, r[o] + r[o + 1u] + r[o + 2u] + b);
    store(n, h + i, w + 1u, c4, r[o + 1u] - r[o + 2u] - r[o + 3u] + b);
  }
}`,
    bindings: hasBias ? [m, out, bias!] : [m, out],
    workgroups: [gx, 1, gz],
  });
  return out;
}

/** One Winograd conv pass: dst = conv(src, filter transformed to u) as described in `p`. */
export function winogradConv(gpu: Gpu, p: Pass, src: Tensor, u: Tensor, bias: Tensor | undefined, relu: boolean, label: string): Tensor {
  return gpu.scope(() => {
    const v = tileTransform(gpu, 'input', src, p.DH, p.DW, p.top, p.left);
    const m = batchedGemm(gpu, v, u);
    return inverseTransform(gpu, p, m, bias, relu, label);
  });
}

/** dw [3,3,Cin,Cout] of y = conv2d(x, w) (stride 1) from x and dy, by the Winograd identity above. */
export function winogradFilterGrad(gpu: Gpu, g: Conv2dGeometry, x: Tensor, dy: Tensor): Tensor {
  return gpu.scope(() => {
    const v = tileTransform(gpu, 'input', x, g.Ho, g.Wo, g.top, g.left);
    const z = tileTransform(gpu, 'output-grad', dy, g.Ho, g.Wo, 0, 0);
    const du = tileReduction(gpu, v, z);
    return filterInverse(gpu, du, g);
  });
}

/**
 * partials [chunks, 16, S, D] = Σ over the chunk's tiles t of V[ξ, t, s] Z[ξ, t, d]. A workgroup holds S/4
 * lanes (each 4 source channels x 8 destination channels) and one (ξ, channel block, chunk): Z's loads
 * are workgroup-uniform.
 */
function tileReduction(gpu: Gpu, v: Tensor, z: Tensor): Tensor {
  const [, T, S] = v.shape as [number, number, number];
  const D = z.shape[2]!;
  const CV = D % 8 === 0 ? 2 : 1;
  const dBlocks = D / (4 * CV);
  const lanes = S / 4;
  const chunks = Math.max(1, Math.min(T, Math.ceil(TARGET_INVOCATIONS / (16 * dBlocks * lanes))));
  const per = Math.ceil(T / chunks);
  const out = gpu.empty([chunks, 16, S, D], 'f32', 'winograd.reduce');
  const V = [...Array(CV).keys()];
  const R = [0, 1, 2, 3];
  gpu.dispatch({
    name: 'winograd.reduce',
    key: `winograd.reduce:${T}:${S}:${D}:${chunks}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> A: array<vec4f>;
@group(0) @binding(1) var<storage, read> B: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> O: array<vec4f>;
@compute @workgroup_size(${lanes})
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let xi = wid.x / ${dBlocks}u;
  let d4 = (wid.x % ${dBlocks}u) * ${CV}u;
  let s4 = lid.x;
  let chunk = wid.y;
  let end = min((chunk + 1u) * ${per}u, ${T}u);
${R.flatMap((r) => V.map((c) => `  var acc${r}_${c} = vec4f(0.0);`)).join('\n')}
  for (var t = chunk * ${per}u; t < end; t++) {
    let a = A[(xi * ${T}u + t) * ${lanes}u + s4];
${V.map((c) => `    let b${c} = B[(xi * ${T}u + t) * ${D / 4}u + d4 + ${c}u];`).join('\n')}
${R.flatMap((r) => V.map((c) => `    acc${r}_${c} = fma(vec4f(a[${r}]), b${c}, acc${r}_${c});`)).join('\n')}
  }
  let base = (chunk * 16u + xi) * ${S}u + s4 * 4u;
${R.flatMap((r) => V.map((c) => `  O[(base + ${r}u) * ${D / 4}u + d4 + ${c}u] = acc${r}_${c};`)).join('\n')}
}`,
    bindings: [v, z, out],
    workgroups: [16 * dBlocks, chunks, 1],
  });
  return out;
}

/** dw [3,3,Cin,Cout] = Gᵀ (Σ_chunks dU) G, summing the chunks in order (deterministic). */
function filterInverse(gpu: Gpu, partials: Tensor, g: Conv2dGeometry): Tensor {
  const chunks = partials.shape[0]!;
  const E = g.Cin * g.Cout;
  const dw = gpu.empty([3, 3, g.Cin, g.Cout], 'f32', 'conv2dBackwardFilter');
  const [gx, gz] = foldGrid(Math.ceil(E / WG));
  gpu.dispatch({
    name: 'conv2dBackwardFilter',
    key: `winograd.filterInverse:${g.Cin}:${g.Cout}:${chunks}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> P: array<f32>;
@group(0) @binding(1) var<storage, read_write> DW: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let e = gid.x + gid.z * ${gx * WG}u;
  if (e >= ${E}u) { return; }
  var u: array<f32, 16>;
  for (var c = 0u; c < ${chunks}u; c++) {
    for (var k = 0u; k < 16u; k++) { u[k] += P[(c * 16u + k) * ${E}u + e]; }
  }
  // t = Gᵀ u (3x4), then dw = t G (3x3); Gᵀ rows: (1, .5, .5, 0), (0, .5, -.5, 0), (0, .5, .5, 1).
  var t: array<f32, 12>;
  for (var j = 0u; j < 4u; j++) {
    t[j] = u[j] + 0.5 * (u[4u + j] + u[8u + j]);
    t[4u + j] = 0.5 * (u[4u + j] - u[8u + j]);
    t[8u + j] = 0.5 * (u[4u + j] + u[8u + j]) + u[12u + j];
  }
  for (var i = 0u; i < 3u; i++) {
    let o = i * 4u;
    DW[(i * 3u + 0u) * ${E}u + e] = t[o] + 0.5 * (t[o + 1u] + t[o + 2u]);
    DW[(i * 3u + 1u) * ${E}u + e] = 0.5 * (t[o + 1u] - t[o + 2u]);
    DW[(i * 3u + 2u) * ${E}u + e] = 0.5 * (t[o + 1u] + t[o + 2u]) + t[o + 3u];
  }
}`,
    bindings: [partials, dw],
    workgroups: [gx, 1, gz],
  });
  return dw;
}

// 2-D convolution forward, y = act(conv(x, w) + bias), as an implicit GEMM: M = N*Ho*Wo output pixels,
// Ncols = Cout, K = KH*KW*Cin, with im2col computed on the fly while loading (never materialised).
// Layout: NHWC activations [N,H,W,C] row-major, filters [KH,KW,Cin,Cout] (Keras), bias [Cout].
// Padding: zeros; 'same' follows Keras (total max((ceil(H/s)-1)*s + KH - H, 0), smaller half on top/left).
// Tiling: register blocking, no workgroup memory, code unrolled in TypeScript: each invocation computes
// 4 pixels x 8 output channels (two vec4 accumulators per pixel); the 64 invocations of a workgroup take
// consecutive pixels and share their output channels, so weight loads are the same across the workgroup
// (software adapters load them once; only the activations are gathered per lane). For each filter tap it
// resolves its 4 source pixels once and walks the source channels as vec4 when their count is a multiple
// of 4 (scalar otherwise, e.g. Cin = 1); weights are vec4 over output channels when Cout % 4 == 0.
// Measured on lavapipe (bench/conv2d.ts): 4x8 per invocation >= 4x4 >= 2x16 (2x16 was 3x slower).
// The tuner may replace it for the stem (Cin = 1) by a workgroup-tiled kernel (stem-tiled.ts).
// The same gather kernel computes the input gradient (see conv2d-grad.ts) with the index map inverted.
// The pixel count M = N*Ho*Wo comes from a uniform (shape-params.ts): one pipeline serves every batch size.
// Limits: pixel groups beyond 65535 workgroups fold onto the grid's z dimension.

import { wgsl } from './wgsl';
import { ShapeError, fmtShape, type Gpu, type Tensor } from '../gpu';
import { expectDtype, expectRank } from './checks';
import { conv1x1, conv1x1Fits } from './conv1x1';
import { forwardPass, winogradConv, winogradFilter, winogradFits } from './winograd';
import { DEFAULT_TILE, type WinogradTile } from './winograd-matrices';
import { type Conv2dAlgorithm, type Conv2dGeometry, type Conv2dGeometryOptions, conv2dGeometry, geometryKey } from './conv-geometry';
import { foldGrid } from './grid';
import { shapeDecl, shapeParams } from './shape-params';
import { tunedConvOptions } from './conv-variants';
import { stemForwardTiled, tiledStemVariant } from './stem-tiled';

// The geometry is part of conv2d's interface: callers keep importing it from here.
export { type Conv2dAlgorithm, type Conv2dGeometry, type Conv2dGeometryOptions, type Conv2dPadding, conv2dGeometry, geometryKey } from './conv-geometry';

/** Whether to run this conv as Winograd, per `algorithm` (an error if 'winograd' cannot apply). */
export function useWinograd(op: string, gpu: Gpu, g: Conv2dGeometry, algorithm: Conv2dAlgorithm = 'auto', tile: WinogradTile = DEFAULT_TILE): boolean {
  if (algorithm !== 'auto' && algorithm !== 'winograd' && algorithm !== 'direct') {
    throw new ShapeError(`${op}: algorithm ${JSON.stringify(algorithm)} must be 'auto', 'direct' or 'winograd'`);
  }
  if (tile !== 2 && tile !== 4) throw new ShapeError(`${op}: winogradTile ${JSON.stringify(tile)} must be 2 or 4`);
  if (algorithm === 'direct') return false;
  const fits = winogradFits(g, gpu.limits.maxStorageBufferBindingSize, tile);
  if (algorithm === 'winograd' && !fits) {
    throw new ShapeError(`${op}: Winograd needs a 3x3 stride-1 filter, channel counts that are multiples of 4 and buffers within the device limit (got ${g.KH}x${g.KW}, stride ${g.strideH},${g.strideW}, ${g.Cin} -> ${g.Cout} channels)`);
  }
  return fits;
}

/**
 * Whether 'auto' runs this conv's forward and input gradient as plain GEMMs (conv1x1.ts, the Winograd
 * GEMM with one position; the filter gradient stays direct): a 1x1 stride-1 filter without padding,
 * channels multiples of 4.
 */
export function usePointwiseGemm(gpu: Gpu, g: Conv2dGeometry, algorithm: Conv2dAlgorithm = 'auto'): boolean {
  if (algorithm !== 'auto' || g.KH !== 1 || g.KW !== 1 || g.strideH !== 1 || g.strideW !== 1) return false;
  if (g.top + g.bottom + g.left + g.right !== 0) return false;
  const maxBinding = gpu.limits.maxStorageBufferBindingSize;
  return conv1x1Fits([g.N, g.H, g.W, g.Cin], g.Cout, maxBinding) && conv1x1Fits([g.N, g.H, g.W, g.Cout], g.Cin, maxBinding);
}

export interface Conv2dOptions extends Conv2dGeometryOptions {
  /** [Cout] added to every output pixel. */
  bias?: Tensor;
  activation?: 'none' | 'relu';
}

const WG = 64;
const DEFAULT_BLOCK: GatherBlock = { px: 4, cv: 2 };

export interface GatherSpec {
  op: string;
  /** 'forward': x -> y; 'input-grad': dy -> dx through the filter transposed to [KH,KW,Cout,Cin]. */
  mode: 'forward' | 'input-grad';
  g: Conv2dGeometry;
  src: Tensor;
  weights: Tensor;
  bias?: Tensor;
  relu: boolean;
}

/** Register block of the gather kernel: pixels per invocation and vec4 groups of output channels. */
export interface GatherBlock {
  px: number;
  cv: number;
}

const lines = (n: number, f: (i: number) => string): string => Array.from({ length: n }, (_, i) => f(i)).join('\n');

/** Record the gather GEMM: out[pixel, d] = sum over taps and source channels s of src · weights. */
export function gatherConv(gpu: Gpu, spec: GatherSpec, block: GatherBlock = DEFAULT_BLOCK): Tensor {
  const { g, mode } = spec;
  const fwd = mode === 'forward';
  // Source and destination image sizes and channel counts, seen from the GEMM.
  const [SH, SW, SC] = fwd ? [g.H, g.W, g.Cin] : [g.Ho, g.Wo, g.Cout];
  const [DH, DW, DC] = fwd ? [g.Ho, g.Wo, g.Cout] : [g.H, g.W, g.Cin];
  const M = g.N * DH * DW;
  const PX = block.px;
  const CV = Math.min(block.cv, Math.ceil(DC / 4));
  const srcVec = SC % 4 === 0;
  const dstVec = DC % 4 === 0;
  const hasBias = !!spec.bias;
  const out = gpu.empty([g.N, DH, DW, DC], 'f32', spec.op);
  const [gx, gz] = foldGrid(Math.ceil(M / (PX * WG)));
  const gy = Math.ceil(DC / (4 * CV));
  const P = [...Array(PX).keys()];
  const V = [...Array(CV).keys()];
  const fma = (a: (p: number) => string, b: (v: number) => string) =>
    P.map((p) => V.map((v) => `acc${p}_${v} = fma(vec4f(${a(p)}), ${b(v)}, acc${p}_${v});`).join(' ')).join('\n');
  const code = () => wgsl`
@group(0) @binding(0) var<storage, read> S: array<${srcVec ? 'vec4f' : 'f32'}>;
@group(0) @binding(1) var<storage, read> B: array<${dstVec ? 'vec4f' : 'f32'}>;
@group(0) @binding(2) var<storage, read_write> Y: array<${dstVec ? 'vec4f' : 'f32'}>;
${shapeDecl(['pixels'], 3)}
#if ${hasBias}
@group(0) @binding(4) var<storage, read> bias: array<f32>;
#endif
const SH = ${SH};
const SW = ${SW};
const SC = ${SC}u;
const DHW = ${DH * DW}u;
const DW = ${DW}u;
const DC = ${DC}u;

// Start of the source pixel feeding destination pixel m through tap (kh, kw), or -1 (zero padding).
fn source(m: u32, kh: i32, kw: i32) -> i32 {
  if (m >= shape.pixels) { return -1; }
  let n = i32(m / DHW);
  let r = m % DHW;
  let dh = i32(r / DW);
  let dw = i32(r % DW);
#if ${fwd}
  let sh = dh * ${g.strideH} + kh - ${g.top};
  let sw = dw * ${g.strideW} + kw - ${g.left};
#else
  let th = dh + ${g.top} - kh;
  let tw = dw + ${g.left} - kw;
  if (th < 0 || tw < 0 || th % ${g.strideH} != 0 || tw % ${g.strideW} != 0) { return -1; }
  let sh = th / ${g.strideH};
  let sw = tw / ${g.strideW};
#endif
  if (sh < 0 || sh >= SH || sw < 0 || sw >= SW) { return -1; }
  return ((n * SH + sh) * SW + sw) * i32(SC);
}

fn loadS(s: i32, c: u32) -> ${srcVec ? 'vec4f' : 'f32'} {
#if ${srcVec}
  let v = S[(u32(max(s, 0)) + c) / 4u];
  return select(vec4f(0.0), v, s >= 0);
#else
  let v = S[u32(max(s, 0)) + c];
  return select(0.0, v, s >= 0);
#endif
}

// Weights of GEMM row k for destination channels d..d+3 (zero past DC). The same for every invocation
// of a workgroup, which lets software adapters load them once instead of gathering per lane.
fn loadB(k: u32, d: u32) -> vec4f {
#if ${dstVec}
  if (d >= DC) { return vec4f(0.0); }
  return B[k * ${DC / 4}u + d / 4u];
#else
  var v = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (d + j < DC) { v[j] = B[k * DC + d + j]; }
  }
  return v;
#endif
}

@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let M = shape.pixels;
  let dBase = wid.y * ${4 * CV}u;
  let m0 = (gid.x + gid.z * groups.x * ${WG}u) * ${PX}u;
  if (m0 >= M) { return; }
${lines(PX * CV, (i) => `  var acc${Math.floor(i / CV)}_${i % CV} = vec4f(0.0);`)}
  for (var kh = 0; kh < ${g.KH}; kh++) {
    for (var kw = 0; kw < ${g.KW}; kw++) {
${lines(PX, (p) => `      let s${p} = source(m0 + ${p}u, kh, kw);`)}
      let k0 = u32(kh * ${g.KW} + kw) * SC;
#if ${srcVec}
      for (var c = 0u; c < SC; c += 4u) {
${lines(PX, (p) => `        let a${p} = loadS(s${p}, c);`)}
${lines(4, (j) => `${lines(CV, (v) => `        let b${j}_${v} = loadB(k0 + c + ${j}u, dBase + ${4 * v}u);`)}
${fma((p) => `a${p}[${j}]`, (v) => `b${j}_${v}`)}`)}
      }
#else
      for (var c = 0u; c < SC; c++) {
${lines(CV, (v) => `        let b${v} = loadB(k0 + c, dBase + ${4 * v}u);`)}
${lines(PX, (p) => `        let a${p} = loadS(s${p}, c);`)}
${fma((p) => `a${p}`, (v) => `b${v}`)}
      }
#endif
    }
  }
${lines(CV, (v) => `  let d${v} = dBase + ${4 * v}u;
  var bias${v} = vec4f(0.0);${hasBias ? `
  for (var j = 0u; j < 4u; j++) { bias${v}[j] = bias[min(d${v} + j, DC - 1u)]; }` : ''}`)}
${lines(PX, (p) => `  if (m0 + ${p}u < M) {
${lines(CV, (v) => `    store(m0 + ${p}u, d${v}, acc${p}_${v} + bias${v});`)}
  }`)}
}

fn store(m: u32, d: u32, acc: vec4f) {
  if (d >= DC) { return; }
#if ${spec.relu}
  let v = max(acc, vec4f(0.0));
#else
  let v = acc;
#endif
#if ${dstVec}
  Y[(m * DC + d) / 4u] = v;
#else
  for (var j = 0u; j < 4u; j++) {
    if (d + j < DC) { Y[m * DC + d + j] = v[j]; }
  }
#endif
}`;
  gpu.dispatch({
    name: spec.op,
    key: `${spec.op}:${mode}:${geometryKey(g)}:${hasBias}:${spec.relu}:${PX}x${CV}`,
    code,
    bindings: hasBias ? [spec.src, spec.weights, out, shapeParams(gpu, [M]), spec.bias!] : [spec.src, spec.weights, out, shapeParams(gpu, [M])],
    workgroups: [gx, gy, gz],
  });
  return out;
}

/** y [N,Ho,Wo,Cout] = act(conv2d(x [N,H,W,Cin], w [KH,KW,Cin,Cout]) + bias). */
export function conv2d(gpu: Gpu, x: Tensor, w: Tensor, opts: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  expectDtype(op, x, 'f32');
  expectDtype(op, w, 'f32');
  expectRank(op, x, 4);
  expectRank(op, w, 4);
  const g = conv2dGeometry(op, x.shape, w.shape, opts);
  opts = tunedConvOptions(gpu, 'forward', g, opts);
  if (opts.bias) {
    expectDtype(op, opts.bias, 'f32');
    if (opts.bias.size !== g.Cout) throw new ShapeError(`${op}: bias ${fmtShape(opts.bias.shape)} does not match ${g.Cout} output channels`);
  }
  const relu = (opts.activation ?? 'none') === 'relu';
  if (!relu && usePointwiseGemm(gpu, g, opts.algorithm)) return conv1x1(gpu, x, w, opts.bias);
  if (useWinograd(op, gpu, g, opts.algorithm, opts.winogradTile)) {
    const m = opts.winogradTile ?? DEFAULT_TILE;
    return gpu.scope(() => winogradConv(gpu, forwardPass(g), x, winogradFilter(gpu, w, false, m), { bias: opts.bias, relu }, op, m));
  }
  // The stem (Cin = 1): a tiled variant where the tuner chose one (stem-tiled.ts, family stem.forward).
  const stem = (opts.algorithm ?? 'auto') === 'auto' ? tiledStemVariant(gpu, g) : null;
  if (stem) return stemForwardTiled(gpu, g, x, w, opts.bias, relu, stem);
  return gatherConv(gpu, { op, mode: 'forward', g, src: x, weights: w, bias: opts.bias, relu });
}

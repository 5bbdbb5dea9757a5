// Gradients of conv2d (see conv2d.ts for layout and padding) as implicit GEMMs:
// - input:  dx [N,H,W,Cin] = gather GEMM over M = N*H*W, Ncols = Cin, K = KH*KW*Cout, reading dy through
//   the inverted index map (a tap contributes where (h + top - kh) divides by the stride) and the filter
//   transposed once to [KH,KW,Cout,Cin] (small), so its loads stay vec4 along the output channels.
// - filter: dw [KH,KW,Cin,Cout], M = KH*KW*Cin, Ncols = Cout, K = N*Ho*Wo. Each invocation owns 4 rows x
//   4 output channels for one tap; with Cin % 4 == 0 its rows are 4 consecutive input channels (one vec4
//   of x per pixel) and the valid output-column range is computed once per tap, so the inner loop has no
//   bounds checks. K is split over chunks of (n, oh) rows so that small filters still fill the device;
//   the chunks' partial sums are added by a second pass in a fixed order (deterministic, no atomics).
// - bias:   db [Cout] = sum of dy over N, Ho, Wo, by the same two-level chunked sum.
// The filter and bias gradients read the row count (N*Ho, N*Ho*Wo) and rows per chunk at run time
// (shape-params.ts), so batch sizes whose chunk count agrees share one pipeline; the bias gradient
// reads its channel count and the chunk sum its chunk and element counts there too, so one pipeline
// each serves every layer (the chunk sum's baked loop was unrolled: 0.53 CPU s to compile at 32 chunks).
// Under 'auto', the input gradient of a 1x1 stride-1 conv without padding is the GEMM dy · wᵀ on the
// Winograd GEMM with one position (usePointwiseGemm); its filter gradient stays on the kernel here, which
// measured faster on lavapipe than the tile reduction of winograd-filter-grad.ts (bench/RESULTS.md).
// The tuner may replace either 1x1 gradient per layer by a tiled GEMM (conv1x1-tiled.ts: families
// conv1x1.input-grad, conv1x1.filter-grad; the filter gradient's chunks are summed here).

import { wgsl } from './wgsl';
import { ShapeError, fmtShape, type Gpu, type Tensor } from '../gpu';
import { expectDtype, expectRank } from './checks';
import { type Conv2dGeometry, type Conv2dGeometryOptions, conv2dGeometry, spatialKey } from './conv-geometry';
import { shapeDecl, shapeParams } from './shape-params';
import { gatherConv, usePointwiseGemm, useWinograd } from './conv2d';
import { foldGrid } from './grid';
import { DEFAULT_TILE, batchedGemm, inputGradPass, winogradConv, winogradFilter } from './winograd';
import { winogradFilterGrad } from './winograd-filter-grad';
import { transpose } from './transpose';
import type { TiledLanes } from './matmul-tiled';
import { tunedConvOptions } from './conv-variants';
import { conv1x1FilterGradPartials, conv1x1InputGradTiled, tiledConv1x1Lanes } from './conv1x1-tiled';

const WG = 64;
// Split K until about this many invocations run (enough for a real GPU; harmless on a CPU adapter).
const TARGET_INVOCATIONS = 16384;

function expectGradShape(op: string, dy: Tensor, g: Conv2dGeometry): void {
  const want = [g.N, g.Ho, g.Wo, g.Cout];
  if (dy.shape.length !== 4 || dy.shape.some((d, i) => d !== want[i])) {
    throw new ShapeError(`${op}: output gradient ${fmtShape(dy.shape)} does not match the conv output ${fmtShape(want)}`);
  }
}

/** dx [N,H,W,Cin] of y = conv2d(x, w) given dy [N,Ho,Wo,Cout]. */
export function conv2dBackwardInput(gpu: Gpu, dy: Tensor, w: Tensor, inputShape: readonly number[], opts: Conv2dGeometryOptions = {}): Tensor {
  const op = 'conv2dBackwardInput';
  expectDtype(op, dy, 'f32');
  expectDtype(op, w, 'f32');
  expectRank(op, w, 4);
  const g = conv2dGeometry(op, inputShape, w.shape, opts);
  expectGradShape(op, dy, g);
  opts = tunedConvOptions(gpu, 'input-grad', g, opts);
  if (usePointwiseGemm(gpu, g, opts.algorithm)) {
    // dx [NHW, Cin] = dy [NHW, Cout] · wᵀ [Cout, Cin].
    const lanes = tiledConv1x1Lanes(gpu, 'input-grad', inputShape, g.Cout);
    if (lanes) return conv1x1InputGradTiled(gpu, dy, w, lanes);
    const M = g.N * g.H * g.W;
    return gpu.scope(() => batchedGemm(gpu, dy.reshape([1, M, g.Cout]), transpose(gpu, w.reshape([1, g.Cin, g.Cout])), undefined, op).reshape([g.N, g.H, g.W, g.Cin]));
  }
  if (useWinograd(op, gpu, g, opts.algorithm, opts.winogradTile)) {
    const m = opts.winogradTile ?? DEFAULT_TILE;
    return gpu.scope(() => winogradConv(gpu, inputGradPass(g), dy, winogradFilter(gpu, w, true, m), { relu: false }, op, m));
  }
  return gpu.scope(() => {
    const wT = transpose(gpu, w.reshape([g.KH * g.KW, g.Cin, g.Cout]));
    return gatherConv(gpu, { op, mode: 'input-grad', g, src: dy, weights: wT, relu: false });
  });
}

/** out [E] = sum over the S rows of partials [S, E], in row order (S and E read at run time: one pipeline for every layer). */
function sumChunks(gpu: Gpu, op: string, partials: Tensor, out: Tensor): void {
  const [S, E] = partials.shape as [number, number];
  const [gy, gz] = foldGrid(Math.ceil(E / WG));
  gpu.dispatch({
    name: op,
    key: `${op}.sumChunks`,
    code: () => `
@group(0) @binding(0) var<storage, read> P: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
${shapeDecl(['S', 'E'], 2)}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let e = gid.x + gid.z * groups.x * ${WG}u;
  if (e >= shape.E) { return; }
  var s = 0.0;
  for (var c = 0u; c < shape.S; c++) { s += P[c * shape.E + e]; }
  out[e] = s;
}`,
    bindings: [partials, out, shapeParams(gpu, [S, E])],
    workgroups: [gy, 1, gz],
  });
}

/** How many chunks to split `rows` reduction rows into, given the invocations available without splitting. */
function chunkCount(rows: number, invocations: number): number {
  return Math.max(1, Math.min(rows, Math.ceil(TARGET_INVOCATIONS / invocations)));
}

/** dw [KH,KW,Cin,Cout] of y = conv2d(x, w) given x [N,H,W,Cin] and dy [N,Ho,Wo,Cout]. */
export function conv2dBackwardFilter(gpu: Gpu, x: Tensor, dy: Tensor, filterShape: readonly number[], opts: Conv2dGeometryOptions = {}): Tensor {
  const op = 'conv2dBackwardFilter';
  expectDtype(op, x, 'f32');
  expectDtype(op, dy, 'f32');
  expectRank(op, x, 4);
  const g = conv2dGeometry(op, x.shape, filterShape, opts);
  expectGradShape(op, dy, g);
  opts = tunedConvOptions(gpu, 'filter-grad', g, opts);
  if (useWinograd(op, gpu, g, opts.algorithm, opts.winogradTile)) return winogradFilterGrad(gpu, g, x, dy, opts.winogradTile ?? DEFAULT_TILE);
  const lanes = usePointwiseGemm(gpu, g, opts.algorithm) ? tiledConv1x1Lanes(gpu, 'filter-grad', x.shape, g.Cout) : null;
  if (lanes) return tiledPointwiseFilterGrad(gpu, op, x, dy, lanes);
  const M = g.KH * g.KW * g.Cin;
  const xVec = g.Cin % 4 === 0;
  const dyVec = g.Cout % 4 === 0;
  const colGroups = Math.ceil(g.Cout / 4);
  const rowGroups = Math.ceil(M / 4);
  const rows = g.N * g.Ho;
  const chunks = chunkCount(rows, rowGroups * colGroups);
  const perChunk = Math.ceil(rows / chunks);
  const dw = gpu.empty([g.KH, g.KW, g.Cin, g.Cout], 'f32', op);
  const partials = chunks > 1 ? gpu.empty([chunks, M * g.Cout], 'f32', `${op}.partials`) : dw;
  const code = () => wgsl`
@group(0) @binding(0) var<storage, read> X: array<${xVec ? 'vec4f' : 'f32'}>;
@group(0) @binding(1) var<storage, read> DY: array<${dyVec ? 'vec4f' : 'f32'}>;
@group(0) @binding(2) var<storage, read_write> P: array<f32>;
${shapeDecl(['rows', 'perChunk'], 3)}
const H = ${g.H};
const W = ${g.W};
const CIN = ${g.Cin}u;
const COUT = ${g.Cout}u;
const HO = ${g.Ho}u;
const WO = ${g.Wo}u;
const M = ${M}u;

// dy[pixel p, channels d..d+3] (zero past Cout).
fn loadDy(p: u32, d: u32) -> vec4f {
#if ${dyVec}
  return DY[p * ${g.Cout / 4}u + d / 4u];
#else
  var v = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (d + j < COUT) { v[j] = DY[p * COUT + d + j]; }
  }
  return v;
#endif
}

@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let inv = gid.x;
  let d0 = (inv % ${colGroups}u) * 4u;
  let r0 = (inv / ${colGroups}u) * 4u;
  if (r0 >= M) { return; }
  let chunk = gid.y;
  let rowEnd = min((chunk + 1u) * shape.perChunk, shape.rows);
  var acc: array<vec4f, 4>;
#if ${xVec}
  let tap = r0 / CIN;
  let ci0 = r0 % CIN;
  let kh = i32(tap / ${g.KW}u);
  let kw = i32(tap % ${g.KW}u);
  // Output columns whose input column ow*s + kw - left lies inside the image.
  let owLo = u32(max(0, (${g.left} - kw + ${g.strideW - 1}) / ${g.strideW}));
  let span = W - 1 + ${g.left} - kw;
  let owHi = select(0u, min(u32(span / ${g.strideW} + 1), WO), span >= 0);
  for (var row = chunk * shape.perChunk; row < rowEnd; row++) {
    let n = row / HO;
    let oh = row % HO;
    let ih = i32(oh) * ${g.strideH} + kh - ${g.top};
    if (ih < 0 || ih >= H) { continue; }
    let xRow = (n * u32(H) + u32(ih)) * u32(W);
    for (var ow = owLo; ow < owHi; ow++) {
      let iw = ow * ${g.strideW}u + u32(kw) - ${g.left}u;
      let a = X[((xRow + iw) * CIN + ci0) / 4u];
      let b = loadDy(row * WO + ow, d0);
      acc[0] = fma(vec4f(a.x), b, acc[0]);
      acc[1] = fma(vec4f(a.y), b, acc[1]);
      acc[2] = fma(vec4f(a.z), b, acc[2]);
      acc[3] = fma(vec4f(a.w), b, acc[3]);
    }
  }
#else
  // Rows may straddle taps: each of the 4 rows resolves its own tap and input channel.
  var khs: array<i32, 4>;
  var kws: array<i32, 4>;
  var cis: array<u32, 4>;
  for (var i = 0u; i < 4u; i++) {
    let r = min(r0 + i, M - 1u);
    let tap = r / CIN;
    khs[i] = i32(tap / ${g.KW}u);
    kws[i] = i32(tap % ${g.KW}u);
    cis[i] = r % CIN;
  }
  for (var row = chunk * shape.perChunk; row < rowEnd; row++) {
    let n = row / HO;
    let oh = i32(row % HO);
    for (var ow = 0u; ow < WO; ow++) {
      let b = loadDy(row * WO + ow, d0);
      for (var i = 0u; i < 4u; i++) {
        let ih = oh * ${g.strideH} + khs[i] - ${g.top};
        let iw = i32(ow) * ${g.strideW} + kws[i] - ${g.left};
        if (ih >= 0 && ih < H && iw >= 0 && iw < W) {
          let a = X[((n * u32(H) + u32(ih)) * u32(W) + u32(iw)) * CIN + cis[i]];
          acc[i] = fma(vec4f(a), b, acc[i]);
        }
      }
    }
  }
#endif
  let base = chunk * ${M * g.Cout}u;
  for (var i = 0u; i < 4u; i++) {
    let r = r0 + i;
    if (r >= M) { break; }
    for (var j = 0u; j < 4u; j++) {
      if (d0 + j < COUT) { P[base + r * COUT + d0 + j] = acc[i][j]; }
    }
  }
}`;
  gpu.dispatch({
    name: op,
    key: `${op}:${spatialKey(g)}:${chunks}`,
    code,
    bindings: [x, dy, partials, shapeParams(gpu, [rows, perChunk])],
    workgroups: [Math.ceil((rowGroups * colGroups) / WG), chunks],
  });
  if (chunks > 1) {
    sumChunks(gpu, op, partials, dw);
    partials.dispose();
  }
  return dw;
}

/** dw [1,1,Cin,Cout] of a 1x1 conv by the tiled split-K GEMM, its chunks summed in order. */
function tiledPointwiseFilterGrad(gpu: Gpu, op: string, x: Tensor, dy: Tensor, lanes: TiledLanes): Tensor {
  const [Cin, Cout] = [x.shape[3]!, dy.shape[3]!];
  return gpu.scope(() => {
    const partials = conv1x1FilterGradPartials(gpu, x, dy, lanes);
    if (partials.shape[0] === 1) return partials.reshape([1, 1, Cin, Cout]);
    const dw = gpu.empty([1, 1, Cin, Cout], 'f32', op);
    sumChunks(gpu, op, partials, dw);
    return dw;
  });
}

/** db [Cout] = sum of dy [N,Ho,Wo,Cout] over its first three axes. */
export function conv2dBackwardBias(gpu: Gpu, dy: Tensor): Tensor {
  const op = 'conv2dBackwardBias';
  expectDtype(op, dy, 'f32');
  expectRank(op, dy, 4);
  const C = dy.shape[3]!;
  const rows = dy.size / C;
  const chunks = chunkCount(rows, C);
  const perChunk = Math.ceil(rows / chunks);
  const partials = gpu.empty([chunks, C], 'f32', `${op}.partials`);
  const db = gpu.empty([C], 'f32', op);
  gpu.dispatch({
    name: op,
    key: op,
    code: () => `
@group(0) @binding(0) var<storage, read> DY: array<f32>;
@group(0) @binding(1) var<storage, read_write> P: array<f32>;
${shapeDecl(['rows', 'perChunk', 'C'], 2)}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= shape.C) { return; }
  let end = min((gid.y + 1u) * shape.perChunk, shape.rows);
  var s = 0.0;
  for (var r = gid.y * shape.perChunk; r < end; r++) { s += DY[r * shape.C + c]; }
  P[gid.y * shape.C + c] = s;
}`,
    bindings: [dy, partials, shapeParams(gpu, [rows, perChunk, C])],
    workgroups: [Math.ceil(C / WG), chunks],
  });
  sumChunks(gpu, op, partials, db);
  partials.dispose();
  return db;
}

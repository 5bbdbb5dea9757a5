// Pooling over NHWC activations [N, H, W, C], row-major.
// Max pooling: 2x2 windows, stride 2, floor semantics (an odd H or W drops the last row or column, as
// Keras' padding='valid'). The forward also writes, per output, the flat index into x of the window's
// maximum (u32; the first in window order (0,0),(0,1),(1,0),(1,1) on ties, as TensorFlow; a NaN is
// passed over unless the whole window is NaN). The backward needs no atomics because windows do not
// overlap: one invocation per window, including the partial windows of an odd H or W, reads dy and
// the argmax once and writes all of its (up to four) inputs: dy at the chosen one, 0 elsewhere and in
// the dropped rows and columns.
// Global average pooling [N, H, W, C] -> [N, C]: one workgroup per (image, 32 channels) with 8 lanes
// over the H*W positions, reduced in workgroup memory (deterministic); its backward spreads
// dy / (H*W). Elsewhere one invocation per element (four channels with vec4 when C % 4 == 0), on a
// grid1d grid. The batch size N is a runtime value (shape-params.ts: element counts and N in a uniform,
// the grid stride from num_workgroups), so one pipeline serves every batch size of a layer.

import { wgsl } from './wgsl';
import { ShapeError, fmtShape, grid1d, type Gpu, type Tensor } from '../gpu';
import { expectDtype, expectRank } from './checks';
import { CH_LANES, ROW_LANES } from './reduce-axes';
import { shapeDecl, shapeParams } from './shape-params';

const WG = 256;

function nhwc(op: string, x: Tensor): [number, number, number, number] {
  expectDtype(op, x, 'f32');
  expectRank(op, x, 4);
  return x.shape as [number, number, number, number];
}

export function maxPool2x2(gpu: Gpu, x: Tensor): { y: Tensor; argmax: Tensor } {
  const op = 'maxPool2x2';
  const [N, H, W, C] = nhwc(op, x);
  if (H < 2 || W < 2) throw new ShapeError(`${op}: '${x.label}' ${fmtShape(x.shape)} needs H >= 2 and W >= 2`);
  const Ho = Math.floor(H / 2);
  const Wo = Math.floor(W / 2);
  const v = lanesOf(C);
  const n = (N * Ho * Wo * C) / v.L;
  const y = gpu.empty([N, Ho, Wo, C], 'f32', op);
  const argmax = gpu.empty([N, Ho, Wo, C], 'u32', `${op}.argmax`);
  const [gx, gy] = grid1d(n, WG, gpu.limits.maxComputeWorkgroupsPerDimension);
  gpu.dispatch({
    name: op,
    key: `${op}:${H}:${W}:${C}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> x: array<${v.F}>;
@group(0) @binding(1) var<storage, read_write> y: array<${v.F}>;
@group(0) @binding(2) var<storage, read_write> argmax: array<${v.U}>;
${shapeDecl(['count'], 3)}
const CL = ${C / v.L}u;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let o = g.x + g.y * groups.x * ${WG}u;
  if (o >= shape.count) { return; }
  let c = o % CL;
  let wo = (o / CL) % ${Wo}u;
  let ho = (o / (CL * ${Wo}u)) % ${Ho}u;
  let b = o / (CL * ${Wo * Ho}u);
  let base = ((b * ${H}u + 2u * ho) * ${W}u + 2u * wo) * CL + c;
  var best = x[base];
  var bi = ${v.U}(base * ${v.L}u) + ${v.lane};
  for (var k = 1u; k < 4u; k++) {
    let i = base + (k >> 1u) * ${W}u * CL + (k & 1u) * CL;
    let e = x[i];
    // NaN tested on the bits: compilers may fold x != x away.
    let take = (e > best) | ((bitcast<${v.U}>(best) & ${v.U}(0x7fffffffu)) > ${v.U}(0x7f800000u));
    best = select(best, e, take);
    bi = select(bi, ${v.U}(i * ${v.L}u) + ${v.lane}, take);
  }
  y[o] = best;
  argmax[o] = bi;
}`,
    bindings: [x, y, argmax, shapeParams(gpu, [n])],
    workgroups: [gx, gy],
  });
  return { y, argmax };
}

/** dx [N, H, W, C] from dy and the argmax of maxPool2x2 (xShape: the forward input's shape). */
export function maxPool2x2Backward(gpu: Gpu, dy: Tensor, argmax: Tensor, xShape: readonly number[]): Tensor {
  const op = 'maxPool2x2Backward';
  expectDtype(op, dy, 'f32');
  expectDtype(op, argmax, 'u32');
  if (xShape.length !== 4) throw new ShapeError(`${op}: input shape ${fmtShape(xShape)} must be [N, H, W, C]`);
  const [N, H, W, C] = xShape as [number, number, number, number];
  const Ho = Math.floor(H / 2);
  const Wo = Math.floor(W / 2);
  const want = [N, Ho, Wo, C];
  for (const t of [dy, argmax]) {
    if (t.shape.length !== 4 || t.shape.some((d, i) => d !== want[i])) {
      throw new ShapeError(`${op}: '${t.label}' ${fmtShape(t.shape)} should be ${fmtShape(want)} for an input of ${fmtShape(xShape)}`);
    }
  }
  const v = lanesOf(C);
  const Hc = Math.ceil(H / 2);
  const Wc = Math.ceil(W / 2);
  const n = (N * Hc * Wc * C) / v.L;
  const dx = gpu.empty(xShape, 'f32', `${op}.dx`);
  const [gx, gy] = grid1d(n, WG, gpu.limits.maxComputeWorkgroupsPerDimension);
  gpu.dispatch({
    name: op,
    key: `${op}:${H}:${W}:${C}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> dy: array<${v.F}>;
@group(0) @binding(1) var<storage, read> argmax: array<${v.U}>;
@group(0) @binding(2) var<storage, read_write> dx: array<${v.F}>;
${shapeDecl(['count'], 3)}
const CL = ${C / v.L}u;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = g.x + g.y * groups.x * ${WG}u;
  if (i >= shape.count) { return; }
  let c = i % CL;
  let wp = (i / CL) % ${Wc}u;
  let hp = (i / (CL * ${Wc}u)) % ${Hc}u;
  let b = i / (CL * ${Wc * Hc}u);
  // A window cut by an odd H or W was dropped by the forward: its inputs get 0 (no index matches).
  var d = ${v.F}(0.0);
  var chosen = ${v.U}(0xffffffffu);
  if (hp < ${Ho}u && wp < ${Wo}u) {
    let o = ((b * ${Ho}u + hp) * ${Wo}u + wp) * CL + c;
    d = dy[o];
    chosen = argmax[o];
  }
  let base = ((b * ${H}u + 2u * hp) * ${W}u + 2u * wp) * CL + c;
  for (var k = 0u; k < 4u; k++) {
    let h = 2u * hp + (k >> 1u);
    let w = 2u * wp + (k & 1u);
    if (h < ${H}u && w < ${W}u) {
      let e = base + (k >> 1u) * ${W}u * CL + (k & 1u) * CL;
      dx[e] = select(${v.F}(0.0), d, chosen == ${v.U}(e * ${v.L}u) + ${v.lane});
    }
  }
}`,
    bindings: [dy, argmax, dx, shapeParams(gpu, [n])],
    workgroups: [gx, gy],
  });
  return dx;
}

// Four channels per invocation (vec4 loads) when C allows, else one.
function lanesOf(C: number): { L: number; F: string; U: string; lane: string } {
  return C % 4 === 0 ? { L: 4, F: 'vec4f', U: 'vec4u', lane: 'vec4u(0u, 1u, 2u, 3u)' } : { L: 1, F: 'f32', U: 'u32', lane: '0u' };
}

export function globalAvgPool(gpu: Gpu, x: Tensor): Tensor {
  const op = 'globalAvgPool';
  const [N, H, W, C] = nhwc(op, x);
  const P = H * W;
  const y = gpu.empty([N, C], 'f32', op);
  gpu.dispatch({
    name: op,
    key: `${op}:${P}:${C}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
${shapeDecl(['batch'], 2)}
var<workgroup> acc: array<array<f32, ${CH_LANES}>, ${ROW_LANES}>;
@compute @workgroup_size(${CH_LANES}, ${ROW_LANES})
fn main(@builtin(local_invocation_id) l: vec3u, @builtin(workgroup_id) w: vec3u) {
  let c = w.x * ${CH_LANES}u + l.x;
  let b = w.y + w.z * 65535u;
  var s = 0.0;
  if (c < ${C}u) {
    for (var p = l.y; p < ${P}u; p += ${ROW_LANES}u) { s += x[(b * ${P}u + p) * ${C}u + c]; }
  }
  acc[l.y][l.x] = s;
  for (var stride = ${ROW_LANES / 2}u; stride > 0u; stride >>= 1u) {
    workgroupBarrier();
    if (l.y < stride) { acc[l.y][l.x] += acc[l.y + stride][l.x]; }
  }
  if (l.y == 0u && c < ${C}u && b < shape.batch) { y[b * ${C}u + c] = acc[0][l.x] / ${P}.0; }
}`,
    bindings: [x, y, shapeParams(gpu, [N])],
    workgroups: [Math.ceil(C / CH_LANES), Math.min(N, 65535), Math.ceil(N / 65535)],
  });
  return y;
}

/** dx [N, H, W, C] = dy[n, c] / (H*W) everywhere (xShape: the forward input's shape). */
export function globalAvgPoolBackward(gpu: Gpu, dy: Tensor, xShape: readonly number[]): Tensor {
  const op = 'globalAvgPoolBackward';
  expectDtype(op, dy, 'f32');
  if (xShape.length !== 4) throw new ShapeError(`${op}: input shape ${fmtShape(xShape)} must be [N, H, W, C]`);
  const [N, H, W, C] = xShape as [number, number, number, number];
  if (dy.shape.length !== 2 || dy.shape[0] !== N || dy.shape[1] !== C) {
    throw new ShapeError(`${op}: '${dy.label}' ${fmtShape(dy.shape)} should be [${N}, ${C}] for an input of ${fmtShape(xShape)}`);
  }
  const P = H * W;
  const n = N * P * C;
  const dx = gpu.empty(xShape, 'f32', `${op}.dx`);
  const [gx, gy] = grid1d(n, WG, gpu.limits.maxComputeWorkgroupsPerDimension);
  gpu.dispatch({
    name: op,
    key: `${op}:${P}:${C}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;
${shapeDecl(['count'], 2)}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = g.x + g.y * groups.x * ${WG}u;
  if (i >= shape.count) { return; }
  dx[i] = dy[(i / ${P * C}u) * ${C}u + i % ${C}u] / ${P}.0;
}`,
    bindings: [dy, dx, shapeParams(gpu, [n])],
    workgroups: [gx, gy],
  });
  return dx;
}

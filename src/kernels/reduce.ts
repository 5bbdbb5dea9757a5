// Reductions: sum and sum of squares of a whole f32 tensor (to shape [1]), and per-row max and argmax of
// a [rows, cols] tensor.
// Whole-tensor sums are two-level: each workgroup of 256 strides over its slice and reduces in workgroup
// memory to one partial; a second single-workgroup pass sums the partials (at most 1024 of them), so the
// float32 error grows with log(n) rather than n. Row reductions use one workgroup per row (rows laid on
// a 2-D grid); ties in argmax resolve to the lowest column index; NaNs are skipped.

import { wgsl } from './wgsl';
import { ShapeError, fmtShape, grid1d, type Gpu, type Tensor } from '../gpu';
import { expectDtype, expectRank } from './checks';

const WG = 256;
const MAX_PARTIALS = 1024;

function treeReduce(op: string): string {
  return `
  for (var stride = ${WG / 2}u; stride > 0u; stride >>= 1u) {
    workgroupBarrier();
    if (l < stride) { ${op} }
  }`;
}

/** Sum of x (or of x² with squares) into a [1] tensor. */
function sumKernel(gpu: Gpu, x: Tensor, squares: boolean): Tensor {
  const op = squares ? 'sumSquares' : 'sum';
  expectDtype(op, x, 'f32');
  const n = x.size;
  const groups = Math.min(MAX_PARTIALS, Math.ceil(n / WG));
  const partials = gpu.empty([groups], 'f32', `${op}.partials`);
  const out = gpu.empty([1], 'f32', op);
  const stage = (first: boolean, count: number, nGroups: number) => wgsl`
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
var<workgroup> acc: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) l: u32, @builtin(workgroup_id) w: vec3u) {
  var s = 0.0;
  for (var i = w.x * ${WG}u + l; i < ${count}u; i += ${nGroups * WG}u) {
    let v = x[i];
#if ${first && squares}
    s += v * v;
#else
    s += v;
#endif
  }
  acc[l] = s;${treeReduce('acc[l] += acc[l + stride];')}
  if (l == 0u) { out[w.x] = acc[0]; }
}`;
  gpu.dispatch({ name: op, key: `${op}.1:${n}:${groups}`, code: () => stage(true, n, groups), bindings: [x, partials], workgroups: [groups] });
  gpu.dispatch({ name: op, key: `sum.2:${groups}`, code: () => stage(false, groups, 1), bindings: [partials, out], workgroups: [1] });
  partials.dispose();
  return out;
}

export const sum = (gpu: Gpu, x: Tensor): Tensor => sumKernel(gpu, x, false);
export const sumSquares = (gpu: Gpu, x: Tensor): Tensor => sumKernel(gpu, x, true);

/** Per-row maximum ([rows] f32) and its column index ([rows] u32) of a [rows, cols] tensor. */
export function rowMaxArgmax(gpu: Gpu, x: Tensor): { max: Tensor; argmax: Tensor } {
  const op = 'rowMaxArgmax';
  expectDtype(op, x, 'f32');
  expectRank(op, x, 2);
  const [rows, cols] = x.shape as [number, number];
  if (cols < 1) throw new ShapeError(`${op}: ${fmtShape(x.shape)} has no columns`);
  const [gx, gy] = grid1d(rows, 1, gpu.limits.maxComputeWorkgroupsPerDimension);
  const max = gpu.empty([rows], 'f32', `${op}.max`);
  const argmax = gpu.empty([rows], 'u32', `${op}.argmax`);
  gpu.dispatch({
    name: op,
    key: `${op}:${rows}:${cols}:${gx}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> maxOut: array<f32>;
@group(0) @binding(2) var<storage, read_write> argOut: array<u32>;
var<workgroup> bestV: array<f32, ${WG}>;
var<workgroup> bestI: array<u32, ${WG}>;
const NEG = -3.4028234e38;
fn better(v: f32, i: u32, w: f32, j: u32) -> bool {
  return v > w || (v == w && i < j);
}
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) l: u32, @builtin(workgroup_id) g: vec3u) {
  let row = g.x + g.y * ${gx}u;
  let valid = row < ${rows}u;
  var v = NEG;
  var vi = ${cols}u;
  if (valid) {
    for (var c = l; c < ${cols}u; c += ${WG}u) {
      let e = x[row * ${cols}u + c];
      if (e == e && (vi == ${cols}u || better(e, c, v, vi))) { v = e; vi = c; }
    }
  }
  bestV[l] = v;
  bestI[l] = vi;
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    workgroupBarrier();
    if (l < s && bestI[l + s] != ${cols}u && (bestI[l] == ${cols}u || better(bestV[l + s], bestI[l + s], bestV[l], bestI[l]))) {
      bestV[l] = bestV[l + s];
      bestI[l] = bestI[l + s];
    }
  }
  if (l == 0u && valid) {
    maxOut[row] = bestV[0];
    argOut[row] = select(0u, bestI[0], bestI[0] != ${cols}u);
  }
}`,
    bindings: [x, max, argmax],
    workgroups: [gx, gy],
  });
  return { max, argmax };
}

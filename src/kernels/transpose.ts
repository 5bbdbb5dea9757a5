// Transpose of the last two axes: [..., R, C] -> [..., C, R] (leading axes are a batch).
// Tiling: 16x16 tiles staged through workgroup memory (one padding column against bank conflicts) so
// both the read and the write are contiguous along rows; batch on the z dimension of the grid.

import { wgsl } from './wgsl';
import { ShapeError, fmtShape, type Gpu, type Tensor } from '../gpu';
import { expectDtype } from './checks';

const T = 16;

export function transpose(gpu: Gpu, x: Tensor): Tensor {
  const op = 'transpose';
  expectDtype(op, x, 'f32', 'i32', 'u32');
  if (x.shape.length < 2) throw new ShapeError(`${op}: '${x.label}' ${fmtShape(x.shape)} needs at least 2 axes`);
  const R = x.shape[x.shape.length - 2]!;
  const C = x.shape[x.shape.length - 1]!;
  const batch = x.size / (R * C);
  const out = gpu.empty([...x.shape.slice(0, -2), C, R], x.dtype, op);
  const ty = x.dtype === 'f32' ? 'f32' : x.dtype === 'i32' ? 'i32' : 'u32';
  gpu.dispatch({
    name: op,
    key: `${op}:${ty}:${batch}:${R}:${C}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> x: array<${ty}>;
@group(0) @binding(1) var<storage, read_write> y: array<${ty}>;
var<workgroup> tile: array<array<${ty}, ${T + 1}>, ${T}>;
@compute @workgroup_size(${T}, ${T})
fn main(@builtin(workgroup_id) w: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let base = w.z * ${R * C}u;
  let r = w.y * ${T}u + l.y;
  let c = w.x * ${T}u + l.x;
  if (r < ${R}u && c < ${C}u) { tile[l.y][l.x] = x[base + r * ${C}u + c]; }
  workgroupBarrier();
  let orow = w.x * ${T}u + l.y;
  let ocol = w.y * ${T}u + l.x;
  if (orow < ${C}u && ocol < ${R}u) { y[base + orow * ${R}u + ocol] = tile[l.x][l.y]; }
}`,
    bindings: [x, out],
    workgroups: [Math.ceil(C / T), Math.ceil(R / T), batch],
  });
  return out;
}

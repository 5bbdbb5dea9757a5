// Sums over every axis but the last: x [..., C] -> [C] (the bias gradient of dense and conv layers).
// Layout: x is read as rows [R, C] with R the product of the leading axes, row-major.
// Two levels, deterministic (no atomics, fixed summation order): workgroups of 32 channels x 8 row
// lanes stride over a slice of the rows and reduce the lanes in workgroup memory to one partial per
// (slice, channel); a second pass sums the at most MAX_SLICES partials of each channel in order.
// Threads of a workgroup read neighbouring channels, so loads stay contiguous. The slicing is shared
// with the batch-norm statistics (channelSlices).

import { wgsl } from './wgsl';
import { ShapeError, fmtShape, type Gpu, type Tensor } from '../gpu';
import { expectDtype } from './checks';

export const CH_LANES = 32;
export const ROW_LANES = 8;
const MAX_SLICES = 128;
const ROWS_PER_SLICE_MIN = 64;

/** How R rows of C channels split into slices for a two-level per-channel reduction. */
export function channelSlices(R: number, C: number): { slices: number; groupsX: number } {
  return { slices: Math.min(MAX_SLICES, Math.ceil(R / ROWS_PER_SLICE_MIN)), groupsX: Math.ceil(C / CH_LANES) };
}

/** [rows, channels] of a tensor read as [..., C]. */
export function rowsAndChannels(op: string, x: Tensor): [number, number] {
  if (x.shape.length < 1) throw new ShapeError(`${op}: '${x.label}' ${fmtShape(x.shape)} has no channel axis`);
  const C = x.shape[x.shape.length - 1]!;
  return [x.size / C, C];
}

export function sumToLastAxis(gpu: Gpu, x: Tensor): Tensor {
  const op = 'sumToLastAxis';
  expectDtype(op, x, 'f32');
  const [R, C] = rowsAndChannels(op, x);
  const { slices, groupsX } = channelSlices(R, C);
  const partials = gpu.empty([slices, C], 'f32', `${op}.partials`);
  const out = gpu.empty([C], 'f32', op);
  gpu.dispatch({
    name: op,
    key: `${op}.1:${R}:${C}:${slices}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;
var<workgroup> acc: array<array<f32, ${CH_LANES}>, ${ROW_LANES}>;
@compute @workgroup_size(${CH_LANES}, ${ROW_LANES})
fn main(@builtin(local_invocation_id) l: vec3u, @builtin(workgroup_id) w: vec3u) {
  let c = w.x * ${CH_LANES}u + l.x;
  var s = 0.0;
  if (c < ${C}u) {
    for (var r = w.y * ${ROW_LANES}u + l.y; r < ${R}u; r += ${slices * ROW_LANES}u) { s += x[r * ${C}u + c]; }
  }
  acc[l.y][l.x] = s;
  for (var stride = ${ROW_LANES / 2}u; stride > 0u; stride >>= 1u) {
    workgroupBarrier();
    if (l.y < stride) { acc[l.y][l.x] += acc[l.y + stride][l.x]; }
  }
  if (l.y == 0u && c < ${C}u) { partials[w.y * ${C}u + c] = acc[0][l.x]; }
}`,
    bindings: [x, partials],
    workgroups: [groupsX, slices],
  });
  gpu.dispatch({
    name: op,
    key: `${op}.2:${C}:${slices}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> partials: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u) {
  let c = g.x;
  if (c >= ${C}u) { return; }
  var s = 0.0;
  for (var p = 0u; p < ${slices}u; p++) { s += partials[p * ${C}u + c]; }
  out[c] = s;
}`,
    bindings: [partials, out],
    workgroups: [Math.ceil(C / 64)],
  });
  partials.dispose();
  return out;
}

// Row gather: out[b, :] = src[idx[b], :] for a [N, ...] tensor and u32 indices [B], for data held on
// the GPU. (The training loop no longer keeps its data set there: batches.ts assembles each batch on
// the host and uploads it, so GPU memory does not grow with the corpus.) Layout: rows of D = size/N
// contiguous 32-bit elements; one invocation per output element on a grid1d grid (vec4 when
// D % 4 == 0). An index past N writes NaN bits (f32) or 0xffffffff, never reading out of bounds.
// gatherWindows (below) gathers a window of frames per row; mixRows blends each row with a partner row
// of the same batch (mixup's inputs, used by every mixup batch).

import { ShapeError, fmtShape, grid1d, type Gpu, type Tensor } from '../gpu';
import { expectDtype } from './checks';
import { wgsl } from './wgsl';

const WG = 256;

export function gatherRows(gpu: Gpu, src: Tensor, idx: Tensor): Tensor {
  const op = 'gatherRows';
  expectDtype(op, idx, 'u32');
  if (idx.shape.length !== 1) throw new ShapeError(`${op}: indices ${fmtShape(idx.shape)} must be one-dimensional`);
  const N = src.shape[0]!;
  const D = src.size / N;
  const B = idx.size;
  const vec = D % 4 === 0;
  const lanes = vec ? D / 4 : D;
  const total = B * lanes;
  const ty = src.dtype === 'f32' ? 'f32' : src.dtype === 'i32' ? 'i32' : 'u32';
  const T = vec ? `vec4<${ty}>` : ty;
  // NaN bits built from the runtime index: a constant NaN is a WGSL compile error.
  const bad = ty === 'f32' ? 'bitcast<f32>(r | 0x7fc00000u)' : `${ty}(0xffffffffu)`;
  const out = gpu.empty([B, ...src.shape.slice(1)], src.dtype, op);
  const [gx, gy] = grid1d(total, WG, gpu.limits.maxComputeWorkgroupsPerDimension);
  gpu.dispatch({
    name: op,
    key: `${op}:${ty}:${N}:${lanes}:${B}:${vec}:${gx}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> src: array<${T}>;
@group(0) @binding(1) var<storage, read> idx: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<${T}>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.x + g.y * ${gx * WG}u;
  if (i >= ${total}u) { return; }
  let b = i / ${lanes}u;
  let j = i % ${lanes}u;
  let r = idx[b];
  if (r < ${N}u) { out[i] = src[r * ${lanes}u + j]; } else { out[i] = ${T}(${bad}); }
}`,
    bindings: [src, idx, out],
    workgroups: [gx, gy],
  });
  return out;
}

/**
 * Window gather: out[b, h, w, :] = src[idx[b], h, off[b] + w, :] for an [N, H, S, C] f32 tensor,
 * u32 indices and window starts [B], and a window of W <= S frames along axis 2 (the training loop's
 * random crops of longer feature maps, and the windows averaged at evaluation). Layout: NHWC rows,
 * one invocation per output element on a grid1d grid. An index past N, or a window running past S,
 * writes NaN instead of reading out of bounds (the caller keeps off[b] <= S - W).
 */
export function gatherWindows(gpu: Gpu, src: Tensor, idx: Tensor, offsets: Tensor, W: number): Tensor {
  const op = 'gatherWindows';
  expectDtype(op, src, 'f32');
  expectDtype(op, idx, 'u32');
  expectDtype(op, offsets, 'u32');
  if (src.shape.length !== 4) throw new ShapeError(`${op}: source ${fmtShape(src.shape)} must be [N, H, S, C]`);
  const [N, H, S, C] = src.shape as [number, number, number, number];
  const B = idx.size;
  if (idx.shape.length !== 1 || offsets.shape.length !== 1 || offsets.size !== B) {
    throw new ShapeError(`${op}: indices ${fmtShape(idx.shape)} and offsets ${fmtShape(offsets.shape)} must be one-dimensional of the same length`);
  }
  if (!Number.isInteger(W) || W < 1 || W > S) throw new ShapeError(`${op}: window ${W} must be an integer in 1..${S}`);
  const total = B * H * W * C;
  const out = gpu.empty([B, H, W, C], 'f32', op);
  const [gx, gy] = grid1d(total, WG, gpu.limits.maxComputeWorkgroupsPerDimension);
  gpu.dispatch({
    name: op,
    key: `${op}:${N}:${H}:${S}:${C}:${W}:${B}:${gx}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read> idx: array<u32>;
@group(0) @binding(2) var<storage, read> off: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.x + g.y * ${gx * WG}u;
  if (i >= ${total}u) { return; }
  let c = i % ${C}u;
  let w = (i / ${C}u) % ${W}u;
  let h = (i / ${C * W}u) % ${H}u;
  let b = i / ${H * W * C}u;
  let r = idx[b];
  let t = off[b] + w;
  if (r < ${N}u && t < ${S}u) { out[i] = src[((r * ${H}u + h) * ${S}u + t) * ${C}u + c]; } else { out[i] = bitcast<f32>(i | 0x7fc00000u); }
}`,
    bindings: [src, idx, offsets, out],
    workgroups: [gx, gy],
  });
  return out;
}

/**
 * Row blend: out[b, :] = w * x[b, :] + (1 - w) * x[partner[b], :] for an f32 [B, ...] batch, u32
 * partners [B] and the share w as a [1] f32 tensor (read on the GPU: every batch's draw reuses one
 * pipeline). Layout as gatherRows (vec4 when the row length % 4 == 0); a partner past B writes NaN.
 */
export function mixRows(gpu: Gpu, x: Tensor, partners: Tensor, weight: Tensor): Tensor {
  const op = 'mixRows';
  expectDtype(op, x, 'f32');
  expectDtype(op, partners, 'u32');
  expectDtype(op, weight, 'f32');
  const B = x.shape[0]!;
  if (x.shape.length < 1 || partners.shape.length !== 1 || partners.size !== B) {
    throw new ShapeError(`${op}: partners ${fmtShape(partners.shape)} must be [${B}], one row index per row of ${fmtShape(x.shape)}`);
  }
  if (weight.size !== 1) throw new ShapeError(`${op}: the share '${weight.label}' ${fmtShape(weight.shape)} should hold one value`);
  const D = x.size / B;
  const vec = D % 4 === 0;
  const lanes = vec ? D / 4 : D;
  const total = B * lanes;
  const T = vec ? 'vec4f' : 'f32';
  const out = gpu.empty(x.shape, 'f32', op);
  const [gx, gy] = grid1d(total, WG, gpu.limits.maxComputeWorkgroupsPerDimension);
  gpu.dispatch({
    name: op,
    key: `${op}:${B}:${lanes}:${vec}:${gx}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> x: array<${T}>;
@group(0) @binding(1) var<storage, read> partners: array<u32>;
@group(0) @binding(2) var<storage, read> share: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<${T}>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.x + g.y * ${gx * WG}u;
  if (i >= ${total}u) { return; }
  let p = partners[i / ${lanes}u];
  let w = share[0];
  if (p < ${B}u) { out[i] = w * x[i] + (1.0 - w) * x[p * ${lanes}u + i % ${lanes}u]; } else { out[i] = ${T}(bitcast<f32>(p | 0x7fc00000u)); }
}`,
    bindings: [x, partners, weight, out],
    workgroups: [gx, gy],
  });
  return out;
}

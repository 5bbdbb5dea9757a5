// Band masking of a batch of feature maps ("SpecAugment" on the scaled features): out = x, except 0
// wherever an element's frame lies in one of its example's time spans or its row lies in one of its
// row spans. 0 is the training mean of every row after standard scaling, so a masked band carries no
// information rather than an outlier. Layout: x [B, H, W, C] f32 NHWC; spans u32 [B, 2 * (nt + nr)]
// holding per example nt time spans then nr row spans as [start, end) pairs (an empty span has
// end <= start). One invocation per output element on a grid1d grid; a span's loop is over at most
// nt + nr pairs, read from storage (small: a few masks per example). Out-of-range spans simply mask
// nothing beyond the map. Training only: the masks are drawn on the CPU (train/loop/masks.ts).

import { ShapeError, fmtShape, grid1d, type Gpu, type Tensor } from '../gpu';
import { expectDtype } from './checks';
import { wgsl } from './wgsl';

const WG = 256;

export function maskBands(gpu: Gpu, x: Tensor, spans: Tensor, timeSpans: number, rowSpans: number): Tensor {
  const op = 'maskBands';
  expectDtype(op, x, 'f32');
  expectDtype(op, spans, 'u32');
  if (x.shape.length !== 4) throw new ShapeError(`${op}: input ${fmtShape(x.shape)} must be [B, H, W, C]`);
  const [B, H, W, C] = x.shape as [number, number, number, number];
  if (!Number.isInteger(timeSpans) || !Number.isInteger(rowSpans) || timeSpans < 0 || rowSpans < 0 || timeSpans + rowSpans === 0) {
    throw new RangeError(`${op}: span counts must be whole numbers, not both 0 (got ${timeSpans} time, ${rowSpans} row)`);
  }
  const P = 2 * (timeSpans + rowSpans);
  if (spans.shape.length !== 2 || spans.shape[0] !== B || spans.shape[1] !== P) {
    throw new ShapeError(`${op}: spans ${fmtShape(spans.shape)} must be [${B}, ${P}] for ${timeSpans} time and ${rowSpans} row spans`);
  }
  const total = B * H * W * C;
  const out = gpu.empty([B, H, W, C], 'f32', op);
  const [gx, gy] = grid1d(total, WG, gpu.limits.maxComputeWorkgroupsPerDimension);
  gpu.dispatch({
    name: op,
    key: `${op}:${B}:${H}:${W}:${C}:${timeSpans}:${rowSpans}:${gx}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> spans: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.x + g.y * ${gx * WG}u;
  if (i >= ${total}u) { return; }
  let w = (i / ${C}u) % ${W}u;
  let h = (i / ${C * W}u) % ${H}u;
  let b = i / ${H * W * C}u;
  let base = b * ${P}u;
  var masked = false;
  for (var k = 0u; k < ${P}u; k += 2u) {
    let at = select(h, w, k < ${2 * timeSpans}u);
    masked = masked || (at >= spans[base + k] && at < spans[base + k + 1u]);
  }
  out[i] = select(x[i], 0.0, masked);
}`,
    bindings: [x, spans, out],
    workgroups: [gx, gy],
  });
  return out;
}

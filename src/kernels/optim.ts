// Gradient clipping and Adam on the GPU, with no readback: Keras semantics throughout.
// - squaredNorms: per-tensor sums of squares into one [T] buffer, two levels (workgroups of 256, each
//   invocation summing at least ELEMS_PER_LANE elements, vec4 where the size allows, write partials
//   into their tensor's range of a shared buffer; one workgroup per tensor then sums its range in a
//   fixed order), so results are deterministic. Few, long-running workgroups: on lavapipe a
//   workgroup's barriers cost more than its loads (20 tensors of 18k elements: 66 ms with one
//   element per invocation, 5 ms with 32 and vec4). The first pass is one pipeline per layout (vec4
//   or scalar), whatever the tensor: its length comes from the binding (arrayLength), its grid stride
//   from num_workgroups, and its partials range is bound as a slice (each range starts on the
//   device's storage-offset alignment), so a model's tensors share it rather than each compiling one.
// - clipScales: [T] factors. clipnorm c: each tensor times c / max(||g_i||, c); global_clipnorm c:
//   all times c / max(sqrt(sum_i ||g_i||^2), c) (keras 3 base optimizer and tf.clip_by_global_norm).
// - adamUpdate: keras.optimizers.Adam.update_step: m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2);
//   w -= lr_t m / (sqrt(v) + eps), lr_t = lr sqrt(1 - b2^t) / (1 - b1^t), t = iterations + 1. The
//   learning rate and iterations come from one-element GPU buffers, so changing the rate between
//   epochs recompiles nothing and a step needs no CPU write; 1 - b^t is evaluated as -expm1(t ln b)
//   with ln b taken in float64, because 1 - pow(b, t) in float32 is off by 1.3e-5 relative at t = 1
//   for b = 0.999 (b itself rounds to float32).
// Elementwise passes use vec4 when the tensor's size is a multiple of 4; grid1d grids.

import { wgsl } from './wgsl';
import { ShapeError, fmtShape, grid1d, type Gpu, type Tensor } from '../gpu';
import { expectDtype, f32Lit } from './checks';

const WG = 256;
const MAX_PARTIALS = 256;
const ELEMS_PER_LANE = 32;

/** Sums of squares of each tensor, as one [T] f32 tensor (in the order given). */
export function squaredNorms(gpu: Gpu, tensors: readonly Tensor[]): Tensor {
  const op = 'squaredNorms';
  if (tensors.length === 0) throw new ShapeError(`${op}: needs at least one tensor`);
  const counts = tensors.map((t) => {
    expectDtype(op, t, 'f32');
    return Math.min(MAX_PARTIALS, Math.ceil(t.size / (WG * ELEMS_PER_LANE)));
  });
  // Each tensor's partials start on a storage binding-offset boundary, so its pass binds just its range.
  const align = Math.max(1, gpu.limits.minStorageBufferOffsetAlignment / 4);
  const offsets: number[] = [];
  let end = 0;
  for (const c of counts) {
    offsets.push(end);
    end += Math.ceil(c / align) * align;
  }
  const partials = gpu.empty([end], 'f32', `${op}.partials`);
  tensors.forEach((t, i) => {
    const vec = t.size % 4 === 0;
    const [groups, offset] = [counts[i]!, offsets[i]!];
    gpu.dispatch({
      name: op,
      key: `${op}.1:${vec}`,
      code: () => wgsl`
@group(0) @binding(0) var<storage, read> x: array<${vec ? 'vec4f' : 'f32'}>;
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;
var<workgroup> acc: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) l: u32, @builtin(workgroup_id) w: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let n = arrayLength(&x);
  var s = 0.0;
  for (var i = w.x * ${WG}u + l; i < n; i += groups.x * ${WG}u) { s += ${vec ? 'dot(x[i], x[i])' : 'x[i] * x[i]'}; }
  acc[l] = s;
  for (var stride = ${WG / 2}u; stride > 0u; stride >>= 1u) {
    workgroupBarrier();
    if (l < stride) { acc[l] += acc[l + stride]; }
  }
  if (l == 0u) { partials[w.x] = acc[0]; }
}`,
      // The tensor bound to its own length (a pooled buffer may be longer), the partials to its range.
      bindings: [{ buffer: t.buffer, size: t.byteLength }, { buffer: partials.buffer, offset: offset * 4, size: groups * 4 }],
      workgroups: [groups],
    });
  });
  const T = tensors.length;
  const out = gpu.empty([T], 'f32', op);
  const table = (xs: number[]) => `array<u32, ${T}>(${xs.map((x) => `${x}u`).join(', ')})`;
  gpu.dispatch({
    name: op,
    key: `${op}.2:${offsets.join(',')}:${counts.join(',')}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> partials: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
var<workgroup> acc: array<f32, 64>;
@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) l: u32, @builtin(workgroup_id) w: vec3u) {
  let offsets = ${table(offsets)};
  let counts = ${table(counts)};
  let t = w.x;
  var s = 0.0;
  for (var i = l; i < counts[t]; i += 64u) { s += partials[offsets[t] + i]; }
  acc[l] = s;
  for (var stride = 32u; stride > 0u; stride >>= 1u) {
    workgroupBarrier();
    if (l < stride) { acc[l] += acc[l + stride]; }
  }
  if (l == 0u) { out[t] = acc[0]; }
}`,
    bindings: [partials, out],
    workgroups: [T],
  });
  partials.dispose();
  return out;
}

export type ClipMode = { clipnorm: number } | { globalClipnorm: number };

/** [T] factors that bring gradients with the given squared norms within the clip norm. */
export function clipScales(gpu: Gpu, sqNorms: Tensor, mode: ClipMode): Tensor {
  const op = 'clipScales';
  expectDtype(op, sqNorms, 'f32');
  const global = 'globalClipnorm' in mode;
  const c = global ? mode.globalClipnorm : mode.clipnorm;
  positive(op, global ? 'globalClipnorm' : 'clipnorm', c);
  const T = sqNorms.size;
  const out = gpu.empty([T], 'f32', op);
  gpu.dispatch({
    name: op,
    key: `${op}:${T}:${global}:${Math.fround(c)}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> sq: array<f32>;
@group(0) @binding(1) var<storage, read_write> scale: array<f32>;
const C = ${f32Lit(c)};
@compute @workgroup_size(1)
fn main() {
#if ${global}
  var total = 0.0;
  for (var t = 0u; t < ${T}u; t++) { total += sq[t]; }
  let s = C / max(sqrt(total), C);
  for (var t = 0u; t < ${T}u; t++) { scale[t] = s; }
#else
  for (var t = 0u; t < ${T}u; t++) { scale[t] = C / max(sqrt(sq[t]), C); }
#endif
}`,
    bindings: [sqNorms, out],
    workgroups: [1],
  });
  return out;
}

export interface AdamHyper {
  beta1: number;
  beta2: number;
  epsilon: number;
  /** AdamW's decoupled weight decay for this tensor (absent or 0: none): w -= w * wd * lr first. */
  weightDecay?: number;
}

export interface AdamTensors {
  weight: Tensor;
  grad: Tensor;
  m: Tensor;
  v: Tensor;
  /** [1] f32 learning rate. */
  learningRate: Tensor;
  /** [1] u32 updates done so far (this update uses t = iterations + 1). */
  iterations: Tensor;
  /**
   * Clip factors and this tensor's index in them, as a u32 [1] tensor (read on the GPU, so that every
   * parameter shares one pipeline); without, the gradient is used as is.
   */
  clip?: { scales: Tensor; index: Tensor };
}

/** One Adam update of weight, m and v in place. */
export function adamUpdate(gpu: Gpu, t: AdamTensors, h: AdamHyper): void {
  const op = 'adamUpdate';
  for (const x of [t.weight, t.grad, t.m, t.v, t.learningRate]) expectDtype(op, x, 'f32');
  expectDtype(op, t.iterations, 'u32');
  for (const x of [t.grad, t.m, t.v]) {
    if (x.shape.length !== t.weight.shape.length || x.shape.some((d, i) => d !== t.weight.shape[i])) {
      throw new ShapeError(`${op}: '${x.label}' ${fmtShape(x.shape)} does not match weight '${t.weight.label}' ${fmtShape(t.weight.shape)}`);
    }
  }
  const clip = t.clip;
  if (clip) {
    expectDtype(op, clip.scales, 'f32');
    expectDtype(op, clip.index, 'u32');
    if (clip.index.size !== 1) throw new ShapeError(`${op}: clip index '${clip.index.label}' ${fmtShape(clip.index.shape)} should hold one value`);
  }
  const vec = t.weight.size % 4 === 0;
  const T = vec ? 'vec4f' : 'f32';
  const lanes = vec ? t.weight.size / 4 : t.weight.size;
  const [gx, gy] = grid1d(lanes, WG, gpu.limits.maxComputeWorkgroupsPerDimension);
  // One pipeline per layout and hyperparameters, whatever the tensor: the length comes from the
  // weight's binding (bound to its own size; a pooled buffer may be longer), the grid stride from
  // num_workgroups, the clip factor's index from a buffer.
  gpu.dispatch({
    name: op,
    key: `${op}:${vec}:${!!clip}:${h.beta1}:${h.beta2}:${h.epsilon}:${h.weightDecay ?? 0}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read_write> w: array<${T}>;
@group(0) @binding(1) var<storage, read> grad: array<${T}>;
@group(0) @binding(2) var<storage, read_write> m: array<${T}>;
@group(0) @binding(3) var<storage, read_write> v: array<${T}>;
@group(0) @binding(4) var<storage, read> lr: array<f32>;
@group(0) @binding(5) var<storage, read> iterations: array<u32>;
#if ${!!clip}
@group(0) @binding(6) var<storage, read> scales: array<f32>;
@group(0) @binding(7) var<storage, read> clipIndex: array<u32>;
#endif
// 1 - b^t = -expm1(t ln b): a Taylor series where b^t is near 1, else the direct form.
fn oneMinusPow(lnb: f32, t: f32) -> f32 {
  let x = t * lnb;
  if (x > -0.3) {
    return -x * (1.0 + x / 2.0 * (1.0 + x / 3.0 * (1.0 + x / 4.0 * (1.0 + x / 5.0 * (1.0 + x / 6.0 * (1.0 + x / 7.0))))));
  }
  return 1.0 - exp(x);
}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * ${WG}u;
  if (i >= arrayLength(&w)) { return; }
  let t = f32(iterations[0] + 1u);
  let alpha = lr[0] * sqrt(oneMinusPow(${f32Lit(Math.log(h.beta2))}, t)) / oneMinusPow(${f32Lit(Math.log(h.beta1))}, t);
#if ${!!clip}
  let g = grad[i] * scales[clipIndex[0]];
#else
  let g = grad[i];
#endif
  let mi = m[i] + (g - m[i]) * ${f32Lit(1 - h.beta1)};
  let vi = v[i] + (g * g - v[i]) * ${f32Lit(1 - h.beta2)};
  m[i] = mi;
  v[i] = vi;
#if ${(h.weightDecay ?? 0) > 0}
  let decayed = w[i] - w[i] * ${f32Lit(h.weightDecay ?? 0)} * lr[0];
  w[i] = decayed - alpha * mi / (sqrt(vi) + ${f32Lit(h.epsilon)});
#else
  w[i] -= alpha * mi / (sqrt(vi) + ${f32Lit(h.epsilon)});
#endif
}`,
    bindings: [{ buffer: t.weight.buffer, size: t.weight.byteLength }, t.grad, t.m, t.v, t.learningRate, t.iterations, ...(clip ? [clip.scales, clip.index] : [])],
    workgroups: [gx, gy],
  });
}

/** counter[0] += 1 on the GPU (a u32 [1] tensor): the per-step counters of Adam and dropout. */
export function incrementCounter(gpu: Gpu, counter: Tensor): void {
  expectDtype('incrementCounter', counter, 'u32');
  gpu.dispatch({
    name: 'incrementCounter',
    key: 'incrementCounter',
    code: () => `
@group(0) @binding(0) var<storage, read_write> counter: array<u32>;
@compute @workgroup_size(1)
fn main() { counter[0] += 1u; }`,
    bindings: [counter],
    workgroups: [1],
  });
}

export function positive(op: string, name: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ShapeError(`${op}: ${name} must be a positive finite number, got ${v}`);
}

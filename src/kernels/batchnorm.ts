// Batch normalisation over the channel (last) axis, Keras semantics, with optional fused ReLU.
// Layout: x [..., C] (NHWC activations or [N, C] dense outputs), read as rows [R, C], R = N*H*W.
// Training: per-channel batch mean and biased variance (divide by R) in two levels: workgroups of
// 32 channels x 8 row lanes keep a running Welford (count, mean, M2) per invocation and merge lanes
// with Chan's formula into one partial per (row slice, channel); a second pass merges the slices in
// order (deterministic). It saves mean and 1/sqrt(var + eps) for the backward pass and updates the
// moving statistics in place exactly as keras.layers.BatchNormalization.call does (keras 3 source,
// keras/src/layers/normalization/batch_normalization.py): moving = moving*momentum +
// batch*(1 - momentum), with the biased batch variance from ops.moments for the moving variance.
// Inference normalises with the moving statistics. Backward: per-channel sums of dy and dy*xhat
// (same two levels) give dbeta and dgamma, then dx = gamma*invstd*(dy - dbeta/R - xhat*dgamma/R).
// The normalising passes (forward y, backward dx) give each invocation one group of channels (vec4
// when C % 4 == 0) over ROWS_PER_INVOCATION consecutive rows, so its per-channel coefficients are
// loaded once, not per element (llvmpipe turns every divergent storage load into per-lane scalar
// loads); neighbouring invocations take neighbouring channels of the same rows, so loads stay
// contiguous. The row count R, the row slices of the statistics passes and the invocation count are read
// at run time (shape-params.ts; strides from num_workgroups), and so is the channel count (C, or C/4
// channel groups for vec4): one pipeline per pass (plus ReLU, vec4, epsilon) serves every layer and
// batch size. Baked channel counts cost a pipeline per layer (~0.3 s of LLVM each on lavapipe at its
// first dispatch, issue 30) for no measurable speed: the passes divide by it once per 8 rows at most.
// Limits: R*C below the binding size.
// The training reductions (statistics, backward sums) have a GPU-shaped variant, batchnorm-wg.ts
// ('tree': 256-invocation workgroups, tree reductions in workgroup memory), run where the tuner chose
// it for this adapter and shape (families batchnorm.statistics, batchnorm.grad-sums); default 'lanes'.

import { wgsl } from './wgsl';
import { ShapeError, fmtShape, grid1d, type Gpu, type Tensor } from '../gpu';
import { BufferUsage } from '../gpu/usage';
import { expectDtype, expectFinite, expectSameShape, f32Lit } from './checks';
import { CH_LANES, ROW_LANES, channelSlices, rowsAndChannels } from './reduce-axes';
import { BN_GRAD_FAMILY, BN_STATS_FAMILY, batchNormGradSumsTree, batchNormStatsTree, useTreeReduction } from './batchnorm-wg';
import { shapeDecl, shapeParams } from './shape-params';

export interface BatchNormOptions {
  epsilon?: number;
  /** Weight of the old moving statistics (Keras' momentum). */
  momentum?: number;
  /** Apply ReLU to the output (the backward pass then needs that output to mask dy). */
  relu?: boolean;
}

const DEFAULTS: Required<BatchNormOptions> = { epsilon: 1e-3, momentum: 0.99, relu: false };

export interface BatchNormParams {
  gamma: Tensor;
  beta: Tensor;
  movingMean: Tensor;
  movingVar: Tensor;
}

/** What training mode saves for the backward pass: per-channel batch mean and 1/sqrt(var + eps). */
export interface BatchNormSaved {
  mean: Tensor;
  invstd: Tensor;
}

const WG = 256;
/** Rows each invocation of the normalising passes covers (its coefficients loaded once). */
const ROWS_PER_INVOCATION = 8;
/** Runtime fields of the normalising passes: rows R, invocations ceil(R / ROWS_PER_INVOCATION) * channel groups, channel groups. */
const ROW_FIELDS = ['rows', 'total', 'cl'];

/** Grid of the normalising passes: channel groups x row blocks, flattened (channel group fastest). */
function rowBlocks(gpu: Gpu, size: number, C: number): { vec: boolean; T: string; cl: number; R: number; total: number; gx: number; gy: number } {
  const vec = C % 4 === 0;
  const cl = vec ? C / 4 : C;
  const R = size / C;
  const total = Math.ceil(R / ROWS_PER_INVOCATION) * cl;
  const [gx, gy] = grid1d(total, WG, gpu.limits.maxComputeWorkgroupsPerDimension);
  return { vec, T: vec ? 'vec4f' : 'f32', cl, R, total, gx, gy };
}

function resolve(op: string, opts: BatchNormOptions): Required<BatchNormOptions> {
  const o = { ...DEFAULTS, ...opts };
  expectFinite(op, 'epsilon', o.epsilon);
  expectFinite(op, 'momentum', o.momentum);
  if (o.epsilon <= 0) throw new ShapeError(`${op}: epsilon must be positive, got ${o.epsilon}`);
  if (o.momentum < 0 || o.momentum > 1) throw new ShapeError(`${op}: momentum must lie in [0, 1], got ${o.momentum}`);
  return o;
}

function checkChannels(op: string, C: number, ts: Record<string, Tensor>): void {
  for (const [name, t] of Object.entries(ts)) {
    expectDtype(op, t, 'f32');
    if (t.shape.length !== 1 || t.size !== C) {
      throw new ShapeError(`${op}: ${name} '${t.label}' has shape ${fmtShape(t.shape)}, expected [${C}] (the channel axis)`);
    }
  }
}

function checkInput(op: string, x: Tensor, p: BatchNormParams): [number, number] {
  expectDtype(op, x, 'f32');
  const [R, C] = rowsAndChannels(op, x);
  checkChannels(op, C, { gamma: p.gamma, beta: p.beta, movingMean: p.movingMean, movingVar: p.movingVar });
  return [R, C];
}

/** Training-mode forward: normalises with batch statistics and updates the moving ones in place. */
export function batchNormTrain(gpu: Gpu, x: Tensor, p: BatchNormParams, opts: BatchNormOptions = {}): { y: Tensor } & BatchNormSaved {
  const op = 'batchNormTrain';
  const o = resolve(op, opts);
  const [R, C] = checkInput(op, x, p);
  if (useTreeReduction(gpu, BN_STATS_FAMILY, x.shape)) {
    const stats = batchNormStatsTree(gpu, x, C, p, o.epsilon, momentumBuffer(gpu, o.momentum));
    return { y: normalize(gpu, op, x, C, [stats.mean, stats.invstd, p.gamma, p.beta], false, o), ...stats };
  }
  const { slices, groupsX } = channelSlices(R, C);
  const partials = gpu.empty([slices, C, 4], 'f32', `${op}.partials`);
  gpu.dispatch({
    name: op,
    key: `${op}.1`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> partials: array<vec4f>;
${shapeDecl(['rows', 'C'], 2)}
var<workgroup> acc: array<array<vec3f, ${CH_LANES}>, ${ROW_LANES}>;
${CHAN_MERGE}
@compute @workgroup_size(${CH_LANES}, ${ROW_LANES})
fn main(@builtin(local_invocation_id) l: vec3u, @builtin(workgroup_id) w: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let c = w.x * ${CH_LANES}u + l.x;
  var s = vec3f(0.0);
  if (c < shape.C) {
    for (var r = w.y * ${ROW_LANES}u + l.y; r < shape.rows; r += groups.y * ${ROW_LANES}u) {
      let v = x[r * shape.C + c];
      s.x += 1.0;
      let d = v - s.y;
      s.y += d / s.x;
      s.z += d * (v - s.y);
    }
  }
  acc[l.y][l.x] = s;
  for (var stride = ${ROW_LANES / 2}u; stride > 0u; stride >>= 1u) {
    workgroupBarrier();
    if (l.y < stride) { acc[l.y][l.x] = merge(acc[l.y][l.x], acc[l.y + stride][l.x]); }
  }
  if (l.y == 0u && c < shape.C) { partials[w.y * shape.C + c] = vec4f(acc[0][l.x], 0.0); }
}`,
    bindings: [x, partials, shapeParams(gpu, [R, C])],
    workgroups: [groupsX, slices],
  });
  const mean = gpu.empty([C], 'f32', `${op}.mean`);
  const invstd = gpu.empty([C], 'f32', `${op}.invstd`);
  gpu.dispatch({
    name: op,
    key: `${op}.2:${o.epsilon}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> partials: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> mean: array<f32>;
@group(0) @binding(2) var<storage, read_write> invstd: array<f32>;
@group(0) @binding(3) var<storage, read_write> movingMean: array<f32>;
@group(0) @binding(4) var<storage, read_write> movingVar: array<f32>;
@group(0) @binding(5) var<storage, read> momentum: array<f32>;
${shapeDecl(['slices', 'C'], 6)}
${CHAN_MERGE}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u) {
  let c = g.x;
  if (c >= shape.C) { return; }
  let m = momentum[0];
  var s = vec3f(0.0);
  for (var p = 0u; p < shape.slices; p++) { s = merge(s, partials[p * shape.C + c].xyz); }
  let variance = s.z / s.x;
  mean[c] = s.y;
  invstd[c] = 1.0 / sqrt(variance + ${f32Lit(o.epsilon)});
  movingMean[c] = movingMean[c] * m + s.y * momentum[1];
  movingVar[c] = movingVar[c] * m + variance * momentum[1];
}`,
    bindings: [partials, mean, invstd, p.movingMean, p.movingVar, momentumBuffer(gpu, o.momentum), shapeParams(gpu, [slices, C])],
    workgroups: [Math.ceil(C / 64)],
  });
  partials.dispose();
  const y = normalize(gpu, op, x, C, [mean, invstd, p.gamma, p.beta], false, o);
  return { y, mean, invstd };
}

// The momentum is read from a buffer, not baked into the WGSL: BN recalibration blends with a new
// momentum every batch (i / (i + 1)), which would otherwise compile a pipeline per batch and layer.
// One read-only buffer [momentum, 1 - momentum] per value and device, written at creation, kept
// until the device goes (recalibration uses a few dozen values at most).
const momentumBuffers = new WeakMap<Gpu, Map<number, GPUBuffer>>();

function momentumBuffer(gpu: Gpu, momentum: number): GPUBuffer {
  let byValue = momentumBuffers.get(gpu);
  if (!byValue) momentumBuffers.set(gpu, (byValue = new Map()));
  let buf = byValue.get(momentum);
  if (!buf) {
    buf = gpu.device.createBuffer({ size: 8, usage: BufferUsage.STORAGE, mappedAtCreation: true, label: `batchNorm.momentum ${momentum}` });
    new Float32Array(buf.getMappedRange()).set([momentum, 1 - momentum]);
    buf.unmap();
    byValue.set(momentum, buf);
  }
  return buf;
}

/** Inference-mode forward: normalises with the moving statistics; nothing is updated. */
export function batchNormInference(gpu: Gpu, x: Tensor, p: BatchNormParams, opts: BatchNormOptions = {}): Tensor {
  const op = 'batchNormInference';
  const o = resolve(op, opts);
  const [, C] = checkInput(op, x, p);
  return normalize(gpu, op, x, C, [p.movingMean, p.movingVar, p.gamma, p.beta], true, o);
}

// Chan et al.'s merge of two (count, mean, M2) summaries; empty summaries merge as identities.
const CHAN_MERGE = `
fn merge(a: vec3f, b: vec3f) -> vec3f {
  if (b.x == 0.0) { return a; }
  if (a.x == 0.0) { return b; }
  let n = a.x + b.x;
  let d = b.y - a.y;
  return vec3f(n, a.y + d * (b.x / n), a.z + b.z + d * d * (a.x * b.x / n));
}`;

/** y = (x - mean) * invstd * gamma + beta (invstd from a variance when fromVariance), then ReLU. */
function normalize(gpu: Gpu, op: string, x: Tensor, C: number, stats: Tensor[], fromVariance: boolean, o: Required<BatchNormOptions>): Tensor {
  const { T, cl, R, total, gx, gy, vec } = rowBlocks(gpu, x.size, C);
  const y = gpu.empty(x.shape, 'f32', op);
  gpu.dispatch({
    name: op,
    key: `bnNormalize:${vec}:${fromVariance}:${o.epsilon}:${o.relu}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> x: array<${T}>;
@group(0) @binding(1) var<storage, read> center: array<${T}>;
@group(0) @binding(2) var<storage, read> spread: array<${T}>;
@group(0) @binding(3) var<storage, read> gamma: array<${T}>;
@group(0) @binding(4) var<storage, read> beta: array<${T}>;
@group(0) @binding(5) var<storage, read_write> y: array<${T}>;
${shapeDecl(ROW_FIELDS, 6)}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let inv = g.x + g.y * groups.x * ${WG}u;
  if (inv >= shape.total) { return; }
  let c = inv % shape.cl;
  let r0 = (inv / shape.cl) * ${ROWS_PER_INVOCATION}u;
#if ${fromVariance}
  let invstd = 1.0 / sqrt(spread[c] + ${f32Lit(o.epsilon)});
#else
  let invstd = spread[c];
#endif
  let m = center[c];
  let k = invstd * gamma[c];
  let b = beta[c];
  for (var r = r0; r < min(r0 + ${ROWS_PER_INVOCATION}u, shape.rows); r++) {
    let i = r * shape.cl + c;
    let v = (x[i] - m) * k + b;
#if ${o.relu}
    y[i] = max(v, ${T}(0.0));
#else
    y[i] = v;
#endif
  }
}`,
    bindings: [x, ...stats, y, shapeParams(gpu, [R, total, cl])],
    workgroups: [gx, gy],
  });
  return y;
}

/** WGSL of dy[i], or 0 where the fused ReLU's output yr[i] is not positive. */
const maskedGrad = (relu: boolean, i: string, T: string): string => (relu ? `select(${T}(0.0), dy[${i}], yr[${i}] > ${T}(0.0))` : `dy[${i}]`);

export interface BatchNormBackwardOptions {
  /** The forward output, needed when the forward fused ReLU: dy is masked where y <= 0. */
  reluOutput?: Tensor;
}

/** Gradients of training-mode batch norm: dx, dgamma and dbeta. */
export function batchNormBackward(
  gpu: Gpu, dy: Tensor, x: Tensor, gamma: Tensor, saved: BatchNormSaved, opts: BatchNormBackwardOptions = {},
): { dx: Tensor; dgamma: Tensor; dbeta: Tensor } {
  const op = 'batchNormBackward';
  expectDtype(op, dy, 'f32');
  expectDtype(op, x, 'f32');
  expectSameShape(op, dy, x);
  const [R, C] = rowsAndChannels(op, x);
  checkChannels(op, C, { gamma, mean: saved.mean, invstd: saved.invstd });
  const yRelu = opts.reluOutput;
  if (yRelu) {
    expectDtype(op, yRelu, 'f32');
    expectSameShape(op, yRelu, x);
  }
  const relu = !!yRelu;
  const gradIn = (i: string, T: string) => maskedGrad(relu, i, T);
  if (useTreeReduction(gpu, BN_GRAD_FAMILY, x.shape)) {
    const { dgamma, dbeta, coef } = batchNormGradSumsTree(gpu, dy, x, gamma, saved, C, yRelu);
    const dx = inputGradient(gpu, op, dy, x, coef, C, yRelu);
    coef.dispose();
    return { dx, dgamma, dbeta };
  }
  const { slices, groupsX } = channelSlices(R, C);
  const partials = gpu.empty([slices, C, 2], 'f32', `${op}.partials`);
  gpu.dispatch({
    name: op,
    key: `${op}.1:${relu}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> mean: array<f32>;
@group(0) @binding(3) var<storage, read> invstd: array<f32>;
@group(0) @binding(4) var<storage, read_write> partials: array<vec2f>;
#if ${relu}
@group(0) @binding(5) var<storage, read> yr: array<f32>;
#endif
${shapeDecl(['rows', 'C'], relu ? 6 : 5)}
var<workgroup> acc: array<array<vec2f, ${CH_LANES}>, ${ROW_LANES}>;
@compute @workgroup_size(${CH_LANES}, ${ROW_LANES})
fn main(@builtin(local_invocation_id) l: vec3u, @builtin(workgroup_id) w: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let c = w.x * ${CH_LANES}u + l.x;
  var s = vec2f(0.0);
  if (c < shape.C) {
    let m = mean[c];
    let k = invstd[c];
    for (var r = w.y * ${ROW_LANES}u + l.y; r < shape.rows; r += groups.y * ${ROW_LANES}u) {
      let i = r * shape.C + c;
      let g = ${gradIn('i', 'f32')};
      s += vec2f(g, g * (x[i] - m) * k);
    }
  }
  acc[l.y][l.x] = s;
  for (var stride = ${ROW_LANES / 2}u; stride > 0u; stride >>= 1u) {
    workgroupBarrier();
    if (l.y < stride) { acc[l.y][l.x] += acc[l.y + stride][l.x]; }
  }
  if (l.y == 0u && c < shape.C) { partials[w.y * shape.C + c] = acc[0][l.x]; }
}`,
    bindings: [dy, x, saved.mean, saved.invstd, partials, ...(yRelu ? [yRelu] : []), shapeParams(gpu, [R, C])],
    workgroups: [groupsX, slices],
  });
  const dgamma = gpu.empty([C], 'f32', `${op}.dgamma`);
  const dbeta = gpu.empty([C], 'f32', `${op}.dbeta`);
  // Per channel: k = gamma*invstd, mean, -k*dbeta/R, -k*invstd*dgamma/R, as four planes of [C].
  const coef = gpu.empty([4, C], 'f32', `${op}.coef`);
  gpu.dispatch({
    name: op,
    key: `${op}.2`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> partials: array<vec2f>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> mean: array<f32>;
@group(0) @binding(3) var<storage, read> invstd: array<f32>;
@group(0) @binding(4) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(5) var<storage, read_write> dbeta: array<f32>;
@group(0) @binding(6) var<storage, read_write> coef: array<f32>;
${shapeDecl(['rows', 'slices', 'C'], 7)}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u) {
  let c = g.x;
  if (c >= shape.C) { return; }
  var s = vec2f(0.0);
  for (var p = 0u; p < shape.slices; p++) { s += partials[p * shape.C + c]; }
  dbeta[c] = s.x;
  dgamma[c] = s.y;
  let k = gamma[c] * invstd[c];
  coef[c] = k;
  coef[shape.C + c] = mean[c];
  let rows = f32(shape.rows);
  coef[2u * shape.C + c] = -k * s.x / rows;
  coef[3u * shape.C + c] = -k * invstd[c] * s.y / rows;
}`,
    bindings: [partials, gamma, saved.mean, saved.invstd, dgamma, dbeta, coef, shapeParams(gpu, [R, slices, C])],
    workgroups: [Math.ceil(C / 64)],
  });
  partials.dispose();
  const dx = inputGradient(gpu, op, dy, x, coef, C, yRelu);
  coef.dispose();
  return { dx, dgamma, dbeta };
}

/** dx = k*dy' + shift + (x - mean)*slope per channel from the coefficient planes coef [4, C] (dy' = dy masked by the ReLU). */
function inputGradient(gpu: Gpu, op: string, dy: Tensor, x: Tensor, coef: Tensor, C: number, yRelu: Tensor | undefined): Tensor {
  const relu = !!yRelu;
  const gradIn = (i: string, T: string) => maskedGrad(relu, i, T);
  const { T, cl, R, total, gx, gy, vec } = rowBlocks(gpu, x.size, C);
  const dx = gpu.empty(x.shape, 'f32', `${op}.dx`);
  gpu.dispatch({
    name: op,
    key: `${op}.3:${vec}:${relu}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> dy: array<${T}>;
@group(0) @binding(1) var<storage, read> x: array<${T}>;
@group(0) @binding(2) var<storage, read> coef: array<${T}>;
@group(0) @binding(3) var<storage, read_write> dx: array<${T}>;
#if ${relu}
@group(0) @binding(4) var<storage, read> yr: array<${T}>;
#endif
${shapeDecl(ROW_FIELDS, relu ? 5 : 4)}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let inv = g.x + g.y * groups.x * ${WG}u;
  if (inv >= shape.total) { return; }
  let c = inv % shape.cl;
  let r0 = (inv / shape.cl) * ${ROWS_PER_INVOCATION}u;
  let k = coef[c];
  let m = coef[shape.cl + c];
  let shift = coef[2u * shape.cl + c];
  let slope = coef[3u * shape.cl + c];
  for (var r = r0; r < min(r0 + ${ROWS_PER_INVOCATION}u, shape.rows); r++) {
    let i = r * shape.cl + c;
    let gi = ${gradIn('i', T)};
    dx[i] = k * gi + shift + (x[i] - m) * slope;
  }
}`,
    bindings: [dy, x, coef, dx, ...(yRelu ? [yRelu] : []), shapeParams(gpu, [R, total, cl])],
    workgroups: [gx, gy],
  });
  return dx;
}

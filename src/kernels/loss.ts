// Fused softmax cross-entropy with label smoothing, Keras semantics
// (CategoricalCrossentropy(from_logits=True, label_smoothing=s) on one-hot labels):
//   t = onehot(label) * (1 - s) + s / K,  loss_n = -sum_k t_k log softmax(z_n)_k,  loss = mean_n loss_n.
// Layout: logits [N, K] row-major f32, labels [N] u32 or i32. One invocation per example computes,
// max-subtracted, its loss, the gradient of the mean loss dz = (softmax - t) / N, and whether its
// argmax (the first maximum on ties) equals the label, so training accuracy needs no extra pass. A
// second single-workgroup pass sums losses and hits in a fixed order (deterministic) into
// stats = [mean loss, number correct]. A label outside [0, K) makes that example's loss and gradient
// NaN, so a bad batch poisons training visibly instead of silently. N is read at run time
// (shape-params.ts): one pipeline per K and options serves every batch size.
// With classWeights w [K] f32 (Keras' class_weight: a per-example weight w[label], mean still over N),
// loss_n and dz_n are both multiplied by w[label]; stats[0] is then sum_n w[label_n] loss_n / N.
// With mix (mixup; src/train/loop/mixup.ts) — partner labels [N] and a share w ([1] f32, read on the GPU so
// each batch's draw reuses one pipeline) — the target is w * t(label) + (1 - w) * t(partner): loss_n =
// w CE(label) + (1 - w) CE(partner), dz = (softmax - target) / N; a hit is argmax == label (the caller
// gives the larger share to label). Not with class weights.
// With classMask ([N, K] u32, nonzero: allowed; several corpora, src/train/scores/corpora.ts) example n's
// softmax, targets and argmax span only its allowed classes A_n: smoothing spreads s / |A_n| over them,
// loss_n = -sum_{k in A_n} t_k log softmax_A(z_n)_k, dz is 0 on the other classes. A label (or mixup
// partner) outside A_n, or an empty A_n, makes the example NaN, as a label outside [0, K) does.

import { wgsl } from './wgsl';
import { ShapeError, fmtShape, grid1d, type Gpu, type Tensor } from '../gpu';
import { expectDtype, expectFinite, expectRank, f32Lit } from './checks';
import { shapeDecl, shapeParams } from './shape-params';

export interface SoftmaxCrossEntropyOptions {
  labelSmoothing?: number;
  /** [K] f32 weight of each class, applied to each example by its label (absent: all 1). */
  classWeights?: Tensor;
  /** Mixup targets: the partner label of each example ([N], the labels' dtype) and label's share w ([1] f32). */
  mix?: { partners: Tensor; weight: Tensor };
  /** [N, K] u32: the classes each example's loss spans (nonzero: allowed; absent: all). */
  classMask?: Tensor;
}

export interface SoftmaxCrossEntropyResult {
  /** [N] per-example losses (each times its class weight when weights are given). */
  loss: Tensor;
  /** [N, K] gradient of the mean loss with respect to the logits. */
  dlogits: Tensor;
  /** [N] u32: 1 where argmax(logits) == label. */
  correct: Tensor;
  /** [2] f32: mean loss, number of correct examples. */
  stats: Tensor;
}

const WG = 256;

export function softmaxCrossEntropy(gpu: Gpu, logits: Tensor, labels: Tensor, opts: SoftmaxCrossEntropyOptions = {}): SoftmaxCrossEntropyResult {
  const op = 'softmaxCrossEntropy';
  const s = opts.labelSmoothing ?? 0;
  const weights = opts.classWeights;
  expectDtype(op, logits, 'f32');
  expectRank(op, logits, 2);
  expectDtype(op, labels, 'u32', 'i32');
  const [N, K] = logits.shape as [number, number];
  if (labels.shape.length !== 1 || labels.size !== N) {
    throw new ShapeError(`${op}: labels '${labels.label}' ${fmtShape(labels.shape)} should be [${N}] for logits ${fmtShape(logits.shape)}`);
  }
  expectFinite(op, 'labelSmoothing', s);
  if (s < 0 || s > 1) throw new ShapeError(`${op}: labelSmoothing must lie in [0, 1], got ${s}`);
  if (weights) {
    expectDtype(op, weights, 'f32');
    if (weights.shape.length !== 1 || weights.size !== K) {
      throw new ShapeError(`${op}: classWeights '${weights.label}' ${fmtShape(weights.shape)} should be [${K}] for logits ${fmtShape(logits.shape)}`);
    }
  }
  const mix = opts.mix;
  if (mix) {
    if (weights) throw new ShapeError(`${op}: mixup targets and class weights are not combined`);
    expectDtype(op, mix.partners, labels.dtype);
    expectDtype(op, mix.weight, 'f32');
    if (mix.partners.shape.length !== 1 || mix.partners.size !== N) {
      throw new ShapeError(`${op}: partner labels '${mix.partners.label}' ${fmtShape(mix.partners.shape)} should be [${N}] for logits ${fmtShape(logits.shape)}`);
    }
    if (mix.weight.size !== 1) throw new ShapeError(`${op}: the mixup share '${mix.weight.label}' ${fmtShape(mix.weight.shape)} should hold one value`);
  }
  const mask = opts.classMask;
  if (mask) {
    expectDtype(op, mask, 'u32');
    if (mask.shape.length !== 2 || mask.shape[0] !== N || mask.shape[1] !== K) {
      throw new ShapeError(`${op}: classMask '${mask.label}' ${fmtShape(mask.shape)} should be [${N}, ${K}] for logits ${fmtShape(logits.shape)}`);
    }
  }
  const maskBinding = 5 + (weights ? 1 : 0) + (mix ? 2 : 0);
  const loss = gpu.empty([N], 'f32', `${op}.loss`);
  const dlogits = gpu.empty([N, K], 'f32', `${op}.dlogits`);
  const correct = gpu.empty([N], 'u32', `${op}.correct`);
  const [gx, gy] = grid1d(N, 64, gpu.limits.maxComputeWorkgroupsPerDimension);
  const lt = labels.dtype;
  gpu.dispatch({
    name: op,
    key: `${op}:${K}:${lt}:${Math.fround(s)}:${weights ? 'w' : ''}:${mix ? 'mix' : ''}:${mask ? 'mask' : ''}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> z: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<${lt}>;
@group(0) @binding(2) var<storage, read_write> loss: array<f32>;
@group(0) @binding(3) var<storage, read_write> dz: array<f32>;
@group(0) @binding(4) var<storage, read_write> correct: array<u32>;
${weights ? '@group(0) @binding(5) var<storage, read> classWeights: array<f32>;' : ''}
#if ${!!mix}
@group(0) @binding(5) var<storage, read> partners: array<${lt}>;
@group(0) @binding(6) var<storage, read> share: array<f32>;
#endif
#if ${!!mask}
@group(0) @binding(${maskBinding}) var<storage, read> classMask: array<u32>;
fn allowed(i: u32) -> bool { return classMask[i] != 0u; }
#else
fn allowed(i: u32) -> bool { return true; }
#endif
${shapeDecl(['batch'], maskBinding + (mask ? 1 : 0))}
const K = ${K}u;
// A private variable, not a constant: WGSL refuses NaN in constant expressions.
var<private> nanBits: u32 = 0x7fc00000u;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let n = g.x + g.y * groups.x * 64u;
  if (n >= shape.batch) { return; }
  let row = n * K;
  let nan = bitcast<f32>(nanBits);
  let raw = labels[n];
#if ${!!mix}
  let rawPartner = partners[n];
  let rangeOk = raw >= ${lt}(0) && raw < ${lt}(K) && rawPartner >= ${lt}(0) && rawPartner < ${lt}(K);
  let partner = u32(rawPartner);
  let own = share[0];
#else
  let rangeOk = raw >= ${lt}(0) && raw < ${lt}(K);
#endif
  let label = u32(raw);
  let w = ${weights ? `classWeights[min(label, K - 1u)]` : '1.0'};
  // The first allowed maximum (all classes allowed without a mask: the first maximum).
  var m = 0.0;
  var arg = K;
  var count = 0u;
  for (var k = 0u; k < K; k++) {
    if (!allowed(row + k)) { continue; }
    let v = z[row + k];
    if (arg == K || v > m) { m = v; arg = k; }
    count++;
  }
#if ${!!mix}
  let valid = rangeOk && count > 0u && allowed(row + min(label, K - 1u)) && allowed(row + min(partner, K - 1u));
#else
  let valid = rangeOk && count > 0u && allowed(row + min(label, K - 1u));
#endif
  let off = ${f32Lit(s)} / f32(max(count, 1u));
  var sum = 0.0;
  for (var k = 0u; k < K; k++) { if (allowed(row + k)) { sum += exp(z[row + k] - m); } }
  let logSum = log(sum);
  var l = 0.0;
  for (var k = 0u; k < K; k++) {
    if (!allowed(row + k)) {
      dz[row + k] = select(nan, 0.0, valid);
      continue;
    }
    let shifted = z[row + k] - m;
#if ${!!mix}
    let t = off + ${f32Lit(1 - s)} * (select(0.0, own, k == label) + select(0.0, 1.0 - own, k == partner));
#else
    let t = off + select(0.0, ${f32Lit(1 - s)}, k == label);
#endif
    l += t * (logSum - shifted);
    dz[row + k] = select(nan, w * (exp(shifted) / sum - t) / f32(shape.batch), valid);
  }
  loss[n] = select(nan, w * l, valid);
  correct[n] = select(0u, 1u, valid && arg == label);
}`,
    bindings: [logits, labels, loss, dlogits, correct, ...(weights ? [weights] : []), ...(mix ? [mix.partners, mix.weight] : []), ...(mask ? [mask] : []), shapeParams(gpu, [N])],
    workgroups: [gx, gy],
  });
  const stats = gpu.empty([2], 'f32', `${op}.stats`);
  gpu.dispatch({
    name: op,
    key: `${op}.mean`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> loss: array<f32>;
@group(0) @binding(1) var<storage, read> correct: array<u32>;
@group(0) @binding(2) var<storage, read_write> stats: array<f32>;
${shapeDecl(['batch'], 3)}
var<workgroup> acc: array<vec2f, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) l: u32) {
  var s = vec2f(0.0);
  for (var i = l; i < shape.batch; i += ${WG}u) { s += vec2f(loss[i], f32(correct[i])); }
  acc[l] = s;
  for (var stride = ${WG / 2}u; stride > 0u; stride >>= 1u) {
    workgroupBarrier();
    if (l < stride) { acc[l] += acc[l + stride]; }
  }
  if (l == 0u) {
    stats[0] = acc[0].x / f32(shape.batch);
    stats[1] = acc[0].y;
  }
}`,
    bindings: [loss, correct, stats, shapeParams(gpu, [N])],
    workgroups: [1],
  });
  return { loss, dlogits, correct, stats };
}

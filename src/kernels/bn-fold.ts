// Inference-time folding of batch normalisation into the convolution before it (Keras semantics, as
// batchnorm.ts): BN(conv(x, w) + b) = conv(x, w') + b' with, per output channel c,
//   s = gamma / sqrt(movingVar + eps),  w'[..., c] = w[..., c] * s,  b' = (b - movingMean) * s + beta.
// One pass over the filter (any [..., Cout] layout with the output channel last) also writes the bias
// lanes; the folded tensors are new (the model's own stay untouched). Used only in inference mode
// without gradients, where it removes the separate normalisation pass over every activation.
// Layout: flat, one invocation per filter element on a foldGrid grid; the element count E and C are
// run-time values (shape-params.ts), so one pipeline folds every layer (seven baked ones cost ~1.4 s
// of LLVM on lavapipe at a run's first validation, issue 30).

import { wgsl } from './wgsl';
import { ShapeError, fmtShape, type Gpu, type Tensor } from '../gpu';
import { expectDtype, expectFinite, f32Lit } from './checks';
import type { BatchNormParams } from './batchnorm';
import { foldGrid } from './grid';
import { shapeDecl, shapeParams } from './shape-params';

const WG = 64;

export function foldBatchNorm(gpu: Gpu, w: Tensor, b: Tensor, p: BatchNormParams, epsilon = 1e-3): { w: Tensor; b: Tensor } {
  const op = 'foldBatchNorm';
  for (const t of [w, b, p.gamma, p.beta, p.movingMean, p.movingVar]) expectDtype(op, t, 'f32');
  expectFinite(op, 'epsilon', epsilon);
  if (!(epsilon > 0)) throw new ShapeError(`${op}: epsilon ${epsilon} must be positive`);
  const C = w.shape[w.shape.length - 1]!;
  for (const t of [b, p.gamma, p.beta, p.movingMean, p.movingVar]) {
    if (t.size !== C) throw new ShapeError(`${op}: ${fmtShape(t.shape)} does not match the filter's ${C} output channels (${fmtShape(w.shape)})`);
  }
  const wf = gpu.empty(w.shape, 'f32', `${op}.w`);
  const bf = gpu.empty([C], 'f32', `${op}.b`);
  const E = w.size;
  const [gx, gz] = foldGrid(Math.ceil(E / WG));
  gpu.dispatch({
    name: op,
    key: `${op}:${epsilon}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> W: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read> mean: array<f32>;
@group(0) @binding(5) var<storage, read> variance: array<f32>;
@group(0) @binding(6) var<storage, read_write> WF: array<f32>;
@group(0) @binding(7) var<storage, read_write> BF: array<f32>;
${shapeDecl(['E', 'C'], 8)}
fn scale(c: u32) -> f32 { return gamma[c] / sqrt(variance[c] + ${f32Lit(epsilon)}); }
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let e = gid.x + gid.z * groups.x * ${WG}u;
  if (e < shape.C) { BF[e] = (B[e] - mean[e]) * scale(e) + beta[e]; }
  if (e < shape.E) { WF[e] = W[e] * scale(e % shape.C); }
}`,
    bindings: [w, b, p.gamma, p.beta, p.movingMean, p.movingVar, wf, bf, shapeParams(gpu, [E, C])],
    workgroups: [gx, 1, gz],
  });
  return { w: wf, b: bf };
}

// Elementwise kernels: add, mul, scale, relu and relu's backward over same-shape f32 tensors.
// Layout: flat; when the element count is a multiple of 4 the kernel works on vec4 (four elements per
// invocation), else on scalars. Workgroups of 256 invocations over a 2-D grid (grid1d) so any size up
// to the storage-binding limit dispatches. The element count is a runtime value (shape-params.ts) and
// the grid stride comes from num_workgroups: one pipeline per op and vec4-ness, whatever the size.

import { wgsl } from './wgsl';
import { grid1d, type Gpu, type Tensor } from '../gpu';
import { expectDtype, expectFinite, expectSameShape, f32Lit } from './checks';
import { shapeDecl, shapeParams } from './shape-params';

type Binary = 'add' | 'mul' | 'reluBackward';
type Unary = 'scale' | 'relu';

const WG = 256;

function launch(gpu: Gpu, op: Binary | Unary, inputs: Tensor[], expr: string, keyExtra = ''): Tensor {
  const first = inputs[0]!;
  const vec = first.size % 4 === 0;
  const lanes = vec ? first.size / 4 : first.size;
  const [gx, gy] = grid1d(lanes, WG, gpu.limits.maxComputeWorkgroupsPerDimension);
  const out = gpu.empty(first.shape, 'f32', op);
  const T = vec ? 'vec4f' : 'f32';
  const names = ['a', 'b'].slice(0, inputs.length);
  gpu.dispatch({
    name: op,
    key: `${op}:${vec}:${keyExtra}`,
    code: () => wgsl`
${names.map((n, i) => `@group(0) @binding(${i}) var<storage, read> ${n}: array<${T}>;`).join('\n')}
@group(0) @binding(${names.length}) var<storage, read_write> out: array<${T}>;
${shapeDecl(['lanes'], names.length + 1)}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = g.x + g.y * groups.x * ${WG}u;
  if (i >= shape.lanes) { return; }
  out[i] = ${expr};
}`,
    bindings: [...inputs, out, shapeParams(gpu, [lanes])],
    workgroups: [gx, gy],
  });
  return out;
}

function binary(gpu: Gpu, op: Binary, a: Tensor, b: Tensor, expr: string): Tensor {
  expectDtype(op, a, 'f32');
  expectDtype(op, b, 'f32');
  expectSameShape(op, a, b);
  return launch(gpu, op, [a, b], expr);
}

export const add = (gpu: Gpu, a: Tensor, b: Tensor): Tensor => binary(gpu, 'add', a, b, 'a[i] + b[i]');
export const mul = (gpu: Gpu, a: Tensor, b: Tensor): Tensor => binary(gpu, 'mul', a, b, 'a[i] * b[i]');

/** a * s for a scalar s (baked into the kernel: one pipeline per distinct scale). */
export function scale(gpu: Gpu, a: Tensor, s: number): Tensor {
  expectDtype('scale', a, 'f32');
  expectFinite('scale', 'the factor', s);
  return launch(gpu, 'scale', [a], `a[i] * ${f32Lit(s)}`, String(Math.fround(s)));
}

export function relu(gpu: Gpu, a: Tensor): Tensor {
  expectDtype('relu', a, 'f32');
  return launch(gpu, 'relu', [a], `max(a[i], ${a.size % 4 === 0 ? 'vec4f(0.0)' : '0.0'})`);
}

/** ReLU's backward: dy where the forward output y was positive, else 0. */
export function reluBackward(gpu: Gpu, dy: Tensor, y: Tensor): Tensor {
  const zero = dy.size % 4 === 0 ? 'vec4f(0.0)' : '0.0';
  return binary(gpu, 'reluBackward', dy, y, `select(${zero}, a[i], b[i] > ${zero})`);
}

// Matrix product C[M,N] = op(A) · op(B) (+ bias[N]) (then ReLU), op = optional transpose.
// Layout: row-major. A is [M,K], or [K,M] with transA; B is [K,N], or [N,K] with transB.
// Tiling: register blocking, no workgroup memory: each invocation computes a 4x4 block of C with the
// k loop unrolled by 4; workgroups of 8x8 invocations cover 32x32 of C. Operands are read as vec4
// where they are contiguous and aligned (A along k when !transA and K%4==0; B along n when !transB and
// N%4==0), else as scalars with bounds checks, so any M, N, K >= 1 work. M, N and K are runtime values
// (shape-params.ts): one pipeline per layout (transposes, vec4 reads, bias, ReLU) serves every shape. Software adapters (lavapipe, SwiftShader) reward exactly this
// (see bench/RESULTS.md); real GPUs would prefer workgroup-memory tiles: matmul-tiled.ts, chosen per
// adapter and shape by the tuner (src/tune/, family 'matmul') or by the `variant` option.
// The default is neither: matmul-compact.ts, one shader for every layout (strides and flags at run
// time), because the products this engine runs are the dense head's few-million-MAC ones, where
// compiling five layouts cost more than running them (issue 30); 'register' stays the bench's peak.

import { wgsl } from './wgsl';
import { ShapeError, fmtShape, type Gpu, type Tensor } from '../gpu';
import { chosenVariant } from '../gpu/choices';
import { expectDtype, expectRank } from './checks';
import { matmulCompact } from './matmul-compact';
import { matmulTiled } from './matmul-tiled';
import { shapeDecl, shapeParams } from './shape-params';

/** The kernels a matmul can run on: matmul-compact.ts (default), the register-blocked one below or matmul-tiled.ts. */
export const MATMUL_VARIANTS = ['compact', 'register', 'tiled8', 'tiled16'] as const;
export type MatmulVariant = (typeof MATMUL_VARIANTS)[number];
export const MATMUL_FAMILY = 'matmul';

/** The tuner's shape key of a product: "MxNxK" and the transposes, e.g. "32x256x128 NN". */
export const matmulShapeKey = (M: number, N: number, K: number, transA: boolean, transB: boolean): string =>
  `${M}x${N}x${K} ${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}`;

function pickVariant(gpu: Gpu, opts: MatmulOptions, key: string): MatmulVariant {
  if (opts.variant !== undefined) {
    if (!MATMUL_VARIANTS.includes(opts.variant)) throw new ShapeError(`matmul: variant ${JSON.stringify(opts.variant)} must be one of ${MATMUL_VARIANTS.join(', ')}`);
    return opts.variant;
  }
  const tuned = chosenVariant(gpu, MATMUL_FAMILY, key);
  return MATMUL_VARIANTS.find((v) => v === tuned) ?? MATMUL_VARIANTS[0];
}

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
  /** [N] added to every row of C. */
  bias?: Tensor;
  activation?: 'none' | 'relu';
  /** Force a kernel (tests, benchmarks); default: the tuner's choice for this shape, else 'compact'. */
  variant?: MatmulVariant;
}

const TILE = 4;
const WG_X = 8;
const WG_Y = 8;

export function matmulShapes(a: readonly number[], b: readonly number[], transA: boolean, transB: boolean) {
  const [M, Ka] = transA ? [a[1]!, a[0]!] : [a[0]!, a[1]!];
  const [Kb, N] = transB ? [b[1]!, b[0]!] : [b[0]!, b[1]!];
  return { M, N, K: Ka, Kb };
}

export function matmul(gpu: Gpu, a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const op = 'matmul';
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  const act = opts.activation ?? 'none';
  expectDtype(op, a, 'f32');
  expectDtype(op, b, 'f32');
  expectRank(op, a, 2);
  expectRank(op, b, 2);
  const { M, N, K, Kb } = matmulShapes(a.shape, b.shape, transA, transB);
  if (K !== Kb) {
    throw new ShapeError(
      `${op}: inner dimensions differ: A${transA ? 'ᵀ' : ''} ${fmtShape(a.shape)} and B${transB ? 'ᵀ' : ''} ${fmtShape(b.shape)} (${K} vs ${Kb})`,
    );
  }
  if (opts.bias) {
    expectDtype(op, opts.bias, 'f32');
    if (opts.bias.size !== N) throw new ShapeError(`${op}: bias ${fmtShape(opts.bias.shape)} does not match ${N} output columns`);
  }
  const variant = pickVariant(gpu, opts, matmulShapeKey(M, N, K, transA, transB));
  if (variant !== 'register') {
    const spec = { M, N, K, transA, transB, bias: opts.bias, relu: act === 'relu' };
    return variant === 'compact' ? matmulCompact(gpu, a, b, spec) : matmulTiled(gpu, a, b, spec, variant === 'tiled8' ? 8 : 16);
  }
  const aVec = !transA && K % 4 === 0;
  const bVec = !transB && N % 4 === 0;
  const hasBias = !!opts.bias;
  const out = gpu.empty([M, N], 'f32', op);
  const gx = Math.ceil(N / (TILE * WG_X));
  const gy = Math.ceil(M / (TILE * WG_Y));
  const K4 = Math.ceil(K / 4) * 4;
  gpu.dispatch({
    name: op,
    // The shape stays in the key (tests and the tuner read it); shapes with the same layout generate
    // the same WGSL and share one pipeline (PipelineCache dedupes by source).
    key: `${op}:${M}:${N}:${K}:${transA}:${transB}:${hasBias}:${act}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> A: array<${aVec ? 'vec4f' : 'f32'}>;
@group(0) @binding(1) var<storage, read> B: array<${bVec ? 'vec4f' : 'f32'}>;
@group(0) @binding(2) var<storage, read_write> C: array<f32>;
#if ${hasBias}
@group(0) @binding(3) var<storage, read> bias: array<f32>;
#endif
${shapeDecl(['M', 'N', 'K', 'K4'], hasBias ? 4 : 3)}

// A[r, k] for k in k0..k0+3 (zero past K); r is clamped, rows past M are never stored.
fn loadA(r: u32, k0: u32) -> vec4f {
  let rr = min(r, shape.M - 1u);
#if ${aVec}
  return A[(rr * shape.K + k0) / 4u];
#else
  var v = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    let k = k0 + j;
    if (k < shape.K) {
#if ${transA}
      v[j] = A[k * shape.M + rr];
#else
      v[j] = A[rr * shape.K + k];
#endif
    }
  }
  return v;
#endif
}

// B[k, c..c+3] (zero past N or K).
fn loadB(k: u32, c: u32) -> vec4f {
  if (k >= shape.K) { return vec4f(0.0); }
#if ${bVec}
  return B[(k * shape.N + c) / 4u];
#else
  var v = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    let cc = c + j;
    if (cc < shape.N) {
#if ${transB}
      v[j] = B[cc * shape.K + k];
#else
      v[j] = B[k * shape.N + cc];
#endif
    }
  }
  return v;
#endif
}

@compute @workgroup_size(${WG_X}, ${WG_Y})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let c0 = g.x * ${TILE}u;
  let r0 = g.y * ${TILE}u;
  if (c0 >= shape.N || r0 >= shape.M) { return; }
  var acc: array<vec4f, ${TILE}>;
  for (var k0 = 0u; k0 < shape.K4; k0 += 4u) {
    let a0 = loadA(r0, k0);
    let a1 = loadA(r0 + 1u, k0);
    let a2 = loadA(r0 + 2u, k0);
    let a3 = loadA(r0 + 3u, k0);
    for (var j = 0u; j < 4u; j++) {
      let b = loadB(k0 + j, c0);
      acc[0] = fma(vec4f(a0[j]), b, acc[0]);
      acc[1] = fma(vec4f(a1[j]), b, acc[1]);
      acc[2] = fma(vec4f(a2[j]), b, acc[2]);
      acc[3] = fma(vec4f(a3[j]), b, acc[3]);
    }
  }
  for (var i = 0u; i < ${TILE}u; i++) {
    let r = r0 + i;
    if (r >= shape.M) { break; }
    for (var j = 0u; j < 4u; j++) {
      let c = c0 + j;
      if (c >= shape.N) { break; }
      var v = acc[i][j];
#if ${hasBias}
      v += bias[c];
#endif
#if ${act === 'relu'}
      v = max(v, 0.0);
#endif
      C[r * shape.N + c] = v;
    }
  }
}`,
    bindings: [a, b, out, ...(hasBias ? [opts.bias!] : []), shapeParams(gpu, [M, N, K, K4])],
    workgroups: [gx, gy],
  });
  return out;
}

// Matrix product C[M,N] = op(A) · op(B) (+ bias[N]) (then ReLU) as ONE shader for every layout: the
// variant of matmul.ts for the small products of the dense head (at most a few million multiply-adds),
// where the cost that counts on a software adapter is compiling, not running. matmul.ts's register
// kernel bakes the transposes, vec4 reads, bias and ReLU into its source, so a training run compiles
// five pipelines of it (forward with and without ReLU, dy·Wᵀ, xᵀ·dy, the bias gradient's 1ᵀ·dy), about
// 1 s of LLVM each on lavapipe at their first dispatch. Here every one of those is a run-time value:
// A[r, k] = A[r·sAr + k·sAk] and B[k, c] = B[k·sBk + c·sBn] with strides from the shape uniform (so a
// transpose is a swap of strides), and bias and ReLU are flag bits. The k loop and the store loops
// have run-time bounds (TILE from the uniform), so NIR does not unroll them: the shader holds four
// load sites per operand (the 4x4 register block's rows of A and columns of B, unrolled: with B's
// columns in a loop too it compiled in half the time, 0.22 s, but ran 1.3-4x slower than the register
// kernel; unrolled it is level with it, bench/RESULTS.md) and one store site: one pipeline of ~0.4 s
// serves the whole head.
// Layout: row-major, A [M,K] or [K,M] with transA, B [K,N] or [N,K] with transB, as matmul.ts.
// Tiling: workgroups of 8x8 invocations, each owning a TILE x TILE (4x4) block of C (rows r0.., columns
// c0..): 32x32 of C per workgroup. Reads are scalars (any stride, any M, N, K >= 1); rows past M and
// columns past N are clamped on load and never stored. Without a bias the bias binding is bound to B
// (read only, never read) so the bind group layout is the same.
// Limits: ceil(N/32) x ceil(M/32) workgroups; indices below 2^32.

import { wgsl } from './wgsl';
import type { Gpu, Tensor } from '../gpu';
import { shapeDecl, shapeParams } from './shape-params';
import type { TiledMatmulSpec } from './matmul-tiled';

/** The product to compute: the same spec as the tiled kernel's (sizes, transposes, bias, ReLU). */
export type CompactMatmulSpec = TiledMatmulSpec;

const TILE = 4;
const WG = 8;
const FLAG_BIAS = 1;
const FLAG_RELU = 2;

const CODE = wgsl`
@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read_write> C: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
${shapeDecl(['M', 'N', 'K', 'sAr', 'sAk', 'sBk', 'sBn', 'flags', 'tile'], 4)}

@compute @workgroup_size(${WG}, ${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let c0 = g.x * ${TILE}u;
  let r0 = g.y * ${TILE}u;
  if (c0 >= shape.N || r0 >= shape.M) { return; }
  var acc: array<vec4f, ${TILE}>;
  for (var k = 0u; k < shape.K; k++) {
    let bk = k * shape.sBk;
    let cl = shape.N - 1u;
    // Columns past N read column N-1 (never stored).
    let b = vec4f(B[bk + min(c0, cl) * shape.sBn], B[bk + min(c0 + 1u, cl) * shape.sBn],
                  B[bk + min(c0 + 2u, cl) * shape.sBn], B[bk + min(c0 + 3u, cl) * shape.sBn]);
    let ak = k * shape.sAk;
    let rl = shape.M - 1u;
    acc[0] = fma(vec4f(A[min(r0, rl) * shape.sAr + ak]), b, acc[0]);
    acc[1] = fma(vec4f(A[min(r0 + 1u, rl) * shape.sAr + ak]), b, acc[1]);
    acc[2] = fma(vec4f(A[min(r0 + 2u, rl) * shape.sAr + ak]), b, acc[2]);
    acc[3] = fma(vec4f(A[min(r0 + 3u, rl) * shape.sAr + ak]), b, acc[3]);
  }
  for (var i = 0u; i < shape.tile; i++) {
    let r = r0 + i;
    if (r >= shape.M) { break; }
    for (var j = 0u; j < shape.tile; j++) {
      let c = c0 + j;
      if (c >= shape.N) { break; }
      var v = acc[i][j];
      if ((shape.flags & ${FLAG_BIAS}u) != 0u) { v += bias[c]; }
      if ((shape.flags & ${FLAG_RELU}u) != 0u) { v = max(v, 0.0); }
      C[r * shape.N + c] = v;
    }
  }
}`;

/** C = op(A) · op(B) (+ bias) (ReLU) with the one layout-free shader above. */
export function matmulCompact(gpu: Gpu, a: Tensor, b: Tensor, spec: CompactMatmulSpec): Tensor {
  const { M, N, K, transA, transB } = spec;
  const out = gpu.empty([M, N], 'f32', 'matmul');
  const [sAr, sAk] = transA ? [1, M] : [K, 1];
  const [sBk, sBn] = transB ? [1, K] : [N, 1];
  const flags = (spec.bias ? FLAG_BIAS : 0) | (spec.relu ? FLAG_RELU : 0);
  gpu.dispatch({
    name: 'matmul',
    key: `matmul.compact:${M}:${N}:${K}:${transA}:${transB}:${!!spec.bias}:${spec.relu}`,
    code: () => CODE,
    bindings: [a, b, out, spec.bias ?? b, shapeParams(gpu, [M, N, K, sAr, sAk, sBk, sBn, flags, TILE])],
    workgroups: [Math.ceil(N / (TILE * WG)), Math.ceil(M / (TILE * WG))],
  });
  return out;
}

// Matrix product C[M,N] = op(A) · op(B) (+ bias[N]) (then ReLU) as a workgroup-memory tiled kernel, the
// shape real GPUs (32/64-wide SIMD, fast shared memory) reward; a variant of matmul.ts chosen per
// adapter by the tuner (src/tune/) or by `matmul(..., { variant })`. Same layout and semantics as
// matmul.ts: row-major, A [M,K] or [K,M] with transA, B [K,N] or [N,K] with transB.
// Tiling: a workgroup of S x S invocations (S = 8: 64 lanes, or 16: 256 lanes) computes a T x T block
// of C, T = 4S; each invocation owns a 4x4 register block (four vec4 accumulators, rows 4·ty.., columns
// 4·tx..). The k dimension advances in steps of TK = 16: the workgroup first stages A's T x 16 slice
// (as vec4 along k) and B's 16 x T slice (as vec4 along n) in workgroup memory, every lane loading
// T·4/S² resp. 16·S/S² vec4s (vec4 loads from memory where the operand is contiguous and aligned:
// A along k when !transA and K%4==0, B along n when !transB and N%4==0; bounds-checked scalars
// otherwise), then reads them back per k: lanes of one row share A's vec4 (a broadcast), consecutive
// lanes read consecutive B vec4s. Zero padding past M, N and K keeps every shape >= 1 exact.
// Limits: workgroup memory (T·4 + 16·S)·16 bytes (8 KiB at S = 16), S² invocations (<= 256, WebGPU's
// default limit); ceil(N/T) x ceil(M/T) workgroups.

import { wgsl } from './wgsl';
import type { Gpu, Tensor } from '../gpu';

export type TiledLanes = 8 | 16;

export interface TiledMatmulSpec {
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  bias?: Tensor;
  relu: boolean;
}

const TK = 16;
const range = (n: number) => [...Array(n).keys()];

/** C = op(A) · op(B) (+ bias, ReLU) with S x S lanes per workgroup; shapes already validated by matmul(). */
export function matmulTiled(gpu: Gpu, a: Tensor, b: Tensor, spec: TiledMatmulSpec, S: TiledLanes): Tensor {
  const { M, N, K, transA, transB, relu } = spec;
  const T = 4 * S;
  const aVec = !transA && K % 4 === 0;
  const bVec = !transB && N % 4 === 0;
  const hasBias = !!spec.bias;
  const out = gpu.empty([M, N], 'f32', 'matmul');
  const R = range(4);
  gpu.dispatch({
    name: 'matmul',
    key: `matmul.tiled${S}:${M}:${N}:${K}:${transA}:${transB}:${hasBias}:${relu}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> A: array<${aVec ? 'vec4f' : 'f32'}>;
@group(0) @binding(1) var<storage, read> B: array<${bVec ? 'vec4f' : 'f32'}>;
@group(0) @binding(2) var<storage, read_write> C: array<f32>;
#if ${hasBias}
@group(0) @binding(3) var<storage, read> bias: array<f32>;
#endif
const M = ${M}u;
const N = ${N}u;
const K = ${K}u;
const S = ${S}u;
const T = ${T}u;

// A's T x ${TK} slice, row-major, vec4 along k; B's ${TK} x T slice, row-major, vec4 along n.
var<workgroup> As: array<vec4f, ${T * (TK / 4)}>;
var<workgroup> Bs: array<vec4f, ${TK * S}>;

// A[r, k..k+3] (zero past M or K).
fn loadA(r: u32, k: u32) -> vec4f {
  if (r >= M) { return vec4f(0.0); }
#if ${aVec}
  if (k >= K) { return vec4f(0.0); }
  return A[(r * K + k) / 4u];
#else
  var v = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (k + j < K) {
#if ${transA}
      v[j] = A[(k + j) * M + r];
#else
      v[j] = A[r * K + k + j];
#endif
    }
  }
  return v;
#endif
}

// B[k, c..c+3] (zero past K or N).
fn loadB(k: u32, c: u32) -> vec4f {
  if (k >= K) { return vec4f(0.0); }
#if ${bVec}
  if (c >= N) { return vec4f(0.0); }
  return B[(k * N + c) / 4u];
#else
  var v = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (c + j < N) {
#if ${transB}
      v[j] = B[(c + j) * K + k];
#else
      v[j] = B[k * N + c + j];
#endif
    }
  }
  return v;
#endif
}

@compute @workgroup_size(${S}, ${S})
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3u) {
  let row0 = wid.y * T;
  let col0 = wid.x * T;
${R.map((i) => `  var acc${i} = vec4f(0.0);`).join('\n')}
  for (var k0 = 0u; k0 < K; k0 += ${TK}u) {
    for (var i = li; i < ${T * (TK / 4)}u; i += ${S * S}u) {
      As[i] = loadA(row0 + i / ${TK / 4}u, k0 + (i % ${TK / 4}u) * 4u);
    }
    for (var i = li; i < ${TK * S}u; i += ${S * S}u) {
      Bs[i] = loadB(k0 + i / S, col0 + (i % S) * 4u);
    }
    workgroupBarrier();
    for (var kq = 0u; kq < ${TK / 4}u; kq++) {
${R.map((i) => `      let a${i} = As[(lid.y * 4u + ${i}u) * ${TK / 4}u + kq];`).join('\n')}
${R.map((j) => `      let b${j} = Bs[(kq * 4u + ${j}u) * S + lid.x];
${R.map((i) => `      acc${i} = fma(vec4f(a${i}[${j}]), b${j}, acc${i});`).join('\n')}`).join('\n')}
    }
    workgroupBarrier();
  }
  let c = col0 + lid.x * 4u;
${R.map((i) => `  store(row0 + lid.y * 4u + ${i}u, c, acc${i});`).join('\n')}
}

fn store(r: u32, c: u32, acc: vec4f) {
  if (r >= M) { return; }
  for (var j = 0u; j < 4u; j++) {
    if (c + j < N) {
      var v = acc[j];
#if ${hasBias}
      v += bias[c + j];
#endif
#if ${relu}
      v = max(v, 0.0);
#endif
      C[r * N + c + j] = v;
    }
  }
}`,
    bindings: hasBias ? [a, b, out, spec.bias!] : [a, b, out],
    workgroups: [Math.ceil(N / T), Math.ceil(M / T)],
  });
  return out;
}

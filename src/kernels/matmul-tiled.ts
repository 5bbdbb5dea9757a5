// Matrix product C[M,N] = op(A) · op(B) (+ bias[N]) (then ReLU) as a workgroup-memory tiled kernel, the
// shape real GPUs (32/64-wide SIMD, fast shared memory) reward; a variant of matmul.ts chosen per
// adapter by the tuner (src/tune/) or by `matmul(..., { variant })`, and, batched, of the Winograd GEMM
// and filter-gradient reduction (winograd-gemm-tiled.ts). Same layout and semantics as matmul.ts:
// row-major, A [M,K] or [K,M] with transA, B [K,N] or [N,K] with transB.
// Tiling: a workgroup of S x S invocations (S = 8: 64 lanes, or 16: 256 lanes) computes a T x T block
// of C, T = 4S; each invocation owns a 4x4 register block (four vec4 accumulators, rows 4·ty.., columns
// 4·tx..). The k dimension advances in steps of TK = 16: the workgroup first stages A's T x 16 slice
// and B's 16 x T slice (as vec4 along n) in workgroup memory, then reads them back per k: lanes of one
// row share A's vec4 (a broadcast), consecutive lanes read consecutive B vec4s. A's slice is kept as
// vec4 along k where A is [M,K], and as vec4 along m where it is [K,M] (transA: then A is staged like
// B, one vec4 of four rows per k). Loads are vec4 from memory where the operand is contiguous and
// aligned along the staged axis (A along k when !transA and K%4==0, along m when transA and M%4==0;
// B along n when !transB and N%4==0), bounds-checked scalars otherwise; stores are vec4 where N%4==0.
// Zero padding past M, N and K keeps every shape >= 1 exact.
// Batch (TiledBatch): `count` independent products side by side in A, B and C (the Winograd positions
// ξ), workgroups along z; split-K: each product's k range cut into chunks of kPer (a multiple of TK),
// chunk c of product p writing its partial sum to result c·count + p (callers sum the chunks).
// Limits: workgroup memory (T·4 + 16·S)·16 bytes (8 KiB at S = 16), S² invocations (<= 256, WebGPU's
// default limit); ceil(N/T) x ceil(M/T) x count·chunks workgroups (each <= the device's per-dimension
// limit, 65535 by default; the runtime refuses more with a LimitError).

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

/** Products computed by one dispatch (see the header); the default is one product, one chunk. */
export interface TiledBatch {
  count: number;
  /** k values per chunk, a multiple of TILED_K (default: all of K, one chunk). */
  kPer?: number;
  /** Pipeline-key and profiler name (default 'matmul'). */
  name?: string;
}

/** The k step of the tiled kernels: split-K chunks are multiples of it. */
export const TILED_K = 16;
const TK = TILED_K;
const range = (n: number) => [...Array(n).keys()];

/** Chunks a split of K into pieces of kPer makes. */
export const chunkCount = (K: number, kPer: number): number => Math.max(1, Math.ceil(K / kPer));

/**
 * C = op(A) · op(B) (+ bias, ReLU) with S x S lanes per workgroup; shapes already validated by the
 * caller. With a batch, C is [chunks · count, M, N] (its shape as `outShape` says).
 */
export function matmulTiled(gpu: Gpu, a: Tensor, b: Tensor, spec: TiledMatmulSpec, S: TiledLanes, batch: TiledBatch = { count: 1 }, outShape?: number[]): Tensor {
  const { M, N, K, transA, transB, relu } = spec;
  const T = 4 * S;
  const count = batch.count;
  const kPer = batch.kPer ?? Math.max(K, 1);
  if (kPer % TK !== 0 && kPer < K) throw new Error(`matmulTiled: kPer ${kPer} must be a multiple of ${TK}`);
  const chunks = chunkCount(K, kPer);
  const name = batch.name ?? 'matmul';
  const batched = count !== 1 || chunks !== 1;
  const aVec = transA ? M % 4 === 0 : K % 4 === 0;
  const bVec = !transB && N % 4 === 0;
  const cVec = N % 4 === 0;
  const hasBias = !!spec.bias;
  const out = gpu.empty(outShape ?? [M, N], 'f32', name);
  const R = range(4);
  gpu.dispatch({
    name,
    key: `${name}.tiled${S}:${batched ? `${count}:${chunks}:${kPer}:` : ''}${M}:${N}:${K}:${transA}:${transB}:${hasBias}:${relu}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> A: array<${aVec ? 'vec4f' : 'f32'}>;
@group(0) @binding(1) var<storage, read> B: array<${bVec ? 'vec4f' : 'f32'}>;
@group(0) @binding(2) var<storage, read_write> C: array<${cVec ? 'vec4f' : 'f32'}>;
#if ${hasBias}
@group(0) @binding(3) var<storage, read> bias: array<f32>;
#endif
const M = ${M}u;
const N = ${N}u;
const K = ${K}u;
const S = ${S}u;
const T = ${T}u;

// A's slice: T x ${TK} as vec4 along k, or (transA) ${TK} x T as vec4 along m; B's ${TK} x T slice, vec4 along n.
var<workgroup> As: array<vec4f, ${TK * S}>;
var<workgroup> Bs: array<vec4f, ${TK * S}>;

#if ${transA}
// A[r..r+3, k] (stored [K, M] from element \`base\`; zero past M or kEnd).
fn loadA(base: u32, r: u32, k: u32, kEnd: u32) -> vec4f {
  if (k >= kEnd) { return vec4f(0.0); }
#if ${aVec}
  if (r >= M) { return vec4f(0.0); }
  return A[(base + k * M + r) / 4u];
#else
  var v = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (r + j < M) { v[j] = A[base + k * M + r + j]; }
  }
  return v;
#endif
}
#else
// A[r, k..k+3] (zero past M or kEnd).
fn loadA(base: u32, r: u32, k: u32, kEnd: u32) -> vec4f {
  if (r >= M) { return vec4f(0.0); }
#if ${aVec}
  if (k >= kEnd) { return vec4f(0.0); }
  return A[(base + r * K + k) / 4u];
#else
  var v = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (k + j < kEnd) { v[j] = A[base + r * K + k + j]; }
  }
  return v;
#endif
}
#endif

// B[k, c..c+3] (zero past kEnd or N).
fn loadB(base: u32, k: u32, c: u32, kEnd: u32) -> vec4f {
  if (k >= kEnd) { return vec4f(0.0); }
#if ${bVec}
  if (c >= N) { return vec4f(0.0); }
  return B[(base + k * N + c) / 4u];
#else
  var v = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (c + j < N) {
#if ${transB}
      v[j] = B[base + (c + j) * K + k];
#else
      v[j] = B[base + k * N + c + j];
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
  // Result wid.z: chunk wid.z / count of product wid.z % count.
  let product = wid.z % ${count}u;
  let kBegin = (wid.z / ${count}u) * ${kPer}u;
  let kEnd = min(kBegin + ${kPer}u, K);
  let aBase = product * ${M * K}u;
  let bBase = product * ${K * N}u;
${R.map((i) => `  var acc${i} = vec4f(0.0);`).join('\n')}
  for (var k0 = kBegin; k0 < kEnd; k0 += ${TK}u) {
    for (var i = li; i < ${TK * S}u; i += ${S * S}u) {
#if ${transA}
      As[i] = loadA(aBase, row0 + (i % S) * 4u, k0 + i / S, kEnd);
#else
      As[i] = loadA(aBase, row0 + i / ${TK / 4}u, k0 + (i % ${TK / 4}u) * 4u, kEnd);
#endif
      Bs[i] = loadB(bBase, k0 + i / S, col0 + (i % S) * 4u, kEnd);
    }
    workgroupBarrier();
    for (var kq = 0u; kq < ${TK / 4}u; kq++) {
#if ${transA}
${R.map((j) => `      let a${j} = As[(kq * 4u + ${j}u) * S + lid.y];
      let b${j} = Bs[(kq * 4u + ${j}u) * S + lid.x];
${R.map((i) => `      acc${i} = fma(vec4f(a${j}[${i}]), b${j}, acc${i});`).join('\n')}`).join('\n')}
#else
${R.map((i) => `      let a${i} = As[(lid.y * 4u + ${i}u) * ${TK / 4}u + kq];`).join('\n')}
${R.map((j) => `      let b${j} = Bs[(kq * 4u + ${j}u) * S + lid.x];
${R.map((i) => `      acc${i} = fma(vec4f(a${i}[${j}]), b${j}, acc${i});`).join('\n')}`).join('\n')}
#endif
    }
    workgroupBarrier();
  }
  let cBase = wid.z * ${M * N}u;
  let c = col0 + lid.x * 4u;
${R.map((i) => `  store(cBase, row0 + lid.y * 4u + ${i}u, c, acc${i});`).join('\n')}
}

fn store(base: u32, r: u32, c: u32, acc: vec4f) {
  if (r >= M) { return; }
#if ${cVec}
  if (c >= N) { return; }
  var v = acc;
#if ${hasBias}
  v += vec4f(bias[c], bias[c + 1u], bias[c + 2u], bias[c + 3u]);
#endif
#if ${relu}
  v = max(v, vec4f(0.0));
#endif
  C[(base + r * N + c) / 4u] = v;
#else
  for (var j = 0u; j < 4u; j++) {
    if (c + j < N) {
      var v = acc[j];
#if ${hasBias}
      v += bias[c + j];
#endif
#if ${relu}
      v = max(v, 0.0);
#endif
      C[base + r * N + c + j] = v;
    }
  }
#endif
}`,
    bindings: hasBias ? [a, b, out, spec.bias!] : [a, b, out],
    workgroups: [Math.ceil(N / T), Math.ceil(M / T), count * chunks],
  });
  return out;
}

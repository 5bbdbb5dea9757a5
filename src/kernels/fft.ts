// Real FFT of power-of-two length N (8..4096) in WGSL, one transform per workgroup.
// Method: the N real samples are packed as M = N/2 complex points z[n] = x[2n] + i x[2n+1], a complex
// Stockham autosort FFT of M points runs in workgroup memory (one radix-2 stage first when log2(M) is
// odd, then radix-4 stages), and the half-length spectrum is unpacked into the N/2+1 bins of the real
// transform. Each stage reads its butterfly inputs into registers and writes the outputs to the other
// of two M-point vec2f arrays, one barrier per stage (16 KiB for N = 2048). Where two arrays would pass
// the 16 KiB guaranteed to every adapter (N = 4096), one array is used, with a barrier between a
// stage's reads and its writes. Twiddles e^{-2πi m/N}, m < N, are computed once
// in float64 on the CPU and read from a storage buffer; the M-point twiddles are its even entries.
// Workgroups have 64 invocations (M/16 past N = 2048, see fftPlan), each holding M/WG points in registers.
// GPU-shaped variant 'wg256' (tuner family FFT_FAMILY, keyed by N): 256 invocations (at most M/4), 4
// points each at N = 2048, for real GPUs' wide SIMD; the default 'wg64' is lavapipe's best. Same
// kernel otherwise; they differ from N = 1024 up.
// This file generates the shared WGSL (used by stft.ts too) and launches the plain row transform.

import { wgsl } from './wgsl';
import { ShapeError, fmtShape, grid1d, type Gpu, type Tensor } from '../gpu';
import { expectDtype, expectRank } from './checks';
import { chosenVariant } from '../gpu/choices';

/** The tuner's family for the FFT's workgroup size, keyed by the length N ("2048"). */
export const FFT_FAMILY = 'fft.workgroup';
/** 'wg64': fftPlan's default (lavapipe's best); 'wg256': 256 invocations. */
export const FFT_VARIANTS = ['wg64', 'wg256'] as const;

export interface FftPlan {
  /** Real transform length. */
  n: number;
  /** Complex points of the packed half-length transform. */
  m: number;
  workgroup: number;
  /** Points each invocation holds in registers. */
  perThread: number;
  /** Radix of each stage, first to last. */
  radices: number[];
  /** Two workgroup arrays, so a stage can write while others still read (half the barriers). */
  pingPong: boolean;
}

/** The workgroup memory every kernel may count on (WebGPU's default limit, SwiftShader's). */
const WORKGROUP_BYTES = 16384;

/**
 * `maxWorkgroup` 64 measured best on lavapipe for N = 2048 (47k frames/s against 20k with 256: fewer
 * invocations to switch between at each barrier, four butterflies in registers per invocation).
 */
export function fftPlan(n: number, maxWorkgroup = 64): FftPlan {
  if (!Number.isInteger(n) || n < 8 || n > 4096 || (n & (n - 1)) !== 0) {
    throw new ShapeError(`fft: length ${n} must be a power of two in 8..4096`);
  }
  const m = n / 2;
  const log2m = Math.log2(m);
  const radices = [...(log2m % 2 === 1 ? [2] : []), ...Array<number>(Math.floor(log2m / 2)).fill(4)];
  // At most 16 points per invocation: longer unrolled stages take minutes to compile on lavapipe.
  const workgroup = Math.min(256, Math.max(maxWorkgroup, m / 16), m / 4);
  return { n, m, workgroup, perThread: m / workgroup, radices, pingPong: 2 * m * 8 <= WORKGROUP_BYTES };
}

/** The plan for length n with the workgroup size the tuner (or withVariant) chose on this runtime. */
export function tunedFftPlan(gpu: Gpu, n: number): FftPlan {
  return fftPlan(n, chosenVariant(gpu, FFT_FAMILY, String(n)) === 'wg256' ? 256 : 64);
}

/** e^{-2πi m/N} for m < N as interleaved (cos, sin) float32, computed in float64. */
export function twiddleTable(n: number): Float32Array {
  const t = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const a = (-2 * Math.PI * i) / n;
    t[2 * i] = Math.cos(a);
    t[2 * i + 1] = Math.sin(a);
  }
  return t;
}

/** Declarations the FFT body needs: the workgroup array and the complex helpers. `tw` is a binding. */
export function fftDeclarations(plan: FftPlan): string {
  return `
var<workgroup> buf: array<vec2f, ${plan.m}>;${plan.pingPong ? `\nvar<workgroup> tmp: array<vec2f, ${plan.m}>;` : ''}
fn cmul(a: vec2f, b: vec2f) -> vec2f { return vec2f(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x); }
// Multiplication by -i.
fn mulNegI(a: vec2f) -> vec2f { return vec2f(a.y, -a.x); }`;
}

/**
 * WGSL statements computing the M-point FFT. `load(i)` is a WGSL expression for input point i (it
 * may read global memory: the first stage takes its inputs straight from it); invocation index `l`
 * and `var v: array<vec2f, perThread>` must be in scope. The result lies in `buf` in natural order,
 * after a barrier.
 */
export function fftBody(plan: FftPlan, load: (index: string) => string): string {
  const { m, workgroup: wg, perThread } = plan;
  const lines: string[] = [];
  let ns = 1;
  const stages = plan.radices.length;
  // With two arrays the last stage must land in buf: stages alternate backwards from it.
  const target = (stage: number) => (!plan.pingPong || (stages - 1 - stage) % 2 === 0 ? 'buf' : 'tmp');
  plan.radices.forEach((r, stage) => {
    const per = perThread / r;
    const stride = m / r;
    const twStep = (m / (ns * r)) * 2; // in entries of the N-point table
    lines.push(`  // stage ${stage}: radix ${r}, sub-transforms of ${ns}`);
    for (let b = 0; b < per; b++) {
      for (let q = 0; q < r; q++) {
        const idx = `l + ${b * wg + q * stride}u`;
        lines.push(`  v[${b * r + q}] = ${stage === 0 ? load(idx) : `${target(stage - 1)}[${idx}]`};`);
      }
    }
    if (stage > 0 && !plan.pingPong) lines.push('  workgroupBarrier();');
    for (let b = 0; b < per; b++) {
      const o = b * r;
      lines.push(`  {`);
      lines.push(`    let j = l + ${b * wg}u;`);
      lines.push(`    let k = j % ${ns}u;`);
      if (ns > 1) {
        for (let q = 1; q < r; q++) lines.push(`    v[${o + q}] = cmul(v[${o + q}], tw[k * ${q * twStep}u]);`);
      }
      if (r === 2) {
        lines.push(`    let a = v[${o}]; let c = v[${o + 1}];`);
        lines.push(`    v[${o}] = a + c; v[${o + 1}] = a - c;`);
      } else {
        lines.push(`    let a0 = v[${o}] + v[${o + 2}]; let a1 = v[${o}] - v[${o + 2}];`);
        lines.push(`    let a2 = v[${o + 1}] + v[${o + 3}]; let a3 = mulNegI(v[${o + 1}] - v[${o + 3}]);`);
        lines.push(`    v[${o}] = a0 + a2; v[${o + 1}] = a1 + a3; v[${o + 2}] = a0 - a2; v[${o + 3}] = a1 - a3;`);
      }
      lines.push(`    let d = (j / ${ns}u) * ${ns * r}u + k;`);
      for (let q = 0; q < r; q++) lines.push(`    ${target(stage)}[d + ${q * ns}u] = v[${o + q}];`);
      lines.push(`  }`);
    }
    lines.push('  workgroupBarrier();');
    ns *= r;
  });
  return lines.join('\n');
}

/**
 * WGSL function `rbin(k) -> vec2f`: bin k (0..M) of the real transform from the packed spectrum in
 * `buf`: X[k] = (Z[k] + conj Z[M-k])/2 - i e^{-2πik/N} (Z[k] - conj Z[M-k])/2.
 */
export function realBinFunction(plan: FftPlan): string {
  return `
fn rbin(k: u32) -> vec2f {
  let a = buf[k % ${plan.m}u];
  let b = buf[(${plan.m}u - k) % ${plan.m}u];
  let bc = vec2f(b.x, -b.y);
  let even = 0.5 * (a + bc);
  let odd = 0.5 * (a - bc);
  return even + mulNegI(cmul(tw[k], odd));
}`;
}

/** The real FFT of each row of x [rows, N]: complex bins [rows, N/2+1, 2] (re, im). */
export function rfft(gpu: Gpu, x: Tensor, twiddles: Tensor): Tensor {
  const op = 'rfft';
  expectDtype(op, x, 'f32');
  expectRank(op, x, 2);
  const [rows, n] = x.shape as [number, number];
  const plan = tunedFftPlan(gpu, n);
  if (twiddles.size !== 2 * n) throw new ShapeError(`${op}: twiddles ${fmtShape(twiddles.shape)} do not match length ${n} (need ${2 * n} values)`);
  const bins = n / 2 + 1;
  const out = gpu.empty([rows, bins, 2], 'f32', op);
  const [gx, gy] = grid1d(rows, 1, gpu.limits.maxComputeWorkgroupsPerDimension);
  // The row count travels in a buffer so that one pipeline serves every batch size.
  const count = gpu.upload([rows], [1], 'u32', 'rfft.rows');
  gpu.dispatch({
    name: op,
    key: `${op}:${n}:${plan.workgroup}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> x: array<vec2f>;
@group(0) @binding(1) var<storage, read> tw: array<vec2f>;
@group(0) @binding(2) var<storage, read_write> out: array<vec2f>;
@group(0) @binding(3) var<storage, read> rows: u32;
${fftDeclarations(plan)}
${realBinFunction(plan)}
@compute @workgroup_size(${plan.workgroup})
fn main(@builtin(local_invocation_index) l: u32, @builtin(workgroup_id) w: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let row = w.x + w.y * nw.x;
  if (row >= rows) { return; }
  let base = row * ${plan.m}u;
  var v: array<vec2f, ${plan.perThread}>;
${fftBody(plan, (i) => `x[base + ${i}]`)}
  for (var k = l; k < ${bins}u; k += ${plan.workgroup}u) {
    out[row * ${bins}u + k] = rbin(k);
  }
}`,
    bindings: [x, twiddles, out, count],
    workgroups: [gx, gy],
  });
  count.dispose();
  return out;
}

// GPU-shaped batch-norm training reductions ('tree' variant): the per-channel statistics of the forward
// pass (mean, biased variance, moving-statistics update) and the per-channel sums of the backward pass
// (Σdy, Σdy·x̂ -> dbeta, dgamma and the dx coefficients), beside the lavapipe-shaped default in
// batchnorm.ts ('lanes': 32 channels x 8 row lanes, Welford per invocation). The normalising passes
// (y, dx) are batchnorm.ts's for both variants. Chosen per adapter and shape by the tuner (src/tune/,
// families BN_STATS_FAMILY and BN_GRAD_FAMILY) through the runtime's choice table; default 'lanes'.
// Layout: x [..., C] read as rows [R, C] (NHWC: consecutive channels adjacent), as vec4 channel groups
// when C % 4 == 0 (cl = C/4 groups) else scalars (cl = C).
// Tiling: workgroups of 256 invocations = cw channel lanes (cl rounded up to a power of two, at most
// 256) x rw = 256/cw row lanes, so the lanes of a workgroup read consecutive addresses (coalesced,
// vectorised). Pass 1: workgroup (gx, s) covers channel groups gx*cw.. and a slice of rows; each
// invocation sums its rows (ROWS_PER_LANE or more, strided by rw), then the row lanes reduce as a tree
// in workgroup memory to one partial per (slice, channel). Pass 2: one workgroup per cw channel groups
// merges the slices, rw slice lanes in order then as a tree. Deterministic (no atomics, fixed order).
// Statistics: each lane sums d = x - k and d² over its rows, k its own first value (shifted data with
// few terms, so the sums stay small whether |mean| >> std or mean ~ 0), as a (count, mean, M2)
// summary; lanes and slices merge with Chan's formula. Workgroup memory: 12 KiB (statistics), 8 KiB.
// Limits: R*C below the binding size; R below 2^24 (counts as f32).

import { wgsl } from './wgsl';
import type { Gpu, Tensor } from '../gpu';
import { chosenVariant } from '../gpu/choices';
import { f32Lit } from './checks';

/** The tuner's families: forward statistics and backward sums, each keyed by the activation shape. */
export const BN_STATS_FAMILY = 'batchnorm.statistics';
export const BN_GRAD_FAMILY = 'batchnorm.grad-sums';
/** 'lanes': batchnorm.ts's kernels (default); 'tree': this file's. */
export const BN_VARIANTS = ['lanes', 'tree'] as const;

/** The shape key of a batch-norm input, e.g. "32x41x32x64". */
export const bnShapeKey = (shape: readonly number[]): string => shape.join('x');

/** Whether the tuner (or withVariant) chose this file's kernels for `family` at this input shape. */
export function useTreeReduction(gpu: Gpu, family: string, shape: readonly number[]): boolean {
  return chosenVariant(gpu, family, bnShapeKey(shape)) === 'tree';
}

const WG = 256;
/** Rows each invocation of pass 1 sums at least (more when the slices would exceed the grid). */
const ROWS_PER_LANE = 16;

interface TreeGrid { vec: boolean; T: string; cl: number; R: number; cw: number; rw: number; groupsX: number; rowsPerSlice: number; slices: number }

function treeGrid(gpu: Gpu, size: number, C: number): TreeGrid {
  const vec = C % 4 === 0;
  const cl = vec ? C / 4 : C;
  const R = size / C;
  let cw = 1;
  while (cw < cl && cw < WG) cw *= 2;
  const rw = WG / cw;
  const rowsPerLane = Math.max(ROWS_PER_LANE, Math.ceil(R / (rw * gpu.limits.maxComputeWorkgroupsPerDimension)));
  const rowsPerSlice = rw * rowsPerLane;
  return { vec, T: vec ? 'vec4f' : 'f32', cl, R, cw, rw, groupsX: Math.ceil(cl / cw), rowsPerSlice, slices: Math.ceil(R / rowsPerSlice) };
}

const key = (g: TreeGrid): string => `${g.R}:${g.cl}:${g.vec}:${g.rowsPerSlice}`;

/** WGSL index of channel group c's partial in plane 0 or 1 of row slice `slice` (partials [slices, 2, C]). */
const partialAt = (g: TreeGrid, slice: string, plane: 0 | 1): string => `${slice} * ${2 * g.cl}u + ${plane ? `${g.cl}u + ` : ''}c`;

/** WGSL: the tree over the row lanes of workgroup arrays a (and b), leaving the sums in lane 0. */
const rowTree = (g: TreeGrid, body: string): string => `
  for (var stride = ${g.rw >> 1}u; stride > 0u; stride >>= 1u) {
    workgroupBarrier();
    if (l.y < stride) { let j = i + stride * ${g.cw}u; ${body} }
  }`;

/** WGSL: a (count, mean, M2) summary and Chan et al.'s merge of two; an empty summary is the identity. */
const chanMerge = (T: string): string => `
struct Stat { n: f32, m: ${T}, q: ${T} }
fn merge(a: Stat, b: Stat) -> Stat {
  if (b.n == 0.0) { return a; }
  if (a.n == 0.0) { return b; }
  let n = a.n + b.n;
  let d = b.m - a.m;
  return Stat(n, a.m + d * (b.n / n), a.q + b.q + d * d * (a.n * b.n / n));
}`;

/** Forward statistics: mean and 1/sqrt(var + eps) per channel; updates the moving statistics in place. */
export function batchNormStatsTree(
  gpu: Gpu, x: Tensor, C: number, moving: { movingMean: Tensor; movingVar: Tensor }, epsilon: number, momentum: GPUBuffer,
): { mean: Tensor; invstd: Tensor } {
  const op = 'batchNormTrain';
  const g = treeGrid(gpu, x.size, C);
  const { T, cl, cw, rw, R } = g;
  // Pass 1: each lane sums d = x - k over its rows, k its first value (few terms, so the sums stay
  // small whatever the mean), as a (count, mean, M2) summary; the lanes merge with Chan's formula.
  const partials = gpu.empty([g.slices, 2, C], 'f32', `${op}.partials`);
  gpu.dispatch({
    name: op,
    key: `${op}.tree1:${key(g)}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> x: array<${T}>;
@group(0) @binding(1) var<storage, read_write> partials: array<${T}>;
${chanMerge(T)}
var<workgroup> acc: array<Stat, ${WG}>;
@compute @workgroup_size(${cw}, ${rw})
fn main(@builtin(local_invocation_id) l: vec3u, @builtin(workgroup_id) w: vec3u) {
  let c = w.x * ${cw}u + l.x;
  let i = l.y * ${cw}u + l.x;
  let r0 = w.y * ${g.rowsPerSlice}u + l.y;
  let r1 = min(w.y * ${g.rowsPerSlice}u + ${g.rowsPerSlice}u, ${R}u);
  var s = Stat(0.0, ${T}(0.0), ${T}(0.0));
  if (c < ${cl}u && r0 < r1) {
    let k = x[r0 * ${cl}u + c];
    var a = ${T}(0.0);
    var b = ${T}(0.0);
    var n = 0.0;
    for (var r = r0; r < r1; r += ${rw}u) {
      let d = x[r * ${cl}u + c] - k;
      a += d;
      b += d * d;
      n += 1.0;
    }
    let m = a / n;
    s = Stat(n, k + m, max(b - a * m, ${T}(0.0)));
  }
  acc[i] = s;
  ${rowTree(g, 'acc[i] = merge(acc[i], acc[j]);')}
  if (l.y == 0u && c < ${cl}u) {
    partials[${partialAt(g, 'w.y', 0)}] = acc[i].m;
    partials[${partialAt(g, 'w.y', 1)}] = acc[i].q;
  }
}`,
    bindings: [x, partials],
    workgroups: [g.groupsX, g.slices],
  });
  const mean = gpu.empty([C], 'f32', `${op}.mean`);
  const invstd = gpu.empty([C], 'f32', `${op}.invstd`);
  gpu.dispatch({
    name: op,
    key: `${op}.tree2:${key(g)}:${epsilon}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> partials: array<${T}>;
@group(0) @binding(1) var<storage, read_write> mean: array<${T}>;
@group(0) @binding(2) var<storage, read_write> invstd: array<${T}>;
@group(0) @binding(3) var<storage, read_write> movingMean: array<${T}>;
@group(0) @binding(4) var<storage, read_write> movingVar: array<${T}>;
@group(0) @binding(5) var<storage, read> momentum: array<f32>;
${chanMerge(T)}
var<workgroup> acc: array<Stat, ${WG}>;
@compute @workgroup_size(${cw}, ${rw})
fn main(@builtin(local_invocation_id) l: vec3u, @builtin(workgroup_id) w: vec3u) {
  let c = w.x * ${cw}u + l.x;
  let i = l.y * ${cw}u + l.x;
  var s = Stat(0.0, ${T}(0.0), ${T}(0.0));
  if (c < ${cl}u) {
    for (var p = l.y; p < ${g.slices}u; p += ${rw}u) {
      let n = f32(min(${g.rowsPerSlice}u, ${R}u - p * ${g.rowsPerSlice}u));
      s = merge(s, Stat(n, partials[${partialAt(g, 'p', 0)}], partials[${partialAt(g, 'p', 1)}]));
    }
  }
  acc[i] = s;
  ${rowTree(g, 'acc[i] = merge(acc[i], acc[j]);')}
  if (l.y == 0u && c < ${cl}u) {
    let t = acc[i];
    let variance = t.q / ${f32Lit(R)};
    mean[c] = t.m;
    invstd[c] = 1.0 / sqrt(variance + ${f32Lit(epsilon)});
    movingMean[c] = movingMean[c] * momentum[0] + t.m * momentum[1];
    movingVar[c] = movingVar[c] * momentum[0] + variance * momentum[1];
  }
}`,
    bindings: [partials, mean, invstd, moving.movingMean, moving.movingVar, momentum],
    workgroups: [g.groupsX],
  });
  partials.dispose();
  return { mean, invstd };
}

/**
 * Backward sums: dbeta = Σ dy, dgamma = Σ dy·x̂ per channel (dy masked where reluOutput <= 0), and the
 * dx coefficients batchnorm.ts's dx pass reads: four planes of [C] (gamma*invstd, mean,
 * -gamma*invstd*dbeta/R, -gamma*invstd²*dgamma/R).
 */
export function batchNormGradSumsTree(
  gpu: Gpu, dy: Tensor, x: Tensor, gamma: Tensor, saved: { mean: Tensor; invstd: Tensor }, C: number, reluOutput?: Tensor,
): { dgamma: Tensor; dbeta: Tensor; coef: Tensor } {
  const op = 'batchNormBackward';
  const g = treeGrid(gpu, x.size, C);
  const { T, cl, cw, rw, R } = g;
  const relu = !!reluOutput;
  // Pass 1: each lane sums dy' and dy'·(x - mean) over its rows (dy' = dy masked by the ReLU); the
  // lanes add as a tree. x̂'s invstd factor is applied once per channel in pass 2.
  const partials = gpu.empty([g.slices, 2, C], 'f32', `${op}.partials`);
  gpu.dispatch({
    name: op,
    key: `${op}.tree1:${key(g)}:${relu}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> dy: array<${T}>;
@group(0) @binding(1) var<storage, read> x: array<${T}>;
@group(0) @binding(2) var<storage, read> mean: array<${T}>;
@group(0) @binding(3) var<storage, read_write> partials: array<${T}>;
#if ${relu}
@group(0) @binding(4) var<storage, read> yr: array<${T}>;
#endif
var<workgroup> sa: array<${T}, ${WG}>;
var<workgroup> sb: array<${T}, ${WG}>;
@compute @workgroup_size(${cw}, ${rw})
fn main(@builtin(local_invocation_id) l: vec3u, @builtin(workgroup_id) w: vec3u) {
  let c = w.x * ${cw}u + l.x;
  let i = l.y * ${cw}u + l.x;
  let r1 = min(w.y * ${g.rowsPerSlice}u + ${g.rowsPerSlice}u, ${R}u);
  var a = ${T}(0.0);
  var b = ${T}(0.0);
  if (c < ${cl}u) {
    let m = mean[c];
    for (var r = w.y * ${g.rowsPerSlice}u + l.y; r < r1; r += ${rw}u) {
      let e = r * ${cl}u + c;
#if ${relu}
      let gi = select(${T}(0.0), dy[e], yr[e] > ${T}(0.0));
#else
      let gi = dy[e];
#endif
      a += gi;
      b += gi * (x[e] - m);
    }
  }
  sa[i] = a;
  sb[i] = b;
  ${rowTree(g, 'sa[i] += sa[j]; sb[i] += sb[j];')}
  if (l.y == 0u && c < ${cl}u) {
    partials[${partialAt(g, 'w.y', 0)}] = sa[i];
    partials[${partialAt(g, 'w.y', 1)}] = sb[i];
  }
}`,
    bindings: relu ? [dy, x, saved.mean, partials, reluOutput!] : [dy, x, saved.mean, partials],
    workgroups: [g.groupsX, g.slices],
  });
  const dgamma = gpu.empty([C], 'f32', `${op}.dgamma`);
  const dbeta = gpu.empty([C], 'f32', `${op}.dbeta`);
  const coef = gpu.empty([4, C], 'f32', `${op}.coef`);
  gpu.dispatch({
    name: op,
    key: `${op}.tree2:${key(g)}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> partials: array<${T}>;
@group(0) @binding(1) var<storage, read> gamma: array<${T}>;
@group(0) @binding(2) var<storage, read> mean: array<${T}>;
@group(0) @binding(3) var<storage, read> invstd: array<${T}>;
@group(0) @binding(4) var<storage, read_write> dgamma: array<${T}>;
@group(0) @binding(5) var<storage, read_write> dbeta: array<${T}>;
@group(0) @binding(6) var<storage, read_write> coef: array<${T}>;
var<workgroup> sa: array<${T}, ${WG}>;
var<workgroup> sb: array<${T}, ${WG}>;
@compute @workgroup_size(${cw}, ${rw})
fn main(@builtin(local_invocation_id) l: vec3u, @builtin(workgroup_id) w: vec3u) {
  let c = w.x * ${cw}u + l.x;
  let i = l.y * ${cw}u + l.x;
  var a = ${T}(0.0);
  var b = ${T}(0.0);
  if (c < ${cl}u) {
    for (var p = l.y; p < ${g.slices}u; p += ${rw}u) {
      a += partials[${partialAt(g, 'p', 0)}];
      b += partials[${partialAt(g, 'p', 1)}];
    }
  }
  sa[i] = a;
  sb[i] = b;
  ${rowTree(g, 'sa[i] += sa[j]; sb[i] += sb[j];')}
  if (l.y == 0u && c < ${cl}u) {
    let s = invstd[c];
    let db = sa[i];
    let dg = sb[i] * s;
    dbeta[c] = db;
    dgamma[c] = dg;
    let k = gamma[c] * s;
    coef[c] = k;
    coef[${cl}u + c] = mean[c];
    coef[${2 * cl}u + c] = -k * db / ${f32Lit(R)};
    coef[${3 * cl}u + c] = -k * s * dg / ${f32Lit(R)};
  }
}`,
    bindings: [partials, gamma, saved.mean, saved.invstd, dgamma, dbeta, coef],
    workgroups: [g.groupsX],
  });
  partials.dispose();
  return { dgamma, dbeta, coef };
}

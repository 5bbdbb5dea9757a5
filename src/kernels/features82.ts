// The last two steps of the 82-row feature stack (librosa 0.11 semantics).
// postFrames: one workgroup of 64 per "post" frame (the frames that reach the padded output, plus the
// delta window's look-ahead): power_to_db of the mel row against the clip's max (top_db 80), the
// orthonormal DCT-II to nMfcc coefficients (dct [nMfcc, nMels] from the CPU), chroma from the power
// with the clip's filterbank (banks [nBanks, nChroma, bins], bank index per clip from clipstats.ts)
// normalised by its max, the contrast in dB (peak and valley each clipped against their own clip max),
// and the per-frame scalars. Output post [P, R], R = nMfcc + nChroma + 1 + bands + 3, the feature
// order without the deltas: mfcc, chroma, zcr, contrast, centroid, rolloff, bandwidth.
// assemble: one invocation per output element of [C, nMfcc*3 + R - nMfcc, frames]: rows copied from
// post, the Savitzky-Golay deltas (weights [2 orders][width positions][width], 'interp' edges use the
// polynomial of the first/last window) computed from the post MFCC rows, zeros past a clip's T.

import { wgsl } from './wgsl';
import { grid1d, type Gpu, type Tensor } from '../gpu';
import { expectDtype } from './checks';
import { CLIP_COLUMNS } from './stft';

const WG = 64;

export interface PostFrameOptions {
  nFft: number;
  nMels: number;
  nMfcc: number;
  nChroma: number;
  contrastBands: number;
  statColumns: number;
  topDb: number;
}

export interface PostFrameInputs {
  power: Tensor;
  mel: Tensor;
  stats: Tensor;
  clipStats: Tensor;
  bank: Tensor;
  frameClip: Tensor;
  postFrame: Tensor;
  dct: Tensor;
  chromaBanks: Tensor;
  counts: Tensor;
}

export const postColumns = (o: PostFrameOptions) => o.nMfcc + o.nChroma + 1 + o.contrastBands + 3;

export function postFrames(gpu: Gpu, inputs: PostFrameInputs, o: PostFrameOptions): Tensor {
  const op = 'postFrames';
  const { power, mel, stats, clipStats, bank, frameClip, postFrame, dct, chromaBanks, counts } = inputs;
  expectDtype(op, postFrame, 'u32');
  expectDtype(op, bank, 'u32');
  const bins = o.nFft / 2 + 1;
  const frames = postFrame.size;
  const R = postColumns(o);
  const S = o.statColumns;
  const nb = o.contrastBands;
  const out = gpu.empty([frames, R], 'f32', 'postFrames');
  const [gx, gy] = grid1d(frames, 1, gpu.limits.maxComputeWorkgroupsPerDimension);
  const chromaAt = o.nMfcc;
  const rowsSummed = o.nMfcc + o.nChroma;
  const scalarsAt = chromaAt + o.nChroma;
  gpu.dispatch({
    name: op,
    key: [op, o.nFft, o.nMels, o.nMfcc, o.nChroma, nb, S, o.topDb].join(':'),
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> power: array<f32>;
@group(0) @binding(1) var<storage, read> mel: array<f32>;
@group(0) @binding(2) var<storage, read> stats: array<f32>;
@group(0) @binding(3) var<storage, read> clipStats: array<vec4f>;
@group(0) @binding(4) var<storage, read> bank: array<u32>;
@group(0) @binding(5) var<storage, read> frameClip: array<u32>;
@group(0) @binding(6) var<storage, read> postFrame: array<u32>;
@group(0) @binding(7) var<storage, read> dct: array<f32>;
@group(0) @binding(8) var<storage, read> chromaBanks: array<f32>;
@group(0) @binding(9) var<storage, read_write> post: array<f32>;
@group(0) @binding(10) var<uniform> counts: vec4u;

const BINS = ${bins}u;
var<workgroup> pw: array<f32, ${bins}>;
var<workgroup> db: array<f32, ${o.nMels}>;
var<workgroup> partial: array<f32, ${(o.nMfcc + o.nChroma) * WG}>;
var<workgroup> rowSum: array<f32, ${o.nMfcc + o.nChroma}>;

fn toDb(x: f32) -> f32 { return 3.0102999566398120 * log2(max(x, 1e-10)); }

@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) l: u32, @builtin(workgroup_id) w: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let p = w.x + w.y * nw.x;
  if (p >= counts.y) { return; }
  let f = postFrame[p];
  let c = frameClip[f];
  let cs = clipStats[c];
  for (var k = l; k < BINS; k += ${WG}u) { pw[k] = power[f * BINS + k]; }
  for (var m = l; m < ${o.nMels}u; m += ${WG}u) { db[m] = max(toDb(mel[f * ${o.nMels}u + m]), cs.x - ${o.topDb}.0); }
  workgroupBarrier();

  // Each invocation accumulates every MFCC and chroma row over its share of mel bands and bins
  // (neighbouring invocations read neighbouring elements), then the partials are summed per row.
  var mf: array<f32, ${o.nMfcc}>;
  for (var m = l; m < ${o.nMels}u; m += ${WG}u) {
    let x = db[m];
${Array.from({ length: o.nMfcc }, (_, r) => `    mf[${r}] += dct[${r * o.nMels}u + m] * x;`).join('\n')}
  }
  var ch: array<f32, ${o.nChroma}>;
  let bankRows = bank[c] * ${o.nChroma * bins}u;
  for (var k = l; k < BINS; k += ${WG}u) {
    let x = pw[k];
${Array.from({ length: o.nChroma }, (_, r) => `    ch[${r}] += chromaBanks[bankRows + ${r * bins}u + k] * x;`).join('\n')}
  }
${Array.from({ length: o.nMfcc }, (_, r) => `  partial[l * ${rowsSummed}u + ${r}u] = mf[${r}];`).join('\n')}
${Array.from({ length: o.nChroma }, (_, r) => `  partial[l * ${rowsSummed}u + ${o.nMfcc + r}u] = ch[${r}];`).join('\n')}
  workgroupBarrier();
  if (l < ${o.nMfcc + o.nChroma}u) {
    var s = 0.0;
    for (var i = 0u; i < ${WG}u; i++) { s += partial[i * ${rowsSummed}u + l]; }
    rowSum[l] = s;
  }
  workgroupBarrier();
  if (l < ${o.nMfcc}u) { post[p * ${R}u + l] = rowSum[l]; }
  if (l < ${o.nChroma}u) {
    var peak = 0.0;
    for (var r = 0u; r < ${o.nChroma}u; r++) { peak = max(peak, abs(rowSum[${o.nMfcc}u + r])); }
    let mine = rowSum[${o.nMfcc}u + l];
    post[p * ${R}u + ${chromaAt}u + l] = select(mine / peak, mine, peak < 1.17549435e-38);
  }

  let st = f * ${S}u;
  if (l < ${nb}u) {
    let peakDb = max(toDb(stats[st + 4u + l]), cs.y - ${o.topDb}.0);
    let valleyDb = max(toDb(stats[st + 4u + ${nb}u + l]), cs.z - ${o.topDb}.0);
    post[p * ${R}u + ${scalarsAt + 1}u + l] = peakDb - valleyDb;
  }
  if (l == 0u) {
    let o = p * ${R}u + ${scalarsAt}u;
    post[o] = stats[st + 3u];
    post[o + ${nb + 1}u] = stats[st];
    post[o + ${nb + 2}u] = stats[st + 2u];
    post[o + ${nb + 3}u] = stats[st + 1u];
  }
}`,
    bindings: [power, mel, stats, clipStats, bank, frameClip, postFrame, dct, chromaBanks, out, counts],
    workgroups: [gx, gy],
  });
  return out;
}

export interface AssembleOptions {
  nMfcc: number;
  postColumns: number;
  deltaWidth: number;
  /** Output frames per clip (truncate or zero-pad). */
  frames: number;
}

/** [C, rows, frames] features from post [P, R] and savgol [2, width, width] delta weights. */
export function assemble(gpu: Gpu, post: Tensor, clips: Tensor, counts: Tensor, savgol: Tensor, o: AssembleOptions): Tensor {
  const op = 'assemble';
  expectDtype(op, clips, 'u32');
  const nClips = clips.size / CLIP_COLUMNS;
  const W = o.deltaWidth;
  const H = (W - 1) / 2;
  const rows = o.postColumns + 2 * o.nMfcc;
  const total = nClips * rows * o.frames;
  const R = o.postColumns;
  const nM = o.nMfcc;
  const [gx, gy] = grid1d(total, 256, gpu.limits.maxComputeWorkgroupsPerDimension);
  const out = gpu.empty([nClips, rows, o.frames], 'f32', 'features82');
  gpu.dispatch({
    name: op,
    key: [op, nM, R, W, o.frames].join(':'),
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> post: array<f32>;
@group(0) @binding(1) var<storage, read> clips: array<u32>;
@group(0) @binding(2) var<storage, read> savgol: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read> counts: vec4u;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = g.x + g.y * nw.x * 256u;
  if (i >= counts.z * ${rows * o.frames}u) { return; }
  let c = i / ${rows * o.frames}u;
  let row = (i / ${o.frames}u) % ${rows}u;
  let t = i % ${o.frames}u;
  let T = clips[c * ${CLIP_COLUMNS}u + 3u];
  let base = clips[c * ${CLIP_COLUMNS}u + 4u];
  var v = 0.0;
  if (t < T) {
    if (row < ${nM}u) {
      v = post[(base + t) * ${R}u + row];
    } else if (row < ${3 * nM}u) {
      let order = (row - ${nM}u) / ${nM}u;
      let r = (row - ${nM}u) % ${nM}u;
      var pos = ${H}u;
      if (t < ${H}u) { pos = t; } else if (t + ${H}u >= T) { pos = t + ${W}u - T; }
      let start = t - pos;
      let wts = (order * ${W}u + pos) * ${W}u;
      for (var j = 0u; j < ${W}u; j++) { v += savgol[wts + j] * post[(base + start + j) * ${R}u + r]; }
    } else {
      v = post[(base + t) * ${R}u + row - ${2 * nM}u];
    }
  }
  out[i] = v;
}`,
    bindings: [post, clips, savgol, out, counts],
    workgroups: [gx, gy],
  });
  return out;
}

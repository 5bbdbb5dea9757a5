// Whole-clip statistics, one workgroup of 256 per clip: the maxima that power_to_db's top_db clip is
// relative to (mel power, contrast peaks, contrast valleys: each over the clip's whole matrix) and,
// optionally, librosa.estimate_tuning from the piptrack peaks of spectral.ts:
//  - the median peak magnitude by radix selection on the float bits (magnitudes are >= 0, so their
//    u32 bits sort like the floats): four passes of a 256-bin histogram in workgroup atomics, then
//    the next order statistic for even counts (numpy's median averages the two middle values);
//  - residuals 12 log2(f / 27.5) mod 1 in [-0.5, 0.5) of the peaks at or above the median, into 100
//    bins of width 0.01; the result is the left edge of the first fullest bin (0 when no peaks).
//    The octave count drops out of the residual, so log2 only sees the mantissa (better precision).
// Outputs: stats [C, 4] f32 = (mel max in dB, peak max in dB, valley max in dB, tuning) and
// bank [C] u32, the tuning's index 0..99 (tuning = index/100 - 0.5) that selects a chroma filterbank.

import { wgsl } from './wgsl';
import type { Gpu, Tensor } from '../gpu';
import { expectDtype, f32Lit } from './checks';
import { CLIP_COLUMNS } from './stft';

const WG = 256;
/** Tuning bins of librosa's default resolution 0.01 over [-0.5, 0.5). */
export const TUNING_BINS = 100;

export interface ClipStatsInputs {
  clips: Tensor;
  mel: Tensor;
  stats: Tensor;
  pitch: Tensor;
  pitchCount: Tensor;
}

export interface ClipStatsOptions {
  nMels: number;
  /** Columns of `stats` and where the contrast peaks start (valleys follow). */
  statColumns: number;
  contrastBands: number;
  maxPeaks: number;
  /** Bins per octave of the tuning residual (n_chroma). */
  binsPerOctave: number;
  estimateTuning: boolean;
}

export function clipStats(gpu: Gpu, inputs: ClipStatsInputs, o: ClipStatsOptions): { stats: Tensor; bank: Tensor } {
  const op = 'clipStats';
  const { clips, mel, stats, pitch, pitchCount } = inputs;
  expectDtype(op, clips, 'u32');
  expectDtype(op, pitchCount, 'u32');
  const nClips = clips.size / CLIP_COLUMNS;
  const out = gpu.empty([nClips, 4], 'f32', 'clipStats.stats');
  const bank = gpu.empty([nClips], 'u32', 'clipStats.bank');
  const nb = o.contrastBands;
  const S = o.statColumns;
  const P = o.maxPeaks;
  const octaveOffset = (o.binsPerOctave * Math.log2(27.5)) % 1;
  gpu.dispatch({
    name: op,
    key: [op, o.nMels, S, nb, P, o.binsPerOctave, o.estimateTuning].join(':'),
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> clips: array<u32>;
@group(0) @binding(1) var<storage, read> mel: array<f32>;
@group(0) @binding(2) var<storage, read> stats: array<f32>;
@group(0) @binding(3) var<storage, read> pitchCount: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> bank: array<u32>;
#if ${o.estimateTuning}
@group(0) @binding(6) var<storage, read> pitch: array<vec2f>;
#endif

var<workgroup> red: array<vec4f, ${WG}>;
var<workgroup> hist: array<atomic<u32>, 256>;
var<workgroup> selected: u32;
var<workgroup> rank: u32;
var<workgroup> atMost: atomic<u32>;
var<workgroup> above: atomic<u32>;

fn toDb(x: f32) -> f32 { return 3.0102999566398120 * log2(max(x, 1e-10)); }

@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) l: u32, @builtin(workgroup_id) w: vec3u) {
  let c = w.x;
  let first = clips[c * ${CLIP_COLUMNS}u + 2u];
  let frames = clips[c * ${CLIP_COLUMNS}u + 3u];
  var acc = vec4f(0.0);
  for (var i = l; i < frames * ${o.nMels}u; i += ${WG}u) { acc.x = max(acc.x, mel[first * ${o.nMels}u + i]); }
  for (var i = l; i < frames * ${nb}u; i += ${WG}u) {
    let row = (first + i / ${nb}u) * ${S}u + 4u + i % ${nb}u;
    acc.y = max(acc.y, stats[row]);
    acc.z = max(acc.z, stats[row + ${nb}u]);
  }
  for (var t = l; t < frames; t += ${WG}u) { acc.w += f32(pitchCount[first + t]); }
  red[l] = acc;
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    workgroupBarrier();
    if (l < s) {
      let a = red[l];
      let b = red[l + s];
      red[l] = vec4f(max(a.xyz, b.xyz), a.w + b.w);
    }
  }
  workgroupBarrier();
  let totals = red[0];
  var tuningBin = ${TUNING_BINS / 2}u;
#if ${o.estimateTuning}
  let count = u32(totals.w);
  // Order statistic r = lower middle, by 8 bits at a time from the top.
  if (l == 0u) {
    selected = 0u;
    rank = (max(count, 1u) - 1u) / 2u;
    atomicStore(&atMost, 0u);
    atomicStore(&above, 0xffffffffu);
  }
  for (var round = 0u; round < 4u; round++) {
    let shift = 24u - 8u * round;
    atomicStore(&hist[l], 0u);
    workgroupBarrier();
    let prefix = selected;
    for (var i = l; i < frames * ${P}u; i += ${WG}u) {
      let t = first + i / ${P}u;
      if (i % ${P}u < pitchCount[t]) {
        let bits = bitcast<u32>(pitch[t * ${P}u + i % ${P}u].y);
        if ((((bits ^ prefix) >> shift) >> 8u) == 0u) { atomicAdd(&hist[(bits >> shift) & 255u], 1u); }
      }
    }
    workgroupBarrier();
    if (l == 0u) {
      var below = 0u;
      for (var b = 0u; b < 256u; b++) {
        let h = atomicLoad(&hist[b]);
        if (below + h > rank) {
          selected = prefix | (b << shift);
          rank = rank - below;
          break;
        }
        below += h;
      }
    }
    workgroupBarrier();
  }
  let lower = selected;
  for (var i = l; i < frames * ${P}u; i += ${WG}u) {
    let t = first + i / ${P}u;
    if (i % ${P}u < pitchCount[t]) {
      let bits = bitcast<u32>(pitch[t * ${P}u + i % ${P}u].y);
      if (bits <= lower) { atomicAdd(&atMost, 1u); } else { atomicMin(&above, bits); }
    }
  }
  atomicStore(&hist[l], 0u);
  workgroupBarrier();
  let r = (max(count, 1u) - 1u) / 2u;
  let upper = select(bitcast<f32>(atomicLoad(&above)), bitcast<f32>(lower), atomicLoad(&atMost) > r + 1u);
  let median = select((bitcast<f32>(lower) + upper) * 0.5, bitcast<f32>(lower), count % 2u == 1u);
  for (var i = l; i < frames * ${P}u; i += ${WG}u) {
    let t = first + i / ${P}u;
    if (i % ${P}u < pitchCount[t]) {
      let p = pitch[t * ${P}u + i % ${P}u];
      if (p.y >= median) {
        let mantissa = frexp(p.x).fract * 2.0;
        var x = ${f32Lit(o.binsPerOctave)} * log2(mantissa) - ${f32Lit(octaveOffset)};
        x = x - floor(x);
        if (x >= 0.5) { x -= 1.0; }
        atomicAdd(&hist[u32(clamp(i32(floor((x + 0.5) * ${TUNING_BINS}.0)), 0, ${TUNING_BINS - 1}))], 1u);
      }
    }
  }
  workgroupBarrier();
  if (count > 0u) {
    var best = 0u;
    for (var b = 1u; b < ${TUNING_BINS}u; b++) {
      if (atomicLoad(&hist[b]) > atomicLoad(&hist[best])) { best = b; }
    }
    tuningBin = best;
  }
#endif
  if (l == 0u) {
    out[c] = vec4f(toDb(totals.x), toDb(totals.y), toDb(totals.z), f32(tuningBin) / ${TUNING_BINS}.0 - 0.5);
    bank[c] = tuningBin;
  }
}`,
    bindings: o.estimateTuning ? [clips, mel, stats, pitchCount, out, bank, pitch] : [clips, mel, stats, pitchCount, out, bank],
    workgroups: [nClips],
  });
  return { stats: out, bank };
}

// Per-frame spectral features from the STFT power, one frame per workgroup, everything the whole-clip
// steps need before the clip statistics exist (librosa 0.11 semantics, magnitude = sqrt(power)):
//  - mel power: a sparse filterbank, each mel row one contiguous run of weights (runs [nMels, 4] u32:
//    first bin, count, offset of its weights, 0; the weights packed row after row);
//  - centroid, bandwidth (p = 2) and roll-off of the L1-normalised magnitude (an all-zero frame gives 0);
//  - piptrack peaks for estimate_tuning: local maxima of the power gated at threshold x frame max,
//    between fmin and fmax, parabolic interpolation; written unordered into a fixed slot per frame;
//  - zero-crossing rate of the frame of the signal with edge padding (frame length n_fft).
// Outputs: mel [F, nMels]; stats [F, 4 + 2 (nBands+1)] = centroid, bandwidth, rolloff, zcr, peaks,
// valleys (those contrast columns are written by contrast.ts); pitch [F, maxPeaks] vec2f (frequency,
// magnitude) with the count per frame in pitchCount [F].
// Invocations stride over bins (neighbours read neighbours), except for the roll-off's prefix sums,
// where each owns a contiguous chunk; totals are summed by every invocation from the partials in
// workgroup memory, which costs less than a barrier tree here.

import { wgsl } from './wgsl';
import { grid1d, type Gpu, type Tensor } from '../gpu';
import { expectDtype } from './checks';
import { CLIP_COLUMNS } from './stft';
import { f32Lit } from './checks';

const WG = 64;

export interface SpectralConstants {
  sampleRate: number;
  nFft: number;
  hop: number;
  nMels: number;
  rollPercent: number;
  contrast: ContrastBand[];
  pitch: PitchRange;
}

export interface ContrastBand {
  first: number;
  /** Bins that take part in the sort. */
  sorted: number;
  /** How many extremes are averaged. */
  n: number;
}

export interface PitchRange {
  /** Bins [lo, hi) inside fmin <= f < fmax. */
  lo: number;
  hi: number;
  threshold: number;
  /** Slots per frame: at most one peak in every other bin. */
  maxPeaks: number;
}

const binFrequency = (k: number, sampleRate: number, nFft: number) => k * (1 / (nFft * (1 / sampleRate)));

/** numpy.rint: halves go to the even neighbour. */
function rint(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** librosa.feature.spectral_contrast's bands: octaves from fmin, the last one up to Nyquist. */
export function contrastBands(sampleRate: number, nFft: number, nBands: number, fmin: number, quantile: number): ContrastBand[] {
  const bins = nFft / 2 + 1;
  const edges = [0, ...Array.from({ length: nBands + 1 }, (_, k) => fmin * 2 ** k)];
  return Array.from({ length: nBands + 1 }, (_, b) => {
    let first = -1;
    let last = -1;
    for (let k = 0; k < bins; k++) {
      const f = binFrequency(k, sampleRate, nFft);
      if (f >= edges[b]! && f <= edges[b + 1]!) {
        if (first < 0) first = k;
        last = k;
      }
    }
    if (b > 0) first -= 1;
    if (b === nBands) last = bins - 1;
    const count = last - first + 1;
    return { first, sorted: b < nBands ? count - 1 : count, n: Math.max(1, rint(quantile * count)) };
  });
}

export function pitchRange(sampleRate: number, nFft: number, fmin = 150, fmax = 4000, threshold = 0.1): PitchRange {
  const bins = nFft / 2 + 1;
  const hiHz = Math.min(fmax, sampleRate / 2);
  let lo = bins;
  let hi = 0;
  for (let k = 0; k < bins; k++) {
    const f = binFrequency(k, sampleRate, nFft);
    if (Math.max(fmin, 0) <= f && f < hiHz) {
      lo = Math.min(lo, k);
      hi = k + 1;
    }
  }
  return { lo, hi: Math.max(lo, hi), threshold, maxPeaks: Math.max(1, Math.ceil((hi - lo) / 2) + 1) };
}

export interface SpectralInputs {
  power: Tensor;
  signal: Tensor;
  clips: Tensor;
  frameClip: Tensor;
  melRuns: Tensor;
  melWeights: Tensor;
  counts: Tensor;
}

export interface SpectralOutputs {
  mel: Tensor;
  stats: Tensor;
  pitch: Tensor;
  pitchCount: Tensor;
}

export const statColumns = (c: SpectralConstants) => 4 + 2 * c.contrast.length;

export function spectralFrames(gpu: Gpu, inputs: SpectralInputs, c: SpectralConstants): SpectralOutputs {
  const op = 'spectralFrames';
  const { power, signal, clips, frameClip, melRuns, melWeights, counts } = inputs;
  expectDtype(op, power, 'f32');
  expectDtype(op, melRuns, 'u32');
  const bins = c.nFft / 2 + 1;
  const frames = frameClip.size;
  const S = statColumns(c);
  const chunk = Math.ceil(bins / WG);
  const { lo, hi, threshold, maxPeaks } = c.pitch;
  const mel = gpu.empty([frames, c.nMels], 'f32', 'spectral.mel');
  const stats = gpu.empty([frames, S], 'f32', 'spectral.stats');
  const pitch = gpu.empty([frames, maxPeaks, 2], 'f32', 'spectral.pitch');
  const pitchCount = gpu.empty([frames], 'u32', 'spectral.pitchCount');
  const [gx, gy] = grid1d(frames, 1, gpu.limits.maxComputeWorkgroupsPerDimension);
  const binHz = f32Lit(binFrequency(1, c.sampleRate, c.nFft));
  const key = [op, c.sampleRate, c.nFft, c.hop, c.nMels, c.rollPercent, lo, hi, threshold, S].join(':');
  gpu.dispatch({
    name: op,
    key,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> power: array<f32>;
@group(0) @binding(1) var<storage, read> signal: array<f32>;
@group(0) @binding(2) var<storage, read> clips: array<u32>;
@group(0) @binding(3) var<storage, read> frameClip: array<u32>;
@group(0) @binding(4) var<storage, read> melRuns: array<vec4u>;
@group(0) @binding(5) var<storage, read> melWeights: array<f32>;
@group(0) @binding(6) var<storage, read_write> mel: array<f32>;
@group(0) @binding(7) var<storage, read_write> stats: array<f32>;
@group(0) @binding(8) var<storage, read_write> pitch: array<vec2f>;
@group(0) @binding(9) var<storage, read_write> pitchCount: array<u32>;
@group(0) @binding(10) var<uniform> counts: vec4u;

const BINS = ${bins}u;
const CHUNK = ${chunk}u;
const BIN_HZ = ${binHz};
var<workgroup> pw: array<f32, ${bins}>;
var<workgroup> mg: array<f32, ${bins}>;
var<workgroup> partA: array<f32, ${WG}>;
var<workgroup> partB: array<f32, ${WG}>;
var<workgroup> partC: array<f32, ${WG}>;
var<workgroup> totals: vec3f;
var<workgroup> rollBin: atomic<u32>;
var<workgroup> peaks: atomic<u32>;

fn gated(k: i32, gate: f32) -> f32 {
  let v = pw[clamp(k, 0, ${bins - 1})];
  return select(0.0, v, v > gate);
}

@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) l: u32, @builtin(workgroup_id) w: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let f = w.x + w.y * nw.x;
  if (f >= counts.x) { return; }
  if (l == 0u) {
    atomicStore(&rollBin, BINS - 1u);
    atomicStore(&peaks, 0u);
  }
  // Neighbouring invocations take neighbouring bins wherever the order of summation is free.
  var sum = 0.0;
  var sumF = 0.0;
  var peak = 0.0;
  for (var k = l; k < BINS; k += ${WG}u) {
    let p = power[f * BINS + k];
    let m = sqrt(p);
    pw[k] = p;
    mg[k] = m;
    sum += m;
    sumF += f32(k) * BIN_HZ * m;
    peak = max(peak, p);
  }
  partA[l] = sum;
  partB[l] = sumF;
  partC[l] = peak;
  workgroupBarrier();
  if (l == 0u) {
    var t = vec3f(0.0);
    for (var i = 0u; i < ${WG}u; i++) { t = vec3f(t.x + partA[i], t.y + partB[i], max(t.z, partC[i])); }
    totals = t;
  }
  workgroupBarrier();
  let total = totals.x;
  let totalF = totals.y;
  let framePeak = totals.z;
  let norm = select(total, 1.0, total < 1.17549435e-38);
  let centroid = totalF / norm;
  var dev = 0.0;
  for (var k = l; k < BINS; k += ${WG}u) {
    let d = f32(k) * BIN_HZ - centroid;
    dev += mg[k] / norm * d * d;
  }
  // Roll-off needs prefix sums in bin order: here each invocation owns a contiguous chunk.
  let k0 = l * CHUNK;
  let k1 = min(k0 + CHUNK, BINS);
  var chunkSum = 0.0;
  for (var k = k0; k < k1; k++) { chunkSum += mg[k]; }
  partC[l] = chunkSum;
  workgroupBarrier();
  if (l == 0u) {
    var run = 0.0;
    for (var i = 0u; i < ${WG}u; i++) {
      let v = partC[i];
      partC[i] = run;
      run += v;
    }
    totals.x = run;
  }
  workgroupBarrier();
  let before = partC[l];
  let rollTotal = totals.x;
  let rollTarget = ${f32Lit(c.rollPercent)} * rollTotal;
  var cum = before;
  for (var k = k0; k < k1; k++) {
    cum += mg[k];
    if (cum >= rollTarget) {
      atomicMin(&rollBin, k);
      break;
    }
  }

  // piptrack: local maxima of the gated power, parabolic interpolation on the raw power.
  let gate = ${f32Lit(threshold)} * framePeak;
  for (var k = ${lo}u + l; k < ${hi}u; k += ${WG}u) {
    let ki = i32(k);
    let v = gated(ki, gate);
    if (v > gated(ki - 1, gate) && v >= gated(ki + 1, gate)) {
      let left = pw[k - 1u];
      let right = pw[k + 1u];
      let avg = 0.5 * (right - left);
      let curvature = 2.0 * pw[k] - right - left;
      let shift = avg / select(curvature, curvature + 1.0, abs(curvature) < 1.17549435e-38);
      let slot = atomicAdd(&peaks, 1u);
      pitch[f * ${maxPeaks}u + slot] = vec2f((f32(k) + shift) * BIN_HZ, pw[k] + 0.5 * avg * shift);
    }
  }

  // Zero crossings of the frame's n_fft samples, edge-padded; a sample within 1e-10 of 0 is positive.
  let clip = frameClip[f] * ${CLIP_COLUMNS}u;
  let base = clips[clip];
  let len = i32(clips[clip + 1u]);
  let start = i32((f - clips[clip + 2u]) * ${c.hop}u) - ${c.nFft / 2};
  var crossings = 0.0;
  if (len > 0) {
    for (var i = l; i < ${c.nFft}u; i += ${WG}u) {
      let j = start + i32(i);
      let neg = signal[base + u32(clamp(j, 0, len - 1))] < -1e-10;
      let prev = signal[base + u32(clamp(j - 1, 0, len - 1))] < -1e-10;
      if (i > 0u && neg != prev) { crossings += 1.0; }
    }
  }
  workgroupBarrier();
  partA[l] = dev;
  partB[l] = crossings;
  workgroupBarrier();

  for (var m = l; m < ${c.nMels}u; m += ${WG}u) {
    let run = melRuns[m];
    var acc = 0.0;
    for (var i = 0u; i < run.y; i++) { acc += melWeights[run.z + i] * pw[run.x + i]; }
    mel[f * ${c.nMels}u + m] = acc;
  }
  if (l == 0u) {
    var spread = 0.0;
    var zeroCrossings = 0.0;
    for (var i = 0u; i < ${WG}u; i++) {
      spread += partA[i];
      zeroCrossings += partB[i];
    }
    stats[f * ${S}u] = centroid;
    stats[f * ${S}u + 1u] = sqrt(spread);
    stats[f * ${S}u + 2u] = f32(atomicLoad(&rollBin)) * BIN_HZ;
    stats[f * ${S}u + 3u] = zeroCrossings / ${f32Lit(c.nFft)};
    pitchCount[f] = atomicLoad(&peaks);
  }
}`,
    bindings: [power, signal, clips, frameClip, melRuns, melWeights, mel, stats, pitch, pitchCount, counts],
    workgroups: [gx, gy],
  });
  return { mel, stats, pitch, pitchCount };
}

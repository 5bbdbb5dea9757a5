// Spectral contrast before its dB step (librosa.feature.spectral_contrast, linear=False): per frame and
// band, the mean of the n smallest (valley) and of the n largest (peak) magnitudes of the band's sorted
// bins, magnitudes = sqrt(power); the band quirks are baked into `ContrastBand`s (spectral.ts).
// One invocation per (frame, band, side): workgroups of 64 frames share one band and side (grid y), so
// every lane runs the same loop in lockstep, which is what SIMD-over-invocations adapters (lavapipe,
// SwiftShader) need. Each invocation keeps the NMAX smallest values of sign*x in registers as a sorted
// list, inserting with an unrolled branch-free min/max network; a value that cannot enter skips it.
// Output: stats[f, 4 + band] (peaks) and stats[f, 4 + bands + band] (valleys) of the spectral stats.

import { wgsl } from './wgsl';
import type { Gpu, Tensor } from '../gpu';
import { ShapeError } from '../gpu';
import type { ContrastBand } from './spectral';

const WG = 64;

export interface ContrastOptions {
  nFft: number;
  bands: ContrastBand[];
  statColumns: number;
}

/** Writes the peaks and valleys into `stats` [F, statColumns] (read-write). */
export function contrastExtremes(gpu: Gpu, power: Tensor, counts: Tensor, stats: Tensor, o: ContrastOptions): void {
  const op = 'contrastExtremes';
  const bins = o.nFft / 2 + 1;
  const frames = power.size / bins;
  if (!Number.isInteger(frames)) throw new ShapeError(`${op}: power has ${power.size} values, not a multiple of ${bins} bins`);
  const nb = o.bands.length;
  const nMax = Math.max(...o.bands.map((b) => b.n));
  const keep = Array.from({ length: nMax }, (_, j) => `k${j}`);
  const table = o.bands.map((b) => `vec3u(${b.first}u, ${b.sorted}u, ${b.n}u)`).join(', ');
  const groups = Math.ceil(frames / WG);
  if (groups > gpu.limits.maxComputeWorkgroupsPerDimension) throw new ShapeError(`${op}: ${frames} frames exceed one dispatch`);
  gpu.dispatch({
    name: op,
    key: [op, o.nFft, o.statColumns, table].join(':'),
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> power: array<f32>;
@group(0) @binding(1) var<storage, read> counts: vec4u;
@group(0) @binding(2) var<storage, read_write> stats: array<f32>;
const BANDS = array<vec3u, ${nb}>(${table});

@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(workgroup_id) w: vec3u) {
  let f = g.x;
  if (f >= counts.x) { return; }
  let band = BANDS[w.y / 2u];
  let top = (w.y & 1u) == 0u;
  // Peaks are the smallest values of -x.
  let sign = select(1.0, -1.0, top);
${keep.map((k) => `  var ${k} = 3.40282346e38;`).join('\n')}
  let row = f * ${bins}u + band.x;
  for (var i = 0u; i < band.y; i++) {
    var c = sign * sqrt(power[row + i]);
    if (c < ${keep[nMax - 1]}) {
${keep.map((k) => `      { let lo = min(${k}, c); c = max(${k}, c); ${k} = lo; }`).join('\n')}
    }
  }
  var s = 0.0;
${keep.map((k, j) => `  if (${j}u < band.z) { s += ${k}; }`).join('\n')}
  stats[f * ${o.statColumns}u + 4u + select(${nb}u, 0u, top) + w.y / 2u] = sign * s / f32(band.z);
}`,
    bindings: [power, counts, stats],
    workgroups: [groups, 2 * nb],
  });
}

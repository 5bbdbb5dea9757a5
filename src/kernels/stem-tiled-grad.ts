// GPU-shaped variants of the stem conv's filter gradient (family 'stem.filter-grad'; default 'direct',
// the kernel of conv2d-grad.ts): dw [3, 3, 1, Cout] = sum over images and output pixels of
// x [n, oh + kh - top, ow + kw - left] · dy [n, oh, ow, :], with the tiles of stem-tiled.ts.
// Tiling: a workgroup owns a TH x TW tile of output pixels (workgroup x), 32 output channels
// (workgroup y) and one image (workgroup z, so one pipeline serves every batch size). Its 256
// invocations copy the (TH+2) x (TW+2) input patch into workgroup memory; invocation i then takes the
// vec4 of channels i % 8 and the 2 x 4 pixel block i / 8: it reads its 4 x 6 input values from
// workgroup memory and one dy vec4 per pixel (the 8 channel lanes of a pixel read 128 contiguous
// bytes) into 9 vec4 accumulators, one per tap (pixel rows in a WGSL loop, the rest unrolled). At the
// end the accumulators go to workgroup memory 3 taps at a time (768 vec4) and 24 invocations each add
// the 32 pixel-block lanes of one tap and channel lane in order, writing the workgroup's partial sums:
// partials [N * tiles, 9 * Cout] in dw's order, which conv2d-grad.ts adds in row order (deterministic,
// no atomics). No barrier sits inside a loop: lavapipe took minutes to compile versions that looped
// over the images of a chunk or reduced by a tree looped over taps. Limits and fits-check: stemVariantFits (stem-tiled.ts).

import { wgsl } from './wgsl';
import type { Gpu, Tensor } from '../gpu';
import type { Conv2dGeometry } from './conv-geometry';
import { BH, BW, CHANNEL_LANES, INVOCATIONS, type StemTile, patchSize, stemWorkgroups } from './stem-tiled';

const BLOCKS = INVOCATIONS / CHANNEL_LANES; // pixel-block lanes per channel lane
const lines = (n: number, f: (i: number) => string): string => Array.from({ length: n }, (_, i) => f(i)).join('\n');

/** Partial sums [rows, 9 * Cout] of the stem's filter gradient with the tiled variant chosen (see tiledStemVariant). */
export function stemFilterGradPartials(gpu: Gpu, g: Conv2dGeometry, x: Tensor, dy: Tensor, v: { name: string; tile: StemTile }): Tensor {
  const op = 'stem.filter-grad';
  const t = v.tile;
  const [TH, TW] = [t.rows * BH, t.cols * BW];
  const [PH, PW] = patchSize(t);
  const C4 = g.Cout / 4;
  const groups = stemWorkgroups(g, t);
  const [tiles] = groups;
  const partials = gpu.empty([g.N * tiles, 9 * g.Cout], 'f32', `${op}.partials`);
  const loads = Math.ceil((PH * PW) / INVOCATIONS);
    const code = () => wgsl`
@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read> DY: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> P: array<vec4f>;
var<workgroup> inTile: array<f32, ${PH * PW}>;
var<workgroup> red: array<vec4f, ${3 * INVOCATIONS}>;

@compute @workgroup_size(${INVOCATIONS})
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3u) {
  let oh0 = i32(wid.x / ${Math.ceil(g.Wo / TW)}u) * ${TH};
  let ow0 = i32(wid.x % ${Math.ceil(g.Wo / TW)}u) * ${TW};
  let c4 = wid.y * ${CHANNEL_LANES}u + li % ${CHANNEL_LANES}u;
  let live = c4 < ${C4}u;
  let blk = li / ${CHANNEL_LANES}u;
  let r0 = (blk / ${t.cols}u) * ${BH}u;
  let q0 = (blk % ${t.cols}u) * ${BW}u;
  var a: array<vec4f, 9>;
  let n = wid.z;
${lines(loads, (k) => `  {
    let e = li + ${k * INVOCATIONS}u;
    if (e < ${PH * PW}u) {
      let ih = oh0 + i32(e / ${PW}u) - ${g.top};
      let iw = ow0 + i32(e % ${PW}u) - ${g.left};
      var v = 0.0;
      if (ih >= 0 && ih < ${g.H} && iw >= 0 && iw < ${g.W}) { v = X[(n * ${g.H}u + u32(ih)) * ${g.W}u + u32(iw)]; }
      inTile[e] = v;
    }
  }`)}
  workgroupBarrier();
  // One pixel row of the block at a time: its 3 input rows, then its 4 pixels' dy.
  for (var i = 0u; i < ${BH}u; i++) {
      let base = (r0 + i) * ${PW}u + q0;
${lines(3, (kh) => lines(BW + 2, (j) => `      let x${kh}_${j} = inTile[base + ${kh * PW + j}u];`))}
${lines(BW, (j) => `      let d${j} = loadDy(live, n, oh0 + i32(r0 + i), ow0 + i32(q0) + ${j}, c4);
${lines(9, (k) => `      a[${k}] = fma(vec4f(x${Math.floor(k / 3)}_${j + (k % 3)}), d${j}, a[${k}]);`)}`)}
  }
  // Sum the 32 pixel-block lanes of each channel lane, 3 taps at a time: 24 invocations each add one
  // (tap, channel lane)'s 32 values in order and write the workgroup's partial sums.
  let row = n * ${tiles}u + wid.x;
${lines(3, (grp) => `  workgroupBarrier();
${lines(3, (t) => `  red[${t * INVOCATIONS}u + li] = a[${3 * grp + t}];`)}
  workgroupBarrier();
  if (li < ${3 * CHANNEL_LANES}u) {
    let tap = li / ${CHANNEL_LANES}u;
    let lane = li % ${CHANNEL_LANES}u;
    var sum = vec4f(0.0);
    for (var b = 0u; b < ${BLOCKS}u; b++) { sum += red[tap * ${INVOCATIONS}u + b * ${CHANNEL_LANES}u + lane]; }
    let c = wid.y * ${CHANNEL_LANES}u + lane;
    if (c < ${C4}u) { P[row * ${(9 * g.Cout) / 4}u + (${3 * grp}u + tap) * ${C4}u + c] = sum; }
  }`)}
}

// dy [n, oh, ow, channels 4 c4 ..] (zero outside the conv output or past Cout).
fn loadDy(live: bool, n: u32, oh: i32, ow: i32, c4: u32) -> vec4f {
  if (!live || oh >= ${g.Ho} || ow >= ${g.Wo}) { return vec4f(0.0); }
  return DY[((n * ${g.Ho}u + u32(oh)) * ${g.Wo}u + u32(ow)) * ${C4}u + c4];
}`;
  gpu.dispatch({
    name: op,
    key: `${op}.${v.name}:${[g.H, g.W, g.Ho, g.Wo, g.Cout, g.top, g.left].join(':')}`,
    code,
    bindings: [x, dy, partials],
    workgroups: groups,
  });
  return partials;
}

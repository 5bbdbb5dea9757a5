// GPU-shaped variants of the model's stem conv forward (the first conv: one input channel, 3x3,
// stride 1, any zero padding; training runs it through conv2d(), whose default for Cin = 1 is the
// gather kernel of conv2d.ts, 'gather'), chosen per adapter and layer by the tuner (family
// 'stem.forward', src/tune/registry.ts) through the runtime's choice table (src/gpu/choices.ts).
// Layout: NHWC x [N, H, W, 1], filter [3, 3, 1, Cout] (Keras), bias [Cout], y [N, Ho, Wo, Cout].
// Tiling: a workgroup owns a TH x TW tile of output pixels of one image (workgroup z = the image) and
// 32 output channels (workgroup y = the channel block). Its 256 invocations first copy the
// (TH+2) x (TW+2) input patch under the tile (zeros outside the image) into workgroup memory, once.
// Then invocation i takes the vec4 of output channels i % 8 (its 9 vec4 weights held in registers,
// loaded once) and the 2 x 4 block of pixels (i / 8) of the tile (a register block of 8 vec4
// accumulators, its 4 x 6 input values read from workgroup memory, where the 8 channel lanes of a pixel
// block read the same addresses). Stores: the 8 lanes of a pixel write its 32 channels, 128 contiguous
// bytes. Variants: 'tile16x16' (8 x 4 pixel blocks) and 'tile8x32' (4 x 8).
// Shape key: the layer without the batch, "82x64x1->32 p1,1,1,1" (H x W x Cin -> Cout, padding top, bottom, left, right).
// The filter gradient's variants (family 'stem.filter-grad') share the tiles: stem-tiled-grad.ts.
// Fits-check (tiledStemVariant): Cin = 1, 3x3, stride 1, Cout % 4 == 0 (a ragged last channel block
// is masked), 256 invocations and the patch's workgroup memory within the device's limits, and the
// tiles, channel blocks and batch within maxComputeWorkgroupsPerDimension; elsewhere the default runs.
// The batch is the dispatch's z count, not in the WGSL: one pipeline serves every batch size.

import { wgsl } from './wgsl';
import type { Gpu, Tensor } from '../gpu';
import { chosenVariant } from '../gpu/choices';
import type { Conv2dGeometry } from './conv-geometry';

/** Tuner family of each pass of the stem conv the tiled kernels cover (its input gradient is never needed). */
export type StemPass = 'forward' | 'filter-grad';
export const STEM_FAMILY: Record<StemPass, string> = { forward: 'stem.forward', 'filter-grad': 'stem.filter-grad' };

/** Pixel-block grid of a workgroup: rows x columns of 2 x 4 pixel blocks (8 channel lanes each). */
export interface StemTile {
  rows: number;
  cols: number;
}

const TILES: Readonly<Record<string, StemTile>> = {
  tile16x16: { rows: 8, cols: 4 },
  tile8x32: { rows: 4, cols: 8 },
};

/** Every variant of each pass, the built-in default first (the gather kernel of conv2d.ts; the direct filter-gradient kernel of conv2d-grad.ts). */
export const STEM_VARIANTS: Record<StemPass, readonly string[]> = {
  forward: ['gather', ...Object.keys(TILES)],
  'filter-grad': ['direct', ...Object.keys(TILES)],
};

export const BH = 2; // pixel rows per invocation
export const BW = 4; // pixel columns per invocation
export const CHANNEL_LANES = 8; // vec4 channel groups per workgroup (32 channels)
export const INVOCATIONS = 256;

/** The tuning key of a stem conv: H x W x Cin -> Cout and the padding (no batch). */
export const stemShapeKey = (g: Conv2dGeometry): string => `${g.H}x${g.W}x${g.Cin}->${g.Cout} p${g.top},${g.bottom},${g.left},${g.right}`;

/** Whether the tiled kernels compute this conv at all (the layer's shape; device limits apart). */
export function stemTiledApplies(g: Conv2dGeometry): boolean {
  return g.Cin === 1 && g.KH === 3 && g.KW === 3 && g.strideH === 1 && g.strideW === 1 && g.Cout % 4 === 0 && g.Ho >= 1 && g.Wo >= 1;
}

export const patchSize = (t: StemTile): [number, number] => [t.rows * BH + 2, t.cols * BW + 2];

/** Workgroups (x: tiles, y: channel blocks, z: images) of tile t for g, both passes. */
export function stemWorkgroups(g: Conv2dGeometry, t: StemTile): [number, number, number] {
  const tiles = Math.ceil(g.Ho / (t.rows * BH)) * Math.ceil(g.Wo / (t.cols * BW));
  return [tiles, Math.ceil(g.Cout / (4 * CHANNEL_LANES)), g.N];
}

/** Whether the variant `name` can run this pass of g on a device with these limits. */
export function stemVariantFits(limits: Gpu['limits'], g: Conv2dGeometry, name: string, pass: StemPass = 'forward'): boolean {
  const t = TILES[name];
  if (!t || !stemTiledApplies(g)) return false;
  const [ph, pw] = patchSize(t);
  const shared = 4 * ph * pw + (pass === 'forward' ? 0 : 3 * 16 * INVOCATIONS); // the patch; the filter gradient's reduction (3 taps of vec4)
  return INVOCATIONS <= limits.maxComputeInvocationsPerWorkgroup && INVOCATIONS <= limits.maxComputeWorkgroupSizeX
    && shared <= limits.maxComputeWorkgroupStorageSize
    && stemWorkgroups(g, t).every((n) => n <= limits.maxComputeWorkgroupsPerDimension);
}

/** The tiled variant chosen for this pass of the stem conv where it fits the device, with its tile; null: run the default. */
export function tiledStemVariant(gpu: Gpu, g: Conv2dGeometry, pass: StemPass = 'forward'): { name: string; tile: StemTile } | null {
  const name = chosenVariant(gpu, STEM_FAMILY[pass], stemShapeKey(g));
  return name !== undefined && stemVariantFits(gpu.limits, g, name, pass) ? { name, tile: TILES[name]! } : null;
}

const lines = (n: number, f: (i: number) => string): string => Array.from({ length: n }, (_, i) => f(i)).join('\n');

/** y = act(conv2d(x, w) + bias) for the stem geometry g with the tiled variant chosen (see tiledStemVariant). */
export function stemForwardTiled(gpu: Gpu, g: Conv2dGeometry, x: Tensor, w: Tensor, bias: Tensor | undefined, relu: boolean, v: { name: string; tile: StemTile }): Tensor {
  const op = 'stem.forward';
  const [name, t] = [v.name, v.tile];
  const [TH, TW] = [t.rows * BH, t.cols * BW];
  const [PH, PW] = patchSize(t);
  const C4 = g.Cout / 4;
  const out = gpu.empty([g.N, g.Ho, g.Wo, g.Cout], 'f32', op);
  const hasBias = bias !== undefined;
  const loads = Math.ceil((PH * PW) / INVOCATIONS);
  const B = [...Array(BH * BW).keys()];
  const code = () => wgsl`
@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read> Wt: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> Y: array<vec4f>;
#if ${hasBias}
@group(0) @binding(3) var<storage, read> bias: array<vec4f>;
#endif
var<workgroup> inTile: array<f32, ${PH * PW}>;

@compute @workgroup_size(${INVOCATIONS})
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3u) {
  let n = wid.z;
  let oh0 = i32(wid.x / ${Math.ceil(g.Wo / TW)}u) * ${TH};
  let ow0 = i32(wid.x % ${Math.ceil(g.Wo / TW)}u) * ${TW};
  // The input patch under the tile: rows oh0 - top .. + TH + 1, columns ow0 - left .. + TW + 1.
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
  let c4 = wid.y * ${CHANNEL_LANES}u + li % ${CHANNEL_LANES}u;
  if (c4 >= ${C4}u) { return; }
  let blk = li / ${CHANNEL_LANES}u;
  let r0 = (blk / ${t.cols}u) * ${BH}u;
  let q0 = (blk % ${t.cols}u) * ${BW}u;
${lines(9, (k) => `  let w${k} = Wt[${k}u * ${C4}u + c4];`)}
  let b = ${hasBias ? 'bias[c4]' : 'vec4f(0.0)'};
${lines(BH + 2, (i) => lines(BW + 2, (j) => `  let x${i}_${j} = inTile[(r0 + ${i}u) * ${PW}u + q0 + ${j}u];`))}
${B.map((p) => {
    const [i, j] = [Math.floor(p / BW), p % BW];
    const taps = lines(9, (k) => `  a${p} = fma(vec4f(x${i + Math.floor(k / 3)}_${j + (k % 3)}), w${k}, a${p});`);
    return `  var a${p} = b;\n${taps}`;
  }).join('\n')}
${B.map((p) => {
    const [i, j] = [Math.floor(p / BW), p % BW];
    return `  store(n, oh0 + i32(r0) + ${i}, ow0 + i32(q0) + ${j}, c4, a${p});`;
  }).join('\n')}
}

fn store(n: u32, oh: i32, ow: i32, c4: u32, acc: vec4f) {
  if (oh >= ${g.Ho} || ow >= ${g.Wo}) { return; }
  Y[((n * ${g.Ho}u + u32(oh)) * ${g.Wo}u + u32(ow)) * ${C4}u + c4] = ${relu ? 'max(acc, vec4f(0.0))' : 'acc'};
}`;
  gpu.dispatch({
    name: op,
    key: `${op}.${name}:${[g.H, g.W, g.Ho, g.Wo, g.Cout, g.top, g.left].join(':')}:${hasBias}:${relu}`,
    code,
    bindings: hasBias ? [x, w, out, bias] : [x, w, out],
    workgroups: stemWorkgroups(g, t),
  });
  return out;
}

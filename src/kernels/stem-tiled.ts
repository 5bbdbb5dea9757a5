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
// Fits-check (tiledStemVariant): Cin = 1, 3x3, stride 1, Cout % 4 == 0 (a ragged last channel block
// is masked), 256 invocations and the patch's workgroup memory within the device's limits, and the
// tiles, channel blocks and batch within maxComputeWorkgroupsPerDimension; elsewhere the default runs.
// The batch is the dispatch's z count, not in the WGSL: one pipeline serves every batch size.

import { wgsl } from './wgsl';
import type { Gpu, Tensor } from '../gpu';
import { chosenVariant } from '../gpu/choices';
import type { Conv2dGeometry } from './conv-geometry';
import { isStemConv } from './stem-conv';

/** Tuner family of the stem conv's forward. */
export const STEM_FORWARD_FAMILY = 'stem.forward';

/** Pixel-block grid of a workgroup: rows x columns of 2 x 4 pixel blocks (8 channel lanes each). */
interface StemTile {
  rows: number;
  cols: number;
}

const TILES: Readonly<Record<string, StemTile>> = {
  tile16x16: { rows: 8, cols: 4 },
  tile8x32: { rows: 4, cols: 8 },
};

/** Every variant of the stem forward, the built-in default (the gather kernel of conv2d.ts) first. */
export const STEM_FORWARD_VARIANTS: readonly string[] = ['gather', ...Object.keys(TILES)];

const BH = 2; // pixel rows per invocation
const BW = 4; // pixel columns per invocation
const CHANNEL_LANES = 8; // vec4 channel groups per workgroup (32 channels)
const INVOCATIONS = 256;

/** The tuning key of a stem conv: H x W x Cin -> Cout and the padding (no batch). */
export const stemShapeKey = (g: Conv2dGeometry): string => `${g.H}x${g.W}x${g.Cin}->${g.Cout} p${g.top},${g.bottom},${g.left},${g.right}`;

/** Whether the tiled kernels compute this conv at all (the layer's shape; device limits apart). */
export function stemTiledApplies(g: Conv2dGeometry): boolean {
  return isStemConv(g) && g.Ho >= 1 && g.Wo >= 1;
}

const patchSize = (t: StemTile): [number, number] => [t.rows * BH + 2, t.cols * BW + 2];

/** Workgroups (x: tiles, y: channel blocks, z: images) of the variant `name` for g. */
function workgroups(g: Conv2dGeometry, t: StemTile): [number, number, number] {
  return [Math.ceil(g.Ho / (t.rows * BH)) * Math.ceil(g.Wo / (t.cols * BW)), Math.ceil(g.Cout / (4 * CHANNEL_LANES)), g.N];
}

/** Whether the variant `name` can run g on a device with these limits. */
export function stemVariantFits(limits: Gpu['limits'], g: Conv2dGeometry, name: string): boolean {
  const t = TILES[name];
  if (!t || !stemTiledApplies(g)) return false;
  const [ph, pw] = patchSize(t);
  return INVOCATIONS <= limits.maxComputeInvocationsPerWorkgroup && INVOCATIONS <= limits.maxComputeWorkgroupSizeX
    && 4 * ph * pw <= limits.maxComputeWorkgroupStorageSize
    && workgroups(g, t).every((n) => n <= limits.maxComputeWorkgroupsPerDimension);
}

/** The tiled variant chosen for this stem conv where it fits the device; null: run the default. */
export function tiledStemVariant(gpu: Gpu, g: Conv2dGeometry): string | null {
  const name = chosenVariant(gpu, STEM_FORWARD_FAMILY, stemShapeKey(g));
  return name !== undefined && stemVariantFits(gpu.limits, g, name) ? name : null;
}

const lines = (n: number, f: (i: number) => string): string => Array.from({ length: n }, (_, i) => f(i)).join('\n');

/** y = act(conv2d(x, w) + bias) for the stem geometry g with the tiled variant `name` (see tiledStemVariant). */
export function stemForwardTiled(gpu: Gpu, g: Conv2dGeometry, x: Tensor, w: Tensor, bias: Tensor | undefined, relu: boolean, name: string): Tensor {
  const op = 'stem.forward';
  const t = TILES[name]!;
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
    workgroups: workgroups(g, t),
  });
  return out;
}

// The model's stem at inference: y = maxpool2x2(relu(conv3x3(x, w) + bias)) for a single input channel,
// in one pass (the full-resolution conv output is never written). With Cin = 1 the conv has only
// 9 multiplies per output and channel, so the direct kernel of conv2d.ts (built for a long reduction)
// and the separate pool pass cost more than the arithmetic.
// Layout: NHWC x [N, H, W, 1], filter [3, 3, 1, C] (Keras), bias [C], y [N, floor(Ho/2), floor(Wo/2), C]
// (pool stride 2, floor, as maxPool2x2). Tiling: one invocation per pooled pixel, 64 per workgroup over
// consecutive pooled pixels: it loads the 4x4 input patch under its 2x2 pool window once into registers,
// then walks the output channels a vec4 at a time (weights and bias workgroup-uniform), 4 accumulators,
// one per conv output of the window. The channel walk is unrolled in TypeScript: lavapipe loads a
// workgroup-uniform value once only outside loops and branches (inside one it gathers per lane), and
// the unrolled kernel measured 2.5x faster than the same code in a WGSL loop (bench/RESULTS.md).
// Limits (stemConvFits; callers fall back to conv2d + maxPool2x2): Cin = 1, 3x3, stride 1, any zero
// padding, C % 4 == 0, conv output at least 2x2; grid folded onto z past 65535 workgroups. The pooled
// pixel count (N * PH * PW) comes from a uniform (shape-params.ts): one pipeline for every batch size.
// Max pool uses WGSL max(), so a NaN is not propagated as maxPool2x2 does (inference only).

import { wgsl } from './wgsl';
import { ShapeError, type Gpu, type Tensor } from '../gpu';
import { type Conv2dGeometry } from './conv-geometry';
import { foldGrid } from './grid';
import { shapeDecl, shapeParams } from './shape-params';

const WG = 64;

/** The stem's conv: one input channel, 3x3, stride 1, Cout % 4 == 0 (what the stem kernels here and in stem-tiled.ts compute). */
export function isStemConv(g: Conv2dGeometry): boolean {
  return g.Cin === 1 && g.KH === 3 && g.KW === 3 && g.strideH === 1 && g.strideW === 1 && g.Cout % 4 === 0;
}

export function stemConvFits(g: Conv2dGeometry): boolean {
  return isStemConv(g) && g.Ho >= 2 && g.Wo >= 2;
}

/** y = maxpool2x2(relu(conv2d(x, w) + bias)) for the geometry g (see stemConvFits). */
export function stemConvPool(gpu: Gpu, g: Conv2dGeometry, x: Tensor, w: Tensor, bias: Tensor): Tensor {
  const op = 'stemConvPool';
  if (!stemConvFits(g)) throw new ShapeError(`${op}: needs a 3x3 stride-1 filter on 1 input channel with Cout % 4 == 0 and an output of at least 2x2`);
  const PH = Math.floor(g.Ho / 2);
  const PW = Math.floor(g.Wo / 2);
  const C4 = g.Cout / 4;
  const P = g.N * PH * PW;
  const out = gpu.empty([g.N, PH, PW, g.Cout], 'f32', op);
  const [gx, gz] = foldGrid(Math.ceil(P / WG));
  const R = [0, 1, 2, 3];
  const K = [0, 1, 2];
  gpu.dispatch({
    name: op,
    key: `${op}:${[g.N, g.H, g.W, g.Cout, g.top, g.left].join(':')}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read> Wt: array<vec4f>;
@group(0) @binding(2) var<storage, read> bias: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> Y: array<vec4f>;
${shapeDecl(['pixels'], 4)}
fn load(n: u32, h: i32, w: i32) -> f32 {
  if (h < 0 || h >= ${g.H} || w < 0 || w >= ${g.W}) { return 0.0; }
  return X[(n * ${g.H}u + u32(h)) * ${g.W}u + u32(w)];
}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let p = gid.x + gid.z * groups.x * ${WG}u;
  if (p >= shape.pixels) { return; }
  let n = p / ${PH * PW}u;
  let r = p % ${PH * PW}u;
  let h0 = i32(r / ${PW}u) * 2 - ${g.top};
  let w0 = i32(r % ${PW}u) * 2 - ${g.left};
${R.flatMap((i) => R.map((j) => `  let x_${i}_${j} = load(n, h0 + ${i}, w0 + ${j});`)).join('\n')}
  let o = p * ${C4}u;
${[...Array(C4).keys()].map((c4) => `  {
    let b = bias[${c4}u];
    var a00 = b; var a01 = b; var a10 = b; var a11 = b;
${K.flatMap((kh) => K.map((kw) => `    let w_${kh}_${kw} = Wt[${(kh * 3 + kw) * C4 + c4}u];
    a00 = fma(vec4f(x_${kh}_${kw}), w_${kh}_${kw}, a00); a01 = fma(vec4f(x_${kh}_${kw + 1}), w_${kh}_${kw}, a01);
    a10 = fma(vec4f(x_${kh + 1}_${kw}), w_${kh}_${kw}, a10); a11 = fma(vec4f(x_${kh + 1}_${kw + 1}), w_${kh}_${kw}, a11);`)).join('\n')}
    Y[o + ${c4}u] = max(max(max(a00, a01), max(a10, a11)), vec4f(0.0));
  }`).join('\n')}
}`,
    bindings: [x, w, bias, out, shapeParams(gpu, [P])],
    workgroups: [gx, 1, gz],
  });
  return out;
}

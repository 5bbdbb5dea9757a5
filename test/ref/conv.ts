// Reference 2-D convolution (cross-correlation, as Keras Conv2D) in float64, forward and backward.
// x: NHWC [N, H, W, Cin]; w: [kh, kw, Cin, Cout] (Keras layout); b: [Cout]; y: [N, OH, OW, Cout].
// Zero padding given per side; OH = floor((H + top + bottom - kh) / sh) + 1, likewise OW. No dilation
// or groups: the model does not use them.

import { type Tensor, tensor } from './tensor';

export interface Padding {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

export interface Conv2dOptions {
  stride?: [number, number];
  /** 'same' and 'valid' as in Keras; or explicit zero padding per side. */
  padding?: Padding | 'same' | 'valid';
}

const CONV_DEFAULTS = { stride: [1, 1] as [number, number], padding: 'same' as const };

/**
 * Keras/TensorFlow padding='same': output ceil(in / stride); the total padding is split with the odd
 * pixel at the bottom/right (so a 3x3 stride-2 conv on an even size pads 0 on top, 1 at the bottom).
 */
export function samePadding(inH: number, inW: number, kh: number, kw: number, sh: number, sw: number): Padding {
  const total = (inSize: number, k: number, s: number) => Math.max((Math.ceil(inSize / s) - 1) * s + k - inSize, 0);
  const th = total(inH, kh, sh);
  const tw = total(inW, kw, sw);
  return { top: Math.floor(th / 2), bottom: th - Math.floor(th / 2), left: Math.floor(tw / 2), right: tw - Math.floor(tw / 2) };
}

export interface ConvGeometry {
  N: number; H: number; W: number; C: number;
  kh: number; kw: number; cout: number;
  sh: number; sw: number;
  pad: Padding;
  OH: number; OW: number;
}

export function convGeometry(xShape: number[], wShape: number[], options: Conv2dOptions = {}): ConvGeometry {
  const [N, H, W, C] = xShape as [number, number, number, number];
  const [kh, kw, cin, cout] = wShape as [number, number, number, number];
  if (xShape.length !== 4 || wShape.length !== 4 || cin !== C) {
    throw new Error(`conv2d: x [${xShape}] (NHWC) and w [${wShape}] ([kh, kw, cin, cout]) do not fit`);
  }
  const [sh, sw] = options.stride ?? CONV_DEFAULTS.stride;
  const padOpt = options.padding ?? CONV_DEFAULTS.padding;
  const pad = padOpt === 'same' ? samePadding(H, W, kh, kw, sh, sw)
    : padOpt === 'valid' ? { top: 0, bottom: 0, left: 0, right: 0 } : padOpt;
  const OH = Math.floor((H + pad.top + pad.bottom - kh) / sh) + 1;
  const OW = Math.floor((W + pad.left + pad.right - kw) / sw) + 1;
  if (OH < 1 || OW < 1) throw new Error(`conv2d: empty output ${OH}x${OW} for x [${xShape}], w [${wShape}]`);
  return { N, H, W, C, kh, kw, cout, sh, sw, pad, OH, OW };
}

/** Calls visit(xIndex, wIndex, yIndex) for every multiply of the convolution that hits a real pixel. */
function forEachTap(g: ConvGeometry, visit: (xi: number, wi: number, yi: number) => void): void {
  const { N, H, W, C, kh, kw, cout, sh, sw, pad, OH, OW } = g;
  for (let n = 0; n < N; n++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    const yBase = ((n * OH + oh) * OW + ow) * cout;
    for (let i = 0; i < kh; i++) {
      const ih = oh * sh + i - pad.top;
      if (ih < 0 || ih >= H) continue;
      for (let j = 0; j < kw; j++) {
        const iw = ow * sw + j - pad.left;
        if (iw < 0 || iw >= W) continue;
        const xBase = ((n * H + ih) * W + iw) * C;
        for (let c = 0; c < C; c++) {
          const wBase = ((i * kw + j) * C + c) * cout;
          for (let o = 0; o < cout; o++) visit(xBase + c, wBase + o, yBase + o);
        }
      }
    }
  }
}

export function conv2dForward(x: Tensor, w: Tensor, b: Tensor | null, options: Conv2dOptions = {}): Tensor {
  const g = convGeometry(x.shape, w.shape, options);
  const y = tensor([g.N, g.OH, g.OW, g.cout]);
  if (b) for (let p = 0; p < y.data.length; p++) y.data[p] = b.data[p % g.cout]!;
  const xd = x.data, wd = w.data, yd = y.data;
  forEachTap(g, (xi, wi, yi) => { yd[yi] += xd[xi]! * wd[wi]!; });
  return y;
}

export interface Conv2dGrads {
  dx: Tensor;
  dw: Tensor;
  db: Tensor;
}

export function conv2dBackward(dy: Tensor, x: Tensor, w: Tensor, options: Conv2dOptions = {}): Conv2dGrads {
  const g = convGeometry(x.shape, w.shape, options);
  if (dy.shape.join() !== [g.N, g.OH, g.OW, g.cout].join()) {
    throw new Error(`conv2dBackward: dy [${dy.shape}] but output is [${[g.N, g.OH, g.OW, g.cout]}]`);
  }
  const dx = tensor(x.shape);
  const dw = tensor(w.shape);
  const db = tensor([g.cout]);
  const xd = x.data, wd = w.data, dyd = dy.data, dxd = dx.data, dwd = dw.data;
  forEachTap(g, (xi, wi, yi) => {
    dxd[xi] += dyd[yi]! * wd[wi]!;
    dwd[wi] += dyd[yi]! * xd[xi]!;
  });
  for (let p = 0; p < dyd.length; p++) db.data[p % g.cout] += dyd[p]!;
  return { dx, dw, db };
}

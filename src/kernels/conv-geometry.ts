// Geometry of a 2-D convolution, shared by every conv kernel (direct, Winograd, 1x1, stem, gradients):
// the options a caller gives (stride, padding, algorithm), and the resolved sizes and zero padding a
// kernel bakes in. Padding 'same' follows Keras (total max((ceil(H/s)-1)*s + KH - H, 0), smaller half
// on top/left). Layout: NHWC inputs [N,H,W,Cin], filters [KH,KW,Cin,Cout]. No GPU work here.

import { ShapeError, fmtShape } from '../gpu';
import type { WinogradTile } from './winograd-matrices';

export type Conv2dPadding = 'same' | 'valid' | { top: number; bottom: number; left: number; right: number };

export interface Conv2dGeometryOptions {
  stride?: [number, number];
  padding?: Conv2dPadding;
  /**
   * 'auto' (default): Winograd F(m x m,3x3) where it applies (3x3, stride 1, channels multiples of 4, see
   * winograd.ts), else the direct gather kernel; 'direct' always the gather kernel; 'winograd' insists.
   */
  algorithm?: Conv2dAlgorithm;
  /** Output tile of Winograd F(m x m, 3x3): 4 (default) or 2. */
  winogradTile?: WinogradTile;
}

export type Conv2dAlgorithm = 'auto' | 'direct' | 'winograd';

/** Everything a conv kernel bakes in: sizes, stride and the resolved zero padding. */
export interface Conv2dGeometry {
  N: number; H: number; W: number; Cin: number;
  KH: number; KW: number; Cout: number;
  strideH: number; strideW: number;
  top: number; bottom: number; left: number; right: number;
  Ho: number; Wo: number;
}

const DEFAULT_STRIDE: [number, number] = [1, 1];
const DEFAULT_PADDING: Conv2dPadding = 'valid';

function samePads(size: number, k: number, s: number): [number, number] {
  const total = Math.max((Math.ceil(size / s) - 1) * s + k - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Resolve and validate the geometry of a conv of an input [N,H,W,Cin] with a filter [KH,KW,Cin,Cout]. */
export function conv2dGeometry(op: string, xShape: readonly number[], wShape: readonly number[], opts: Conv2dGeometryOptions): Conv2dGeometry {
  if (xShape.length !== 4) throw new ShapeError(`${op}: input ${fmtShape(xShape)} must be NHWC (rank 4)`);
  if (wShape.length !== 4) throw new ShapeError(`${op}: filter ${fmtShape(wShape)} must be [KH, KW, Cin, Cout] (rank 4)`);
  const [N, H, W, Cin] = xShape as [number, number, number, number];
  const [KH, KW, wCin, Cout] = wShape as [number, number, number, number];
  if (wCin !== Cin) throw new ShapeError(`${op}: input ${fmtShape(xShape)} has ${Cin} channels, filter ${fmtShape(wShape)} expects ${wCin}`);
  const [strideH, strideW] = opts.stride ?? DEFAULT_STRIDE;
  if (![strideH, strideW].every((s) => Number.isInteger(s) && s >= 1)) {
    throw new ShapeError(`${op}: stride ${JSON.stringify(opts.stride)} must be two positive integers`);
  }
  const padding = opts.padding ?? DEFAULT_PADDING;
  let pads: [number, number, number, number];
  if (padding === 'valid') pads = [0, 0, 0, 0];
  else if (padding === 'same') pads = [...samePads(H, KH, strideH), ...samePads(W, KW, strideW)];
  else if (typeof padding === 'object' && padding !== null) pads = [padding.top, padding.bottom, padding.left, padding.right];
  else throw new ShapeError(`${op}: padding ${JSON.stringify(padding)} must be 'same', 'valid' or {top, bottom, left, right}`);
  if (!pads.every((p) => Number.isInteger(p) && p >= 0)) throw new ShapeError(`${op}: padding ${JSON.stringify(padding)} must be non-negative integers`);
  const [top, bottom, left, right] = pads;
  if (H + top + bottom < KH || W + left + right < KW) {
    throw new ShapeError(`${op}: filter ${KH}x${KW} is larger than the padded input ${H + top + bottom}x${W + left + right} (input ${fmtShape(xShape)})`);
  }
  const Ho = Math.floor((H + top + bottom - KH) / strideH) + 1;
  const Wo = Math.floor((W + left + right - KW) / strideW) + 1;
  return { N, H, W, Cin, KH, KW, Cout, strideH, strideW, top, bottom, left, right, Ho, Wo };
}

export const geometryKey = (g: Conv2dGeometry): string =>
  [g.N, g.H, g.W, g.Cin, g.KH, g.KW, g.Cout, g.strideH, g.strideW, g.top, g.left].join(':');
/** geometryKey without the batch size: for kernels that read N (or N-derived counts) at run time. */
export const spatialKey = (g: Conv2dGeometry): string => geometryKey(g).slice(String(g.N).length + 1);

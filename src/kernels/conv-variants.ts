// Tunable variants of the conv2d passes (src/tune/ measures them per adapter; src/gpu/choices.ts holds
// the choice). A 3x3 conv's forward, input gradient and filter gradient can each run as Winograd
// F(4x4,3x3), Winograd F(2x2,3x3) or the direct gather kernel, all three covered by
// test/kernels/conv2d.test.ts and winograd.test.ts. A call that names its algorithm or tile keeps it;
// under 'auto' the tuned choice for the conv's shape (batch left out) replaces the built-in default.
// Unknown names (an old or edited cache) are ignored: only the variants listed here can be chosen.

import { chosenVariant } from '../gpu/choices';
import type { Gpu } from '../gpu';
import type { Conv2dGeometry, Conv2dGeometryOptions } from './conv-geometry';

export type ConvPass = 'forward' | 'input-grad' | 'filter-grad';

/** Kernel family of each pass, as the tuner and its cache name it. */
export const CONV_FAMILY: Record<ConvPass, string> = {
  forward: 'conv2d.forward',
  'input-grad': 'conv2d.input-grad',
  'filter-grad': 'conv2d.filter-grad',
};

/** Every variant of a conv pass, the built-in default first, with the options that select it. */
export const CONV_VARIANTS: Readonly<Record<string, Pick<Conv2dGeometryOptions, 'algorithm' | 'winogradTile'>>> = {
  winograd4: { algorithm: 'auto', winogradTile: 4 },
  winograd2: { algorithm: 'auto', winogradTile: 2 },
  direct: { algorithm: 'direct' },
};
export const DEFAULT_CONV_VARIANT = 'winograd4';

/** The shape part of the tuning key: everything but the batch (e.g. "41x32x32->64 k3x3 s1x1 p1,1"). */
export function convShapeKey(g: Conv2dGeometry): string {
  return `${g.H}x${g.W}x${g.Cin}->${g.Cout} k${g.KH}x${g.KW} s${g.strideH}x${g.strideW} p${g.top},${g.left}`;
}

/** `opts` with the tuned algorithm and tile where the caller left both to 'auto'. */
export function tunedConvOptions<T extends Conv2dGeometryOptions>(gpu: Gpu, pass: ConvPass, g: Conv2dGeometry, opts: T): T {
  if ((opts.algorithm ?? 'auto') !== 'auto' || opts.winogradTile !== undefined) return opts;
  const name = chosenVariant(gpu, CONV_FAMILY[pass], convShapeKey(g));
  const variant = name === undefined ? undefined : CONV_VARIANTS[name];
  return variant ? { ...opts, ...variant } : opts;
}

// Argument checks shared by the kernel launchers: every failure names the op and the shapes, before any
// GPU work is recorded.

import { ShapeError, fmtShape, type DType, type Tensor } from '../gpu';

export function expectDtype(op: string, t: Tensor, ...dtypes: DType[]): void {
  if (!dtypes.includes(t.dtype)) {
    throw new ShapeError(`${op}: '${t.label}' is ${t.dtype}${fmtShape(t.shape)}, expected ${dtypes.join(' or ')}`);
  }
}

export function expectRank(op: string, t: Tensor, rank: number): void {
  if (t.shape.length !== rank) {
    throw new ShapeError(`${op}: '${t.label}' has shape ${fmtShape(t.shape)}, expected rank ${rank}`);
  }
}

export function expectSameShape(op: string, a: Tensor, b: Tensor): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new ShapeError(`${op}: shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} differ`);
  }
}

export function expectFinite(op: string, name: string, v: number): void {
  if (!Number.isFinite(v)) throw new ShapeError(`${op}: ${name} must be a finite number, got ${v}`);
}

/** WGSL literal of a float that always carries a decimal point or exponent. */
export function f32Lit(v: number): string {
  if (!Number.isFinite(v)) throw new ShapeError(`cannot bake ${v} into a kernel`);
  const s = Math.fround(v).toString();
  return /[.eE]/.test(s) ? `${s}f` : `${s}.0f`;
}

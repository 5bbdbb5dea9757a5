// The tuner's correctness gate: before a candidate variant is timed, its outputs on this adapter are
// compared with the built-in default's on the same inputs (the default is the variant every kernel test
// covers, and the one that runs when tuning is off). A candidate is rejected — recorded with the reason,
// never timed, never chosen — when an output has non-finite values (the check run's outputs start as
// NaN, so an element left unwritten shows) or its relative L2 error against the default's exceeds
// GATE_TOLERANCE. Variants differ only by float32 rounding (Winograd F(4,3) vs F(2,3) vs direct, summation
// order: 3e-7..1.2e-5 on lavapipe at the model's conv shapes, batch 32; 0 for the matmuls, the on/off
// switches), so 1e-3 leaves a margin of ~100x, and a wrong kernel (driver bug, wrong subgroup or
// workgroup-memory assumption, unwritten tiles) is far above it. Pure functions. Browser-safe.

/** Largest relative L2 error against the default's outputs a candidate may have. */
export const GATE_TOLERANCE = 1e-3;

/** ||a - b|| / ||b|| in float64 (||a|| when b is all zeros). */
export function relativeL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

function nonFinite(xs: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < xs.length; i++) if (!Number.isFinite(xs[i]!)) n++;
  return n;
}

export type GateVerdict = { ok: true; relL2: number } | { ok: false; reason: string; relL2?: number };

/** Why a run's outputs are unusable as the reference (non-finite values), or null when they are fine. */
export function referenceProblem(outputs: readonly ArrayLike<number>[]): string | null {
  for (const [i, o] of outputs.entries()) {
    const bad = nonFinite(o);
    if (bad > 0) return `output ${i}: ${bad} of ${o.length} values not finite`;
  }
  return null;
}

/** Compare a candidate's outputs with the default's (same order, same sizes): the largest relative L2 error, or why it is rejected. */
export function checkOutputs(candidate: readonly ArrayLike<number>[], reference: readonly ArrayLike<number>[], tol = GATE_TOLERANCE): GateVerdict {
  if (candidate.length !== reference.length) return { ok: false, reason: `${candidate.length} outputs, the default has ${reference.length}` };
  let worst = 0;
  for (const [i, ref] of reference.entries()) {
    const out = candidate[i]!;
    if (out.length !== ref.length) return { ok: false, reason: `output ${i}: ${out.length} values, the default has ${ref.length}` };
    const bad = nonFinite(out);
    if (bad > 0) return { ok: false, reason: `output ${i}: ${bad} of ${out.length} values not finite (unwritten or overflowed)` };
    worst = Math.max(worst, relativeL2(out, ref));
  }
  if (worst > tol) return { ok: false, reason: `rel L2 ${fmtErr(worst)} vs default (tolerance ${tol})`, relL2: worst };
  return { ok: true, relL2: worst };
}

export const fmtErr = (x: number): string => (x === 0 ? '0' : x.toExponential(1));

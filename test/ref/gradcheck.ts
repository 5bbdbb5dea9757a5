// Central finite differences of a scalar function of several Float64Array inputs, compared with analytic
// gradients. A coordinate passes when |analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|);
// the absolute floor lets exactly-zero gradients (e.g. a conv bias feeding batch norm) pass while the
// relative part keeps large ones honest. Big inputs are checked on a seeded random subset of coordinates.

import { mulberry32 } from './tensor';

export interface GradCheckOptions {
  /** Finite-difference step. */
  h?: number;
  rtol?: number;
  atol?: number;
  /** Coordinates checked per input at most; the rest are skipped (seeded sample). */
  maxCoordsPerInput?: number;
  seed?: number;
}

export const GRADCHECK_DEFAULTS = { h: 1e-5, rtol: 1e-5, atol: 1e-8, maxCoordsPerInput: 64, seed: 1 };

export interface GradCheckFailure {
  input: number;
  index: number;
  analytic: number;
  numeric: number;
}

export interface GradCheckReport {
  checked: number;
  /** max over checked coordinates of |a - n| / (atol + rtol * max(|a|, |n|)); <= 1 means all pass. */
  worstRatio: number;
  failures: GradCheckFailure[];
}

function sampleIndices(n: number, k: number, rand: () => number): number[] {
  if (n <= k) return Array.from({ length: n }, (_, i) => i);
  const all = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rand() * (n - i));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, k);
}

/** Perturbs inputs in place one coordinate at a time and restores them. */
export function gradCheck(
  f: (inputs: Float64Array[]) => number, inputs: Float64Array[], analytic: readonly Float64Array[], options: GradCheckOptions = {},
): GradCheckReport {
  const { h, rtol, atol, maxCoordsPerInput, seed } = { ...GRADCHECK_DEFAULTS, ...options };
  if (analytic.length !== inputs.length) throw new Error(`gradCheck: ${inputs.length} inputs, ${analytic.length} gradients`);
  const rand = mulberry32(seed);
  const report: GradCheckReport = { checked: 0, worstRatio: 0, failures: [] };
  inputs.forEach((x, k) => {
    if (analytic[k]!.length !== x.length) throw new Error(`gradCheck: input ${k} has ${x.length} values, gradient ${analytic[k]!.length}`);
    for (const i of sampleIndices(x.length, maxCoordsPerInput, rand)) {
      const saved = x[i]!;
      x[i] = saved + h;
      const plus = f(inputs);
      x[i] = saved - h;
      const minus = f(inputs);
      x[i] = saved;
      const numeric = (plus - minus) / (2 * h);
      const a = analytic[k]![i]!;
      const ratio = Math.abs(a - numeric) / (atol + rtol * Math.max(Math.abs(a), Math.abs(numeric)));
      report.checked++;
      report.worstRatio = Math.max(report.worstRatio, Number.isNaN(ratio) ? Infinity : ratio);
      if (!(ratio <= 1)) report.failures.push({ input: k, index: i, analytic: a, numeric });
    }
  });
  return report;
}

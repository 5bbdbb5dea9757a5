// The tuner's decision from measured times: the fastest candidate by median, but the built-in default
// stays unless another candidate beats it by more than a margin, so noise on a shared or throttling
// machine does not flip choices between runs. Pure functions (tested with fake timings).

/** A candidate is chosen over the default only when its median is this fraction faster. */
export const DEFAULT_MARGIN = 0.05;

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * The variant to use given each candidate's median time (ms; NaN or missing = not measured or failed).
 * The default wins ties and near-ties (within `margin`); unmeasured candidates are never chosen.
 */
export function chooseVariant(medians: Readonly<Record<string, number>>, defaultVariant: string, margin = DEFAULT_MARGIN): string {
  let best: string | null = null;
  for (const [name, t] of Object.entries(medians)) {
    if (!Number.isFinite(t)) continue;
    if (best === null || t < medians[best]!) best = name;
  }
  const base = medians[defaultVariant];
  if (best === null) return defaultVariant;
  if (base === undefined || !Number.isFinite(base)) return best;
  return medians[best]! < base * (1 - margin) ? best : defaultVariant;
}

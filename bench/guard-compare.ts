// The regression guard's arithmetic, kept free of GPU and file access so it can be tested alone.
// Each guarded case's time is divided by the reference kernel's time measured in the same run
// (absolute times never enter), and each ratio is compared with the one stored in the baseline: a
// case whose ratio grew by the threshold factor or more is a regression. The threshold sits below 2
// so that a kernel that became 2x slower is caught despite run-to-run noise (bench/README.md gives
// the noise measured); a ratio that shrank by the same factor is reported as an improvement, a hint
// to rewrite the baseline.

export interface GuardRow {
  key: string;
  ratio: number;
  baseline?: number;
  /** ratio / baseline */
  factor?: number;
  status: 'ok' | 'slower' | 'faster' | 'new';
}

export interface GuardReport {
  rows: GuardRow[];
  regressions: GuardRow[];
  /** Baseline keys that were not measured in this run (filtered out, or their data missing). */
  missing: string[];
}

/** Times divided by the reference's time; the reference itself is left out. */
export function ratiosTo(times: Record<string, number>, reference: string): Record<string, number> {
  const ref = times[reference];
  if (!(ref! > 0)) throw new Error(`guard: the reference case ${reference} was not measured (or took no time)`);
  return Object.fromEntries(Object.entries(times).filter(([k]) => k !== reference).map(([k, t]) => [k, t / ref!]));
}

export function compareRatios(current: Record<string, number>, baseline: Record<string, number>, threshold: number): GuardReport {
  if (!(threshold > 1)) throw new Error(`guard: threshold must be above 1, got ${threshold}`);
  const rows: GuardRow[] = Object.entries(current).map(([key, ratio]) => {
    const b = baseline[key];
    if (b === undefined || !(b > 0)) return { key, ratio, status: 'new' };
    const factor = ratio / b;
    const status = factor >= threshold ? 'slower' : factor <= 1 / threshold ? 'faster' : 'ok';
    return { key, ratio, baseline: b, factor, status };
  });
  return {
    rows,
    regressions: rows.filter((r) => r.status === 'slower'),
    missing: Object.keys(baseline).filter((k) => !(k in current)),
  };
}

export function guardTable(report: GuardReport, reference: string): string {
  const fmt = (v: number | undefined) => (v === undefined ? '' : v.toPrecision(3));
  return [
    `| case | time / ${reference} | baseline | factor | status |`,
    '|---|---|---|---|---|',
    ...report.rows.map((r) => `| ${r.key} | ${fmt(r.ratio)} | ${fmt(r.baseline)} | ${fmt(r.factor)} | ${r.status === 'slower' ? '**SLOWER**' : r.status} |`),
  ].join('\n');
}

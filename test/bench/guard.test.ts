// The regression guard's comparison (bench/guard-compare.ts): pure arithmetic on ratios, no GPU and
// no timing. A kernel whose time relative to the reference doubled must be flagged; noise-sized
// changes must not; the reference's own time must cancel out.

import { describe, expect, it } from 'vitest';
import { compareRatios, guardTable, ratiosTo } from '../../bench/guard-compare';

const REF = 'matmul/512x512x512';

describe('regression guard comparison', () => {
  const baselineTimes = { [REF]: 50, 'conv2d/a fwd': 500, 'pool/b': 10, 'optim/adam': 7 };
  const baseline = ratiosTo(baselineTimes, REF);

  it('divides by the reference and leaves it out', () => {
    expect(baseline).toEqual({ 'conv2d/a fwd': 10, 'pool/b': 0.2, 'optim/adam': 0.14 });
  });

  it('flags the kernel that became 2x slower, and only it', () => {
    // A machine 3x slower overall (every time x3), with one kernel 2x slower on top, and noise.
    const now = ratiosTo({ [REF]: 150, 'conv2d/a fwd': 1500 * 1.1, 'pool/b': 30 * 2, 'optim/adam': 21 * 0.9 }, REF);
    const r = compareRatios(now, baseline, 1.6);
    expect(r.regressions.map((x) => x.key)).toEqual(['pool/b']);
    expect(r.regressions[0]!.factor).toBeCloseTo(2, 10);
    expect(r.rows.find((x) => x.key === 'conv2d/a fwd')!.status).toBe('ok');
    expect(r.rows.find((x) => x.key === 'optim/adam')!.status).toBe('ok');
    expect(guardTable(r, REF)).toMatch(/\| pool\/b \|.*\*\*SLOWER\*\*/);
  });

  it('passes when every ratio is within the threshold, whatever the absolute times', () => {
    const now = ratiosTo({ [REF]: 5, 'conv2d/a fwd': 50 * 1.5, 'pool/b': 1 / 1.5, 'optim/adam': 0.7 }, REF);
    expect(compareRatios(now, baseline, 1.6).regressions).toEqual([]);
  });

  it('reports improvements, new cases and cases missing from the run', () => {
    const now = { 'conv2d/a fwd': 4, 'pool/b': 0.2, 'new/case': 1 };
    const r = compareRatios(now, baseline, 2);
    expect(r.rows.find((x) => x.key === 'conv2d/a fwd')!.status).toBe('faster');
    expect(r.rows.find((x) => x.key === 'new/case')!.status).toBe('new');
    expect(r.missing).toEqual(['optim/adam']);
    expect(r.regressions).toEqual([]);
  });

  it('applies the threshold as given: 2x exactly fails at 2, passes at 2.5', () => {
    const now = { 'pool/b': 0.4 };
    expect(compareRatios(now, baseline, 2).regressions).toHaveLength(1);
    expect(compareRatios(now, baseline, 2.5).regressions).toHaveLength(0);
  });

  it('refuses a missing reference and a threshold that is not above 1', () => {
    expect(() => ratiosTo({ 'pool/b': 1 }, REF)).toThrow(/reference case/);
    expect(() => compareRatios({}, {}, 1)).toThrow(/threshold/);
  });
});

// The finite-difference checker itself: it accepts correct gradients and reports wrong ones, samples
// big inputs, and leaves the inputs as it found them.

import { describe, expect, it } from 'vitest';
import { gradCheck } from './gradcheck';
import { mulberry32, randn } from './tensor';

const f = ([x]: Float64Array[]) => x!.reduce((s, v) => s + Math.sin(v) * v, 0);
const grad = (x: Float64Array) => x.map((v) => Math.cos(v) * v + Math.sin(v));

describe('gradCheck', () => {
  it('accepts the exact gradient of sum(x sin x) and restores the input', () => {
    const x = randn([50], mulberry32(1)).data;
    const copy = Float64Array.from(x);
    const report = gradCheck(f, [x], [grad(x)]);
    expect(report.failures).toEqual([]);
    expect(report.checked).toBe(50);
    expect(report.worstRatio).toBeLessThan(1);
    expect(x).toEqual(copy);
  });

  it('reports a gradient that is wrong in one coordinate by 1e-3 relative', () => {
    const x = randn([10], mulberry32(2)).data;
    const g = grad(x);
    g[4] *= 1.001;
    const report = gradCheck(f, [x], [g]);
    expect(report.failures.map((e) => e.index)).toEqual([4]);
  });

  it('checks at most maxCoordsPerInput sampled coordinates per input', () => {
    const x = randn([1000], mulberry32(3)).data;
    const g = grad(x);
    expect(gradCheck(f, [x], [g], { maxCoordsPerInput: 37 }).checked).toBe(37);
    g.fill(0);
    expect(gradCheck(f, [x], [g], { maxCoordsPerInput: 37 }).failures.length).toBeGreaterThan(30);
  });
});

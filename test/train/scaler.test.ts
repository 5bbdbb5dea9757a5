import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/common/random';
import { fitScaler, scalerFromJSON, scalerToJSON, transform } from '../../src/train/data/scaler';

const ROWS = 82;
const FRAMES = 64;

/** Examples whose row r has mean ~ 10 r - 400 and std ~ 1 + r / 10 (dB-like offsets). */
function examples(count: number, seed: number): Float32Array[] {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => {
    const x = new Float32Array(ROWS * FRAMES);
    for (let r = 0; r < ROWS; r++) for (let t = 0; t < FRAMES; t++) x[r * FRAMES + t] = 10 * r - 400 + (1 + r / 10) * rng.normal();
    return x;
  });
}

/** Float64 reference statistics of row r over the given examples. */
function reference(xs: Float32Array[], indices: number[], r: number): { mean: number; std: number } {
  const values = indices.flatMap((i) => Array.from(xs[i].subarray(r * FRAMES, (r + 1) * FRAMES)));
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return { mean, std: Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length) };
}

const relL2 = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let num = 0, den = 0;
  for (let i = 0; i < b.length; i++) { num += (a[i] - b[i]) ** 2; den += b[i] ** 2; }
  return Math.sqrt(num / den);
};

describe('standard scaler', () => {
  it('matches float64 per-row statistics of the training examples (relative L2 < 1e-6)', () => {
    const xs = examples(30, 1);
    const train = [0, 2, 3, 5, 7, 11, 13, 17, 19, 23];
    const stats = fitScaler(xs, train);
    const ref = Array.from({ length: ROWS }, (_, r) => reference(xs, train, r));
    expect(relL2(stats.mean, ref.map((s) => s.mean))).toBeLessThan(1e-6);
    expect(relL2(stats.std, ref.map((s) => s.std))).toBeLessThan(1e-6);
  });

  it('ignores validation examples entirely: changing them leaves the statistics bit-identical', () => {
    const xs = examples(20, 2);
    const train = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    const before = fitScaler(xs, train);
    for (let i = 12; i < 20; i++) xs[i].fill(1e4);
    const after = fitScaler(xs, train);
    expect(after.mean).toEqual(before.mean);
    expect(after.std).toEqual(before.std);
    // The same poisoned examples do move the statistics when included, so the check above can fail.
    expect(fitScaler(xs, [...train, 12]).mean).not.toEqual(before.mean);
  });

  it('makes each row of the training data zero-mean unit-std, in place or into a copy', () => {
    const xs = examples(16, 3);
    const all = xs.map((_, i) => i);
    const stats = fitScaler(xs, all);
    const copies = xs.map((x) => transform(stats, x));
    expect(copies[0]).not.toBe(xs[0]);
    for (const r of [0, 41, 81]) {
      const s = reference(copies, all, r);
      expect(Math.abs(s.mean)).toBeLessThan(1e-4);
      expect(Math.abs(s.std - 1)).toBeLessThan(1e-4);
    }
    const original = Float32Array.from(xs[4]);
    const same = transform(stats, xs[4], { inPlace: true });
    expect(same).toBe(xs[4]);
    expect(same).toEqual(copies[4]);
    expect(same).not.toEqual(original);
  });

  it('centres a constant row without dividing it by a tiny std', () => {
    const xs = examples(4, 4);
    for (const x of xs) x.fill(-80, 5 * FRAMES, 6 * FRAMES);
    const stats = fitScaler(xs, [0, 1, 2, 3]);
    expect(stats.std[5]).toBe(1);
    expect(stats.mean[5]).toBe(-80);
    const probe = Float32Array.from(xs[0]);
    probe[5 * FRAMES] = -79;
    expect(transform(stats, probe)[5 * FRAMES]).toBeCloseTo(1, 6);
  });

  it('round-trips through JSON text and rejects malformed statistics', () => {
    const small = { rows: 3, frames: 2 };
    const xs = [Float32Array.of(1, 2, 3, 5, 0, 9), Float32Array.of(2, 2, 4, 1, 7, 1)];
    const stats = fitScaler(xs, [0, 1], small);
    const back = scalerFromJSON(JSON.parse(JSON.stringify(scalerToJSON(stats))));
    expect(back).toEqual(stats);
    const good = scalerToJSON(stats);
    expect(() => scalerFromJSON({ ...good, kind: 'minmax' })).toThrow(/kind 'standard-scaler'/);
    expect(() => scalerFromJSON({ ...good, mean: [0, 0] })).toThrow(/mean must be an array of 3/);
    expect(() => scalerFromJSON({ ...good, std: [1, 0, 1] })).toThrow(/std must be positive/);
    expect(() => scalerFromJSON(JSON.parse(JSON.stringify({ ...good, mean: [0, NaN, 0] })))).toThrow(/non-finite/);
    expect(() => scalerFromJSON({ ...good, rows: 2.5 })).toThrow(/positive integers/);
    expect(() => fitScaler(xs, [0, 1])).toThrow(/expected 82 x 64/);
    expect(() => transform(stats, new Float32Array(5))).toThrow(/scaler expects 3 x 2/);
  });
});

// Dropout reference: the u32 hash agrees with an exact BigInt evaluation of the documented formula (so
// the WGSL port has a trustworthy oracle), masks keep 1 - p of the elements within statistical bounds,
// are reproducible and change with seed and step, and forward/backward scale kept values by 1/(1 - p).

import { describe, expect, it } from 'vitest';
import { dropoutBackward, dropoutForward, dropoutHash, dropoutKeep, dropoutMask, dropoutThreshold, pcgHash } from './dropout';
import { gradCheck } from './gradcheck';
import { dot, maxAbsDiff, mulberry32, randn } from './tensor';

const U32 = (1n << 32n) - 1n;

function pcgBig(v: bigint): bigint {
  const s = (v * 747796405n + 2891336453n) & U32;
  const w = (((s >> ((s >> 28n) + 4n)) ^ s) * 277803737n) & U32;
  return (w >> 22n) ^ w;
}

function hashBig(seed: number, step: number, index: number): number {
  return Number(pcgBig(pcgBig(pcgBig(BigInt(seed)) ^ BigInt(step)) ^ BigInt(index)));
}

const N = 100_000;

describe('dropout reference', () => {
  it('hash equals exact BigInt u32 arithmetic of the documented formula', () => {
    const rand = mulberry32(9);
    for (let k = 0; k < 2000; k++) {
      const [seed, step, index] = [rand(), rand(), rand()].map((u) => Math.floor(u * 4294967296)) as [number, number, number];
      expect(dropoutHash(seed, step, index)).toBe(hashBig(seed, step, index));
    }
    expect(pcgHash(0)).toBe(Number(pcgBig(0n)));
    expect(pcgHash(0xffffffff)).toBe(Number(pcgBig(0xffffffffn)));
  });

  for (const p of [0.1, 0.3, 0.5]) {
    it(`keeps a fraction 1 - p of ${N} indices within 5 standard deviations (p = ${p})`, () => {
      const kept = dropoutMask(N, { p, seed: 1234, step: 7 }).reduce((a, b) => a + b, 0) / N;
      const sigma = Math.sqrt((p * (1 - p)) / N);
      expect(Math.abs(kept - (1 - p))).toBeLessThan(5 * sigma);
    });
  }

  it('keep decision is hash >= floor(p 2^32); p = 0 keeps everything; p outside [0, 1) is refused', () => {
    expect(dropoutThreshold(0.25)).toBe(1073741824);
    expect(dropoutKeep(3, 4, 5, 0.6)).toBe(dropoutHash(3, 4, 5) >= Math.floor(0.6 * 2 ** 32));
    expect(dropoutMask(1000, { p: 0, seed: 1, step: 1 }).every((m) => m === 1)).toBe(true);
    expect(() => dropoutThreshold(1)).toThrow(/\[0, 1\)/);
    expect(() => dropoutThreshold(-0.1)).toThrow(/\[0, 1\)/);
  });

  it('same (seed, step) gives the same mask; another seed or step gives an independent-looking one', () => {
    const p = 0.5;
    const base = dropoutMask(N, { p, seed: 42, step: 3 });
    expect(maxAbsDiff(dropoutMask(N, { p, seed: 42, step: 3 }), base)).toBe(0);
    for (const other of [dropoutMask(N, { p, seed: 43, step: 3 }), dropoutMask(N, { p, seed: 42, step: 4 })]) {
      // Independent masks agree on p^2 + (1-p)^2 = 1/2 of the indices.
      const agree = other.reduce((a, m, i) => a + (m === base[i] ? 1 : 0), 0) / N;
      expect(Math.abs(agree - 0.5)).toBeLessThan(5 * Math.sqrt(0.25 / N));
    }
  });

  it('neighbouring indices are not correlated (lag-1 agreement of the mask)', () => {
    const mask = dropoutMask(N, { p: 0.5, seed: 0, step: 0 });
    let agree = 0;
    for (let i = 1; i < N; i++) agree += mask[i] === mask[i - 1] ? 1 : 0;
    expect(Math.abs(agree / (N - 1) - 0.5)).toBeLessThan(5 * Math.sqrt(0.25 / N));
  });

  it('forward is x * mask / (1 - p) and backward matches finite differences with the mask fixed', () => {
    const rand = mulberry32(2);
    const shape = [2, 5, 7, 3];
    const x = randn(shape, rand);
    const options = { p: 0.3, seed: 5, step: 11 };
    const { y, mask } = dropoutForward(x, options);
    const expected = x.data.map((v, i) => (mask[i] ? v / 0.7 : 0));
    expect(maxAbsDiff(y.data, expected)).toBeLessThan(1e-15);
    expect(mask.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(mask.reduce((a, b) => a + b, 0)).toBeLessThan(mask.length);
    const r = randn(shape, rand);
    const report = gradCheck(([xd]) => dot(dropoutForward({ data: xd!, shape }, options).y.data, r.data),
      [x.data], [dropoutBackward(r, mask, options.p).data], { maxCoordsPerInput: 210 });
    expect(report.failures).toEqual([]);
  });
});

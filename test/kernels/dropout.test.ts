// Dropout: keep masks bit-exact against the float64 reference (test/ref/dropout.ts), keep-rate
// statistics, masks that change with the GPU-side step and the stream, a backward through the same
// mask, and argument validation.

import { describe, expect, it } from 'vitest';
import { advanceDropoutStep, dropout, dropoutBackward, dropoutState, streamSeed } from '../../src/kernels/dropout';
import { ShapeError } from '../../src/gpu';
import { createNodeGpu } from '../../src/gpu/node.node';
import { randn, rng, useGpu } from '../harness';
import { dropoutMask, pcgHash } from '../ref/dropout';

const gpu = useGpu();

// Inputs without zeros, so a zero output always means "dropped".
const nonzero = (n: number, seed: number) => Float32Array.from(randn(n, rng(seed)), (v) => (v === 0 ? 1 : v));

describe('dropout matches the reference hash bit for bit', () => {
  it('the reference hash agrees with an independent implementation', () => {
    // Values from a Python transcription of Jarzynski and Olano's pcg_hash (arbitrary-precision ints).
    expect(pcgHash(0)).toBe(129708002);
    expect(pcgHash(1)).toBe(2831084092);
    expect(pcgHash(123456789)).toBe(4272394698);
  });

  for (const [n, rate, seed, stream] of [[1, 0.5, 0, 0], [1001, 0.3, 42, 0], [70_001, 0.5, 7, 3], [4096, 0.1, 0xffffffff, 1]] as const) {
    it(`n=${n} rate=${rate} seed=${seed} stream=${stream}: forward, backward and the next step`, async () => {
      const g = gpu();
      const x = nonzero(n, n);
      const dy = nonzero(n, n + 1);
      const state = dropoutState(g, seed);
      const xt = g.upload(x, [n]);
      const y0 = dropout(g, xt, state, { rate, stream });
      const dx0 = dropoutBackward(g, g.upload(dy, [n]), state, { rate, stream });
      advanceDropoutStep(g, state);
      const y1 = dropout(g, xt, state, { rate, stream });
      const [a, b, c, s] = await g.readMany([y0, dx0, y1, state]);
      const scale = Math.fround(1 / (1 - rate));
      const expectMasked = (got: ArrayLike<number>, src: Float32Array, keep: Uint8Array, what: string) => {
        for (let i = 0; i < n; i++) {
          const want = keep[i] ? Math.fround(src[i]! * scale) : 0;
          if (got[i] !== want) throw new Error(`${what}: element ${i} is ${got[i]}, expected ${want} (keep=${keep[i]})`);
        }
      };
      const seedOf = streamSeed(seed, stream);
      const keep0 = dropoutMask(n, { p: rate, seed: seedOf, step: 0 });
      expectMasked(a!, x, keep0, 'forward at step 0');
      expectMasked(b!, dy, keep0, 'backward at step 0');
      expectMasked(c!, x, dropoutMask(n, { p: rate, seed: seedOf, step: 1 }), 'forward at step 1');
      expect(Array.from(s!)).toEqual([1, seed]);
    });
  }
});

describe('dropout statistics', () => {
  it('keeps 1 - rate of the elements, independently across steps and streams', async () => {
    const g = gpu();
    const n = 200_000;
    const rate = 0.3;
    const x = g.upload(new Float32Array(n).fill(1), [n]);
    const state = dropoutState(g, 1234);
    const a = dropout(g, x, state, { rate });
    const b = dropout(g, x, state, { rate, stream: 1 });
    advanceDropoutStep(g, state);
    const c = dropout(g, x, state, { rate });
    const [ya, yb, yc] = (await g.readMany([a, b, c])).map((y) => Array.from(y, (v) => (v !== 0 ? 1 : 0)));
    const sigma = Math.sqrt((rate * (1 - rate)) / n);
    const kept = (m: number[]) => m.reduce((s, v) => s + v, 0) / n;
    const both = (m: number[], k: number[]) => m.reduce((s, v, i) => s + v * k[i]!, 0) / n;
    for (const m of [ya!, yb!, yc!]) expect(Math.abs(kept(m) - (1 - rate))).toBeLessThan(5 * sigma);
    // Independent masks keep an element in both with probability (1 - rate)^2.
    for (const [m, k] of [[ya!, yb!], [ya!, yc!]]) expect(Math.abs(both(m!, k!) - (1 - rate) ** 2)).toBeLessThan(5 * sigma);
    // Neighbouring elements are uncorrelated too.
    expect(Math.abs(both(ya!.slice(1), ya!) - (1 - rate) ** 2)).toBeLessThan(5 * sigma);
  });

  it('rate 0 keeps everything unscaled', async () => {
    const g = gpu();
    const x = nonzero(999, 3);
    const y = await dropout(g, g.upload(x, [999]), dropoutState(g, 5), { rate: 0 }).read();
    expect(Array.from(y)).toEqual(Array.from(x));
  });

  it('one pipeline serves every rate, stream and size, forward and backward (read at run time)', async () => {
    const g = await createNodeGpu({ poison: true });
    try {
      const state = dropoutState(g, 11);
      for (const [n, rate, stream] of [[100, 0.2, 0], [257, 0.3, 1], [64, 0.4, 4], [33, 0, 2]] as const) {
        const x = nonzero(n, n);
        const [y, dx] = await g.readMany([dropout(g, g.upload(x, [n]), state, { rate, stream }), dropoutBackward(g, g.upload(x, [n]), state, { rate, stream })]);
        const keep = dropoutMask(n, { p: rate, seed: streamSeed(11, stream), step: 0 });
        const want = Array.from(x, (v, i) => (keep[i] ? Math.fround(v * Math.fround(1 / (1 - rate))) : 0));
        expect(Array.from(y!)).toEqual(want);
        expect(Array.from(dx!)).toEqual(want);
      }
      const { fill, ...families } = g.pipelines.statistics().byFamily; // fill: the NaN poisoning
      expect(families).toEqual({ dropout: 1 });
    } finally {
      g.destroy();
    }
  });
});

describe('dropout refuses bad arguments', () => {
  it('names the op and the bad value', () => {
    const g = gpu();
    const x = g.zeros([4]);
    const s = dropoutState(g, 1);
    expect(() => dropout(g, x, s, { rate: 1 })).toThrow(/dropout: rate must lie in \[0, 1\), got 1/);
    expect(() => dropout(g, x, s, { rate: NaN })).toThrow(ShapeError);
    expect(() => dropoutBackward(g, x, s, { rate: 0.5, stream: -1 })).toThrow(/dropoutBackward: stream must be a 32-bit unsigned integer/);
    expect(() => dropout(g, x, g.zeros([3], 'u32'), { rate: 0.5 })).toThrow(/must be the u32 \[2\] of dropoutState/);
    expect(() => dropoutState(g, 1.5)).toThrow(/seed must be a 32-bit unsigned integer/);
  });
});

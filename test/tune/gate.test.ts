// The tuner's correctness gate (src/tune/gate.ts, measureCase in src/tune/tuner.ts): the comparison
// itself (pure); a fake case whose fastest variants are wrong — one computes other numbers, one leaves
// its output unwritten (on a runtime that does not poison, where the pool hands back a buffer still
// holding the right answer unless the gate poisons) — is rejected, recorded with the reason and not
// chosen; the real registry's candidates all pass on this adapter (batch 2: a few conv, matmul, Winograd
// GEMM, 1x1 conv and stem conv cases and the texture switch, whose 12 outputs are every block conv pass; the subgroup
// switch runs the same work, left to `ser tune` for time); rejections show in `ser tune`'s table; and a stored entry that
// lacks a candidate the family has now is measured again on first use.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu, Tensor } from '../../src/gpu';
import { chosenVariant } from '../../src/gpu/choices';
import { tuneTable } from '../../src/cli/tune';
import { createNodeGpu } from '../../src/gpu/node.node.ts';
import { matmul, matmulShapeKey } from '../../src/kernels/matmul';
import { GATE_TOLERANCE, checkOutputs, referenceProblem } from '../../src/tune/gate';
import { adapterKey } from '../../src/tune/key';
import { type TuneCase, tuneCases } from '../../src/tune/registry';
import { type TuneEntry, emptyDocument, localStore } from '../../src/tune/store';
import { type Clock, describeEntry, measureCase, tuneAdapter } from '../../src/tune/tuner';
import { randn, rng } from '../harness';

// A runtime that does NOT poison (as users' runtimes): the poisoning must come from the gate.
let gpu: Gpu;
beforeAll(async () => {
  gpu = await createNodeGpu();
});
afterAll(() => gpu?.destroy());

describe('comparing outputs', () => {
  const ref = Float32Array.from(randn(1000, rng(1)));

  it('passes float32 rounding and rejects wrong, partly wrong, non-finite or missized outputs', () => {
    const rounded = ref.map((x, i) => x * (1 + (i % 2 ? 1e-7 : -1e-7)));
    const ok = checkOutputs([rounded], [ref]);
    expect(ok.ok).toBe(true);
    expect(ok.relL2).toBeLessThan(1e-6);
    const scaled = checkOutputs([ref.map((x) => 1.01 * x)], [ref]);
    expect(scaled).toMatchObject({ ok: false, reason: expect.stringMatching(/^rel L2 1\.0e-2 vs default/) });
    const oneRow = ref.slice();
    oneRow.fill(0, 0, 40); // 4% of the elements wrong
    expect(checkOutputs([oneRow], [ref]).ok).toBe(false);
    const nan = ref.slice();
    nan[999] = NaN;
    expect(checkOutputs([nan], [ref])).toMatchObject({ ok: false, reason: 'output 0: 1 of 1000 values not finite (unwritten or overflowed)' });
    expect(checkOutputs([ref, nan], [ref, ref]).ok).toBe(false); // every output counts
    expect(checkOutputs([ref.subarray(1)], [ref]).ok).toBe(false);
    expect(checkOutputs([ref], [ref, ref]).ok).toBe(false);
    expect(referenceProblem([ref])).toBeNull();
    expect(referenceProblem([ref, nan])).toBe('output 1: 1 of 1000 values not finite');
  });
});

describe('showing rejections', () => {
  it('in `ser tune`\'s table and log line, with the reason', () => {
    const e: TuneEntry = { family: 'matmul', shape: '32x256x128 NN', default: 'register', chosen: 'register', candidates: [
      { variant: 'register', medianMs: 0.8, samples: 5, relL2: 0 },
      { variant: 'tiled8', medianMs: NaN, samples: 0, relL2: 0.66, rejected: 'rel L2 6.6e-1 vs default (tolerance 0.001)' },
      { variant: 'tiled16', medianMs: 1.5, samples: 5 }, // measured before the gate: no fields
    ] };
    expect(describeEntry(e)).toBe('matmul 32x256x128 NN: register 0.80 ms, tiled8 rejected (rel L2 6.6e-1 vs default (tolerance 0.001)), tiled16 1.50 ms -> register');
    const table = tuneTable([e]).split('\n');
    expect(table[1]).toMatch(/register 0\.80 \| tiled8 rejected \| tiled16 1\.50\s+register$/);
    expect(table.at(-1)).toBe('rejected: matmul 32x256x128 NN tiled8: rel L2 6.6e-1 vs default (tolerance 0.001)');
    expect(tuneTable([{ ...e, candidates: [e.candidates[0]!] }]).split('\n').at(-1)).toBe('(* = not the built-in default)');
  });
});

describe('measureCase gates the candidates', () => {
  // A fake family: 'good' and 'also-good' compute A·B, 'wrong' computes A·B' and 'unwritten' returns
  // a fresh tensor it never writes. A fake clock makes the wrong ones 10x faster than the default.
  const [M, N, K] = [16, 24, 32];
  const cost: Record<string, number> = { good: 10, 'also-good': 8, wrong: 1, unwritten: 1 };
  let fakeMs = 0;
  const clock: Clock = { name: 'wall', now: () => fakeMs };
  const fakeCase = (variants: string[]): TuneCase => ({
    family: 'test.fake',
    shape: 'AB',
    variants,
    setup: (g) => {
      const r = rng(5);
      const [a, b, b2] = [[M, K], [K, N], [K, N]].map((s) => g.upload(Float32Array.from(randn(s[0]! * s[1]!, r)), s));
      const run = (): Tensor[] => {
        const v = chosenVariant(g, 'test.fake', 'AB')!;
        fakeMs += cost[v]!;
        if (v === 'unwritten') return [g.empty([M, N])];
        return [matmul(g, a!, v === 'wrong' ? b2! : b!, { variant: 'register' })];
      };
      return { run, dispose: () => [a, b, b2].forEach((t) => t!.dispose()) };
    },
  });

  it('rejects a variant that computes other numbers and one that leaves its output unwritten, though fastest', async () => {
    const e = (await measureCase(gpu, fakeCase(['good', 'unwritten', 'wrong', 'also-good']), 3, Infinity, clock))!;
    const by = Object.fromEntries(e.candidates.map((c) => [c.variant, c]));
    expect(by.wrong!.rejected, describeEntry(e)).toMatch(/^rel L2 \S+ vs default/);
    expect(by.wrong!.relL2).toBeGreaterThan(0.1);
    expect(by.unwritten!.rejected, describeEntry(e)).toBe(`output 0: ${M * N} of ${M * N} values not finite (unwritten or overflowed)`);
    for (const v of ['wrong', 'unwritten']) expect([by[v]!.medianMs, by[v]!.samples]).toEqual([NaN, 0]);
    for (const v of ['good', 'also-good']) {
      expect(by[v]!.rejected).toBeUndefined();
      expect(by[v]!.relL2).toBeLessThanOrEqual(GATE_TOLERANCE);
      expect(by[v]!.medianMs).toBe(cost[v]);
    }
    expect(e.chosen).toBe('also-good'); // the fastest candidate that passed
    expect(describeEntry(e)).toMatch(/wrong rejected \(rel L2 .* vs default/);
    expect(JSON.parse(JSON.stringify(e)).candidates[2].rejected).toBe(by.wrong!.rejected); // kept in the cache and --json
  });

  it('keeps the default, and rejects every other candidate, when the default gives nothing to compare with', async () => {
    const e = (await measureCase(gpu, fakeCase(['unwritten', 'good']), 3, Infinity, clock))!;
    expect(e.candidates.map((c) => c.rejected)).toEqual([`output 0: ${M * N} of ${M * N} values not finite`, `not verified: the default's output 0: ${M * N} of ${M * N} values not finite`]);
    expect(e.chosen).toBe('unwritten');
  });
});

// A few registry cases per group, each group a test of its own (a cold shader cache compiles every
// candidate's pipelines: one test for all of them ran past the timeout on the 2-core machine).
const GATE_GROUPS: [string, RegExp, string[]][] = [
  ['conv2d passes and texture reads', /^(conv2d\.forward 41x32x32->|conv2d\.input-grad 20x16x64->|conv2d\.filter-grad 41x32x64->|image-textures)/,
    ['conv2d.filter-grad', 'conv2d.forward', 'conv2d.input-grad', 'image-textures']],
  ['dense matmuls', /^(matmul 2x256x128 NN|matmul 128x256x2 TN|matmul 2x\d+x\d+ NT)/, ['matmul', 'matmul', 'matmul', 'matmul', 'matmul']],
  ['Winograd GEMM and reduction, batch norm', /^(winograd\.gemm F4 20x16 128->64|winograd\.reduce F4 20x16 64->128|batchnorm\.statistics 2x82x64x32|batchnorm\.grad-sums 2x82x64x32)/,
    ['batchnorm.grad-sums', 'batchnorm.statistics', 'winograd.gemm', 'winograd.reduce']],
  ['1x1 conv passes', /^conv1x1\.(forward|input-grad|filter-grad) 20x16x64->128$/, ['conv1x1.filter-grad', 'conv1x1.forward', 'conv1x1.input-grad']],
  ['stem conv forward', /^stem\.forward 82x64x1->32 p1,1,1,1$/, ['stem.forward']],
];

describe('the real cases on this adapter', () => {
  for (const [group, wanted, families] of GATE_GROUPS) {
    it(`every candidate matches the default's outputs: ${group} (batch 2)`, async () => {
      const cases = tuneCases(gpu, 2).filter((c) => wanted.test(`${c.family} ${c.shape}`));
      expect(cases.map((c) => c.family).sort()).toEqual(families);
      const errors: string[] = [];
      for (const c of cases) {
        const e = (await measureCase(gpu, c, 1, Infinity))!;
        for (const t of e.candidates) {
          expect(t.rejected, describeEntry(e)).toBeUndefined();
          expect(t.relL2, describeEntry(e)).toBeLessThanOrEqual(GATE_TOLERANCE);
        }
        expect(c.variants).toContain(e.chosen);
        errors.push(`${e.family} ${e.shape}: ${e.candidates.map((t) => `${t.variant} ${t.relL2?.toExponential(1)}`).join(', ')}`);
      }
      console.log(`gate errors vs default on ${gpu.adapter.description}:\n${errors.join('\n')}`);
    });
  }
});

describe('stored entries', () => {
  it('measures again an entry lacking a candidate its family has now (tiled matmuls), and keeps complete ones', async () => {
    const cases = tuneCases(gpu, 2);
    const mm = cases.find((c) => c.family === 'matmul' && c.shape === matmulShapeKey(2, 256, 128, false, false))!;
    const conv = cases.find((c) => c.family === 'conv2d.forward')!;
    const old = (c: TuneCase, variants: readonly string[]): TuneEntry => ({ family: c.family, shape: c.shape, default: c.variants[0]!, chosen: c.variants[0]!, candidates: variants.map((v) => ({ variant: v, medianMs: 1, samples: 5 })) });
    const area = new Map<string, string>();
    const store = localStore({ getItem: (k) => area.get(k) ?? null, setItem: (k, v) => void area.set(k, v) });
    const key = adapterKey(gpu);
    store.save({ ...emptyDocument(), adapters: { [key]: { key, adapter: gpu.adapter, batch: 2, updated: '', entries: [old(mm, ['register']), old(conv, conv.variants)] } } });
    const measured: string[] = [];
    const filter = new RegExp(`^(matmul ${mm.shape}|${conv.family} ${conv.shape.replace(/[^\w ]/g, '\\$&')})$`);
    const rec = await tuneAdapter(gpu, store, { batch: 2, samples: 1, filter, missingOnly: true, log: (l) => measured.push(l) });
    expect(measured).toHaveLength(1);
    expect(measured[0]).toContain(`matmul ${mm.shape}`);
    expect(rec.entries.find((e) => e.family === 'matmul')!.candidates.map((t) => t.variant)).toEqual(['compact', 'register', 'tiled8', 'tiled16']);
    expect(rec.entries.find((e) => e.family === 'conv2d.forward')!.candidates.every((t) => t.medianMs === 1)).toBe(true); // untouched
  });
});

// Every variant the tuner can choose (FAMILY_VARIANTS, the registry's closed lists) reaches its kernel
// and stays correct: with the choice in the runtime's table, the 'auto' calls the model makes compile
// that variant's pipeline (checked by pipeline key) and match the float64 references (relative L2,
// NaN-poisoned outputs, fresh random inputs). A variant added to a family without a case here fails
// the first test. Also: a cached record installed by useTuning('cached') steers the kernels (a 3x3
// conv's algorithm, the stem's tiled kernel).

import { describe, expect, it, vi } from 'vitest';
import { setChoices, withVariant } from '../../src/gpu/choices';
import { conv2d } from '../../src/kernels/conv2d';
import { conv2dBackwardFilter, conv2dBackwardInput } from '../../src/kernels/conv2d-grad';
import { CONV_FAMILY, type ConvPass, convShapeKey } from '../../src/kernels/conv-variants';
import { CONV1X1_FAMILY } from '../../src/kernels/conv1x1-tiled';
import { conv2dGeometry } from '../../src/kernels/conv2d';
import { MATMUL_FAMILY, matmul, matmulShapeKey } from '../../src/kernels/matmul';
import { batchNormBackward, batchNormTrain } from '../../src/kernels/batchnorm';
import { FFT_FAMILY, rfft, twiddleTable } from '../../src/kernels/fft';
import { fft } from '../../src/dsp/reference/fft';
import { BN_GRAD_FAMILY, BN_STATS_FAMILY, bnShapeKey } from '../../src/kernels/batchnorm-wg';
import { SUBGROUPS_FAMILY, SUBGROUPS_SHAPE } from '../../src/kernels/subgroups';
import { TEXTURES_FAMILY, TEXTURES_SHAPE } from '../../src/kernels/winograd';
import { WINOGRAD_GEMM_FAMILY, WINOGRAD_REDUCE_FAMILY, winogradGemmShapeKey } from '../../src/kernels/winograd-gemm-tiled';
import { adapterKey } from '../../src/tune/key';
import { FAMILY_VARIANTS } from '../../src/tune/registry';
import { emptyDocument, localStore } from '../../src/tune/store';
import { useTuning } from '../../src/tune/tuner';
import { TOL_F32, expectClose, randn, rng, useGpu } from '../harness';
import { CONV1X1_KEYS, conv1x1Passes } from '../kernels/conv1x1-cases';
import { STEM_KEYS, stemForward } from '../kernels/stem-cases';
import { STEM_FORWARD_FAMILY, stemShapeKey } from '../../src/kernels/stem-tiled';
import { conv2dBackward, conv2dForward } from '../ref/conv';
import { matmulRef } from '../ref/linalg';
import { batchNormTrainBackward, batchNormTrainForward } from '../ref/norm';
import { tensor } from '../ref/tensor';

const gpu = useGpu();

// 8 lanes of destination channels per Winograd workgroup (Cout 32): subgroup sharing applies on lavapipe;
// rows of 4 x 32 channels are 512 bytes, a multiple of 256: the image can be staged as a texture.
const COUT = 32;
const W_SHAPE = [3, 3, 32, COUT];
const CONV_SHAPE = convShapeKey(conv2dGeometry('t', [2, 7, 4, 32], W_SHAPE, { padding: 'same' }));
const CONV_FAMILIES = Object.values(CONV_FAMILY);

/** The pipeline-key prefix each conv variant's forward compiles. */
const CONV_KEY: Record<string, RegExp> = { winograd4: /^winograd\.input:4:\d+:7:4:32:/, winograd2: /^winograd\.input:2:\d+:7:4:32:/, direct: /^conv2d:forward:\d+:7:4:32:/ };
// The tiled kernels' own tests (more shapes, transposes, bias, ReLU) are test/kernels/matmul-tiled.test.ts.
const MATMUL_KEY: Record<string, RegExp> = { compact: /^matmul\.compact:12:20:36:/, register: /^matmul:12:20:36:/, tiled8: /^matmul\.tiled8:12:20:36:/, tiled16: /^matmul\.tiled16:12:20:36:/ };
/** The rfft pipeline each FFT variant compiles at N = 2048 (its workgroup size in the key). */
const FFT_KEY: Record<string, string> = { wg64: 'rfft:2048:64', wg256: 'rfft:2048:256' };
const ON_OFF = { on: 'true', off: 'false' } as const;
// The 1x1 conv variants (their own tests at more shapes: test/kernels/conv1x1-tiled.test.ts).
const CONV1X1_PASSES: ConvPass[] = ['forward', 'input-grad', 'filter-grad'];
// The Winograd GEMM and reduction variants (their own tests: test/kernels/winograd-gemm-tiled.test.ts); every pass of the 7x4 32->32 conv.
const WINOGRAD_SHAPE = winogradGemmShapeKey(4, 7, 4, 32, COUT);
const gemmKeys = (pass: string): Record<string, RegExp> => ({ lanes: new RegExp(`^winograd\\.${pass}:`), tiled8: new RegExp(`^winograd\\.${pass}\\.tiled8:`), tiled16: new RegExp(`^winograd\\.${pass}\\.tiled16:`) });
const WINOGRAD_KEY: Record<string, Record<string, RegExp>> = { [WINOGRAD_GEMM_FAMILY]: gemmKeys('gemm'), [WINOGRAD_REDUCE_FAMILY]: gemmKeys('reduce') };
/** The reduction pipelines each batch-norm variant compiles (forward statistics, backward sums); the tree kernels' are test/kernels/batchnorm-wg.test.ts. */
const BN_KEY: Record<string, { stats: RegExp; grad: RegExp }> = {
  lanes: { stats: /^batchNormTrain\.1(:|$)/, grad: /^batchNormBackward\.1:/ },
  tree: { stats: /^batchNormTrain\.tree1:/, grad: /^batchNormBackward\.tree1:/ },
};
/** The flag each device-wide family sets in its kernel's key: subgroup sharing (gemm), texture reads (input transform). */
const FLAG: Record<string, { key: RegExp; field: (k: string) => string | undefined }> = {
  [SUBGROUPS_FAMILY]: { key: /^winograd\.gemm:/, field: (k) => k.split(':').at(-2) },
  [TEXTURES_FAMILY]: { key: /^winograd\.input:4:/, field: (k) => k.split(':').at(-1) },
};

/** The model's conv passes under 'auto' (all three, or the forward only) against the references; the pipeline keys dispatched. */
async function convPasses(n: number, seed: number, forwardOnly = false): Promise<string[]> {
  const g = gpu();
  const X = [n, 7, 4, 32];
  const Y_SHAPE = [n, 7, 4, COUT];
  const used: string[] = [];
  const get = g.pipelines.get.bind(g.pipelines);
  const spy = vi.spyOn(g.pipelines, 'get').mockImplementation((key, source, entry) => (used.push(key), get(key, source, entry)));
  try {
    const r = rng(seed);
    const x = Float32Array.from(randn(X.reduce((a, b) => a * b), r));
    const w = Float32Array.from(randn(W_SHAPE.reduce((a, b) => a * b), r));
    const bias = Float32Array.from(randn(COUT, r));
    const dy = Float32Array.from(randn(Y_SHAPE.reduce((a, b) => a * b), r));
    const [xT, wT, dyT] = [g.upload(x, X), g.upload(w, W_SHAPE), g.upload(dy, Y_SHAPE)];
    const opts = { padding: 'same' as const };
    const y = conv2d(g, xT, wT, { ...opts, bias: g.upload(bias, [COUT]) });
    const yRef = conv2dForward(tensor(X, x), tensor(W_SHAPE, w), tensor([COUT], bias), opts).data;
    if (forwardOnly) {
      expectClose(await y.read(), yRef, TOL_F32, 'y');
      return used;
    }
    const dx = conv2dBackwardInput(g, dyT, wT, X, opts);
    const dw = conv2dBackwardFilter(g, xT, dyT, W_SHAPE, opts);
    const [yv, dxv, dwv] = await g.readMany([y, dx, dw]);
    const ref = conv2dBackward(tensor(Y_SHAPE, dy), tensor(X, x), tensor(W_SHAPE, w), opts);
    expectClose(yv!, yRef, TOL_F32, 'y');
    expectClose(dxv!, ref.dx.data, TOL_F32, 'dx');
    expectClose(dwv!, ref.dw.data, TOL_F32, 'dw');
    return used;
  } finally {
    spy.mockRestore();
  }
}

describe('every variant the tuner can choose runs and is correct', () => {
  it('has a case here for every variant of every family', () => {
    const covered: Record<string, Record<string, unknown>> = {
      ...Object.fromEntries(CONV_FAMILIES.map((f) => [f, CONV_KEY])),
      [MATMUL_FAMILY]: MATMUL_KEY,
      [SUBGROUPS_FAMILY]: ON_OFF,
      [TEXTURES_FAMILY]: ON_OFF,
      ...WINOGRAD_KEY,
      [BN_STATS_FAMILY]: BN_KEY,
      [BN_GRAD_FAMILY]: BN_KEY,
      [FFT_FAMILY]: FFT_KEY,
      ...Object.fromEntries(CONV1X1_PASSES.map((p) => [CONV1X1_FAMILY[p], CONV1X1_KEYS[p]])),
      [STEM_FORWARD_FAMILY]: STEM_KEYS,
    };
    for (const [family, variants] of Object.entries(FAMILY_VARIANTS)) {
      expect(Object.keys(covered[family] ?? {}).sort(), family).toEqual([...variants].sort());
    }
  });

  for (const variant of FAMILY_VARIANTS[CONV_FAMILY.forward]!) {
    it(`conv2d passes as ${variant}`, async () => {
      const g = gpu();
      setChoices(g, new Map(CONV_FAMILIES.map((f) => [`${f}|${CONV_SHAPE}`, variant])));
      try {
        const keys = await convPasses(2, 100 + variant.length);
        expect(keys.some((k) => CONV_KEY[variant]!.test(k)), keys.join(' ')).toBe(true);
        const other = Object.entries(CONV_KEY).filter(([v]) => v !== variant);
        expect(keys.some((k) => other.some(([, re]) => re.test(k))), keys.join(' ')).toBe(false);
      } finally {
        setChoices(g, new Map());
      }
    });
  }

  for (const [family, shape] of [[SUBGROUPS_FAMILY, SUBGROUPS_SHAPE], [TEXTURES_FAMILY, TEXTURES_SHAPE]] as const) {
    for (const variant of FAMILY_VARIANTS[family]! as ('on' | 'off')[]) {
      it(`${family} ${variant}`, async ({ skip }) => {
        const g = gpu();
        if (family === SUBGROUPS_FAMILY && !g.subgroups && variant === 'on') skip('no subgroups on this adapter');
        setChoices(g, new Map([[`${family}|${shape}`, variant]]));
        try {
          const mine = (await convPasses(2, 7 + variant.length, true)).filter((k) => FLAG[family]!.key.test(k));
          expect(mine.length).toBeGreaterThan(0);
          expect(mine.map(FLAG[family]!.field), mine.join(' ')).toEqual(mine.map(() => ON_OFF[variant]));
        } finally {
          setChoices(g, new Map());
        }
      });
    }
  }

  for (const [family, keys] of Object.entries(WINOGRAD_KEY)) {
    for (const variant of FAMILY_VARIANTS[family]!) {
      it(`${family} as ${variant}`, async () => {
        const g = gpu();
        setChoices(g, new Map([[`${family}|${WINOGRAD_SHAPE}`, variant]]));
        try {
          const mine = (await convPasses(2, 40 + variant.length)).filter((k) => Object.values(keys).some((re) => re.test(k)));
          expect(mine.length, mine.join(' ')).toBe(family === WINOGRAD_GEMM_FAMILY ? 2 : 1);
          expect(mine.every((k) => keys[variant]!.test(k)), mine.join(' ')).toBe(true);
        } finally {
          setChoices(g, new Map());
        }
      });
    }
  }

  // The i-th variant of every 1x1 pass at once (default, tiled8, tiled16) on a 1x1 12 -> 20 conv (the
  // shape of test/kernels/conv1x1-tiled.test.ts's tiled16 case: a warm shader cache shares its pipelines).
  for (const i of [0, 1, 2]) {
    const variants = Object.fromEntries(CONV1X1_PASSES.map((p) => [p, FAMILY_VARIANTS[CONV1X1_FAMILY[p]]![i]!]));
    it(`1x1 conv passes as ${Object.values(variants).join(' / ')}`, async () => {
      const used = await conv1x1Passes(gpu(), [3, 5, 3, 12], 20, 50 + i, variants);
      for (const p of CONV1X1_PASSES) {
        const ran = Object.entries(CONV1X1_KEYS[p]).filter(([, re]) => used[p].some((k) => re.test(k))).map(([v]) => v);
        expect(ran, `${p}: ${used[p].join(' ')}`).toEqual([variants[p]]);
      }
    });
  }

  // The stem conv forward (Cin = 1) on a 19x37 -> 12 image (ragged tiles and channel block; the shape of
  // test/kernels/stem-tiled.test.ts's first case: a warm shader cache shares its pipelines).
  for (const variant of FAMILY_VARIANTS[STEM_FORWARD_FAMILY]!) {
    it(`stem conv forward as ${variant}`, async () => {
      const keys = await stemForward(gpu(), [3, 19, 37, 1], 12, 60 + variant.length, variant);
      const ran = Object.entries(STEM_KEYS).filter(([, re]) => keys.some((k) => re.test(k))).map(([v]) => v);
      expect(ran, keys.join(' ')).toEqual([variant]);
    });
  }

  for (const variant of FAMILY_VARIANTS[MATMUL_FAMILY]!) {
    it(`matmul as ${variant}`, async () => {
      const g = gpu();
      const [M, N, K] = [12, 20, 36];
      const r = rng(3);
      const a = Float32Array.from(randn(M * K, r));
      const b = Float32Array.from(randn(K * N, r));
      const c = withVariant(g, MATMUL_FAMILY, matmulShapeKey(M, N, K, false, false), variant, () => matmul(g, g.upload(a, [M, K]), g.upload(b, [K, N])));
      expectClose(await c.read(), matmulRef(a, b, M, N, K, false, false), TOL_F32, `matmul ${variant}`);
      expect(g.pipelines.keys().some((k) => MATMUL_KEY[variant]!.test(k))).toBe(true);
    });
  }

  for (const variant of FAMILY_VARIANTS[FFT_FAMILY]!) {
    it(`rfft as ${variant}`, async () => {
      const g = gpu();
      const [rows, n] = [3, 2048];
      const x = Float32Array.from(randn(rows * n, rng(5)));
      const used: string[] = [];
      const get = g.pipelines.get.bind(g.pipelines);
      const spy = vi.spyOn(g.pipelines, 'get').mockImplementation((key, source, entry) => (used.push(key), get(key, source, entry)));
      try {
        const out = withVariant(g, FFT_FAMILY, String(n), variant, () => rfft(g, g.upload(x, [rows, n]), g.upload(twiddleTable(n), [2 * n])));
        const ref = new Float64Array(rows * (n / 2 + 1) * 2);
        for (let r = 0; r < rows; r++) {
          const re = Float64Array.from(x.subarray(r * n, (r + 1) * n));
          const im = new Float64Array(n);
          fft(re, im);
          for (let k = 0; k <= n / 2; k++) [ref[(r * (n / 2 + 1) + k) * 2], ref[(r * (n / 2 + 1) + k) * 2 + 1]] = [re[k]!, im[k]!];
        }
        expectClose(await out.read(), ref, TOL_F32, `rfft ${variant}`);
        expect(used.filter((k) => k.startsWith('rfft:'))).toEqual([FFT_KEY[variant]]);
      } finally {
        spy.mockRestore();
      }
    });
  }

  for (const variant of FAMILY_VARIANTS[BN_STATS_FAMILY]!) {
    it(`batch norm training forward and backward as ${variant}`, async () => {
      const g = gpu();
      const shape = [2, 5, 3, 12];
      const r = rng(41);
      const x = Float32Array.from(randn(360, r), (v) => 2 * v + 5);
      const dy = Float32Array.from(randn(360, r));
      const gamma = Float32Array.from(randn(12, r));
      const beta = Float32Array.from(randn(12, r));
      const used: string[] = [];
      const get = g.pipelines.get.bind(g.pipelines);
      const spy = vi.spyOn(g.pipelines, 'get').mockImplementation((key, source, entry) => (used.push(key), get(key, source, entry)));
      setChoices(g, new Map([BN_STATS_FAMILY, BN_GRAD_FAMILY].map((f) => [`${f}|${bnShapeKey(shape)}`, variant])));
      try {
        const xT = g.upload(x, shape);
        const p = { gamma: g.upload(gamma, [12]), beta: g.upload(beta, [12]), movingMean: g.zeros([12]), movingVar: g.zeros([12]) };
        const f = batchNormTrain(g, xT, p);
        const b = batchNormBackward(g, g.upload(dy, shape), xT, p.gamma, f);
        const [yv, dxv, dgv] = await g.readMany([f.y, b.dx, b.dgamma]);
        const ref = batchNormTrainForward(tensor(shape, x), tensor([12], gamma), tensor([12], beta));
        const bref = batchNormTrainBackward(tensor(shape, dy), ref, tensor([12], gamma));
        expectClose(yv!, ref.y.data, TOL_F32, 'y');
        expectClose(dxv!, bref.dx.data, TOL_F32, 'dx');
        expectClose(dgv!, bref.dgamma.data, TOL_F32, 'dgamma');
        for (const [v, re] of Object.entries(BN_KEY)) {
          expect(used.some((k) => re.stats.test(k)), used.join(' ')).toBe(v === variant);
          expect(used.some((k) => re.grad.test(k)), used.join(' ')).toBe(v === variant);
        }
      } finally {
        spy.mockRestore();
        setChoices(g, new Map());
      }
    });
  }
});

describe('a cached record steers the kernels', () => {
  it("useTuning('cached') installs this adapter's choices", async () => {
    const g = gpu();
    const area = new Map<string, string>();
    const store = localStore({ getItem: (k) => area.get(k) ?? null, setItem: (k, v) => void area.set(k, v) });
    const entry = { family: CONV_FAMILY.forward, shape: CONV_SHAPE, default: 'winograd4', chosen: 'direct', candidates: [] };
    store.save({ ...emptyDocument(), adapters: { [adapterKey(g)]: { key: adapterKey(g), adapter: g.adapter, batch: 32, updated: '', entries: [entry] } } });
    expect(await useTuning(g, 'cached', store)).toBe(1);
    try {
      const keys = await convPasses(2, 7, true);
      expect(keys.some((k) => CONV_KEY.direct!.test(k)), keys.join(' ')).toBe(true);
      expect(keys.some((k) => CONV_KEY.winograd4!.test(k)), keys.join(' ')).toBe(false);
    } finally {
      setChoices(g, new Map());
    }
  });

  it('a stem.forward choice in the record runs the tiled stem kernel', async () => {
    const g = gpu();
    const area = new Map<string, string>();
    const store = localStore({ getItem: (k) => area.get(k) ?? null, setItem: (k, v) => void area.set(k, v) });
    const shape = stemShapeKey(conv2dGeometry('t', [3, 19, 37, 1], [3, 3, 1, 12], { padding: 'same' }));
    const entry = { family: STEM_FORWARD_FAMILY, shape, default: 'gather', chosen: 'tile8x32', candidates: [] };
    store.save({ ...emptyDocument(), adapters: { [adapterKey(g)]: { key: adapterKey(g), adapter: g.adapter, batch: 32, updated: '', entries: [entry] } } });
    expect(await useTuning(g, 'cached', store)).toBe(1);
    try {
      const keys = await stemForward(g, [3, 19, 37, 1], 12, 66, undefined);
      const ran = Object.entries(STEM_KEYS).filter(([, re]) => keys.some((k) => re.test(k))).map(([v]) => v);
      expect(ran, keys.join(' ')).toEqual(['tile8x32']);
    } finally {
      setChoices(g, new Map());
    }
  });
});

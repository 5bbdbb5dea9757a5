// Layers of different sizes share the Winograd tile transforms' and inverse's pipelines
// (src/kernels/winograd.ts, winograd-inverse.ts read every spatial size, channel count and pad from the
// shape uniform, shape-params.ts): two conv layers that differ in height, width, channels and padding run
// on one runtime, each checked against the float64 references (test/ref/conv.ts, ref/layers.ts) on
// NaN-poisoned outputs, and the second layer must compile no new pipeline in those families (a size
// still baked into the WGSL, or a stale one read from the uniform, fails one check or the other).
// The same for the inference tail (+ residual, ReLU, 2x2 max pool, odd sizes). The GEMM and the
// filter transform keep their channel counts baked, so they may add pipelines.

import { describe, expect, it } from 'vitest';
import type { Gpu } from '../../src/gpu';
import { conv2d, conv2dGeometry, type Conv2dPadding } from '../../src/kernels/conv2d';
import { conv2dBackwardFilter, conv2dBackwardInput } from '../../src/kernels/conv2d-grad';
import { forwardPass, winogradConv, winogradFilter } from '../../src/kernels/winograd';
import { TOL_F32, expectClose, randn, rng, useGpu } from '../harness';
import { conv2dBackward, conv2dForward, convGeometry } from '../ref/conv';
import { maxPool2x2Forward, reluForward } from '../ref/layers';
import { tensor } from '../ref/tensor';

const gpu = useGpu();
const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const f32 = (n: number, seed: number) => Float32Array.from(randn(n, rng(seed)));
const SHARED = ['winograd.input', 'winograd.output-grad', 'winograd.inverse'];

/** Run `check` once per layer; after the first, the SHARED families must not compile a new pipeline. */
async function sharedAcrossLayers<L>(layers: L[], check: (g: Gpu, layer: L, i: number) => Promise<void>): Promise<void> {
  const g = gpu();
  await check(g, layers[0]!, 0);
  const before = g.pipelines.statistics().byFamily;
  for (let i = 1; i < layers.length; i++) await check(g, layers[i]!, i);
  const after = g.pipelines.statistics().byFamily;
  expect(SHARED.filter((f) => before[f] === undefined)).toEqual([]);
  expect(SHARED.filter((f) => after[f] !== before[f]).map((f) => `${f}: ${before[f]} -> ${after[f]}`)).toEqual([]);
}

interface Layer { x: number[]; cout: number; padding: Conv2dPadding }

describe.each([4, 2] as const)('Winograd F(%i, 3): one transform / inverse pipeline for layers of different sizes', (tile) => {
  it('forward (bias, ReLU), input gradient, filter gradient', () =>
    sharedAcrossLayers<Layer>([
      { x: [2, 9, 7, 8], cout: 12, padding: 'same' },
      { x: [1, 6, 11, 16], cout: 8, padding: 'valid' },
      { x: [3, 5, 4, 4], cout: 4, padding: { top: 2, bottom: 0, left: 0, right: 1 } },
    ], async (g, c, i) => {
      const ws = [3, 3, c.x[3]!, c.cout];
      const seed = 100 * tile + 10 * i;
      const [x, w, b] = [f32(size(c.x), seed), f32(size(ws), seed + 1), f32(c.cout, seed + 2)];
      const geo = convGeometry(c.x, ws, { padding: c.padding });
      const ys = [geo.N, geo.OH, geo.OW, c.cout];
      const dy = f32(size(ys), seed + 3);
      const opts = { padding: c.padding, algorithm: 'winograd' as const, winogradTile: tile };
      const [xT, wT, dyT] = [g.upload(x, c.x), g.upload(w, ws), g.upload(dy, ys)];
      const y = conv2d(g, xT, wT, { ...opts, bias: g.upload(b, [c.cout]), activation: 'relu' });
      const dx = conv2dBackwardInput(g, dyT, wT, c.x, opts);
      const dw = conv2dBackwardFilter(g, xT, dyT, ws, opts);
      const [yv, dxv, dwv] = await g.readMany([y, dx, dw]);
      const yRef = reluForward(conv2dForward(tensor(c.x, x), tensor(ws, w), tensor([c.cout], b), { padding: c.padding })).data;
      const ref = conv2dBackward(tensor(ys, dy), tensor(c.x, x), tensor(ws, w), { padding: c.padding });
      expectClose(yv!, yRef, TOL_F32, `y of layer ${i}`);
      expectClose(dxv!, ref.dx.data, TOL_F32, `dx of layer ${i}`);
      expectClose(dwv!, ref.dw.data, TOL_F32, `dw of layer ${i}`);
    }), 900_000);

  it('inference tail: + residual, ReLU, 2x2 max pool', () =>
    sharedAcrossLayers<Layer>([
      { x: [2, 11, 9, 8], cout: 12, padding: 'same' },
      { x: [1, 6, 13, 4], cout: 8, padding: 'same' },
    ], async (g, c, i) => {
      const ws = [3, 3, c.x[3]!, c.cout];
      const ys = [c.x[0]!, c.x[1]!, c.x[2]!, c.cout];
      const seed = 1000 + 100 * tile + 10 * i;
      const [x, w, b, res] = [f32(size(c.x), seed), f32(size(ws), seed + 1), f32(c.cout, seed + 2), f32(size(ys), seed + 3)];
      const geo = conv2dGeometry('test', c.x, ws, { padding: c.padding });
      const y = g.scope(() => winogradConv(g, forwardPass(geo), g.upload(x, c.x), winogradFilter(g, g.upload(w, ws), false, tile), {
        bias: g.upload(b, [c.cout]), residual: g.upload(res, ys), relu: true, pool: true,
      }, 'test', tile));
      const conv = conv2dForward(tensor(c.x, x), tensor(ws, w), tensor([c.cout], b), { padding: c.padding });
      const ref = maxPool2x2Forward(reluForward(tensor(ys, conv.data.map((v, k) => v + res[k]!)))).y;
      expect(y.shape).toEqual(ref.shape);
      expectClose((await g.read(y)) as Float32Array, ref.data, TOL_F32, `pooled y of layer ${i}`);
    }), 900_000);
});

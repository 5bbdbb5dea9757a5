// Shared by the 1x1 conv variant tests (conv1x1-tiled.test.ts: the tiled variants at many shapes;
// test/tune/dispatch.test.ts: every variant the tuner can choose): one 1x1 conv's forward (with bias),
// input gradient and filter gradient through the model's 'auto' calls, with variants forced per pass
// through the runtime's choice table (withVariant, as the tuner installs them), compared with the float64
// references of test/ref/conv.ts on fresh random inputs (the runtime poisons new tensors with NaN).
// Returns the pipeline keys the passes dispatched, so callers can check which kernels ran.

import { vi } from 'vitest';
import type { Gpu } from '../../src/gpu';
import { withVariant } from '../../src/gpu/choices';
import { conv2d } from '../../src/kernels/conv2d';
import { conv2dBackwardFilter, conv2dBackwardInput } from '../../src/kernels/conv2d-grad';
import type { ConvPass } from '../../src/kernels/conv-variants';
import { CONV1X1_FAMILY, conv1x1ShapeKey } from '../../src/kernels/conv1x1-tiled';
import { TOL_F32, expectClose, randn, rng } from '../harness';
import { conv2dBackward, conv2dForward } from '../ref/conv';
import { tensor } from '../ref/tensor';

/** The pipeline-key prefix of each variant's kernel per pass (the defaults: the Winograd GEMM, the direct filter gradient). */
export const CONV1X1_KEYS: Record<ConvPass, Record<string, RegExp>> = {
  forward: { lanes: /^winograd\.gemm:/, tiled8: /^conv1x1\.tiled8:/, tiled16: /^conv1x1\.tiled16:/ },
  'input-grad': { lanes: /^winograd\.gemm:/, tiled8: /^conv1x1\.dx\.tiled8:/, tiled16: /^conv1x1\.dx\.tiled16:/ },
  'filter-grad': { direct: /^conv2dBackwardFilter:/, tiled8: /^conv1x1\.dw\.tiled8:/, tiled16: /^conv1x1\.dw\.tiled16:/ },
};

/**
 * y, dx and dw of the 1x1 conv of x `xShape` to `cout` channels with `variants` forced (a pass left out
 * keeps its default), checked against the references; the pipeline keys each pass dispatched.
 */
export async function conv1x1Passes(g: Gpu, xShape: number[], cout: number, seed: number, variants: Partial<Record<ConvPass, string>>): Promise<Record<ConvPass, string[]>> {
  const [, H, W, cin] = xShape as [number, number, number, number];
  const wShape = [1, 1, cin, cout];
  const yShape = [...xShape.slice(0, 3), cout];
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const r = rng(seed);
  const [x, w, bias, dy] = [size(xShape), size(wShape), cout, size(yShape)].map((n) => Float32Array.from(randn(n, r))) as [Float32Array, Float32Array, Float32Array, Float32Array];
  const opts = { padding: 'same' as const };
  const shape = conv1x1ShapeKey(H, W, cin, cout);
  const used: Record<ConvPass, string[]> = { forward: [], 'input-grad': [], 'filter-grad': [] };
  let keys: string[] = [];
  const get = g.pipelines.get.bind(g.pipelines);
  if (vi.isMockFunction(g.pipelines.get)) throw new Error('pipelines.get is still spied on (an earlier test did not finish)');
  const spy = vi.spyOn(g.pipelines, 'get').mockImplementation((key, source, entry) => (keys.push(key), get(key, source, entry)));
  try {
    const [xT, wT, dyT, bT] = [g.upload(x, xShape), g.upload(w, wShape), g.upload(dy, yShape), g.upload(bias, [cout])];
    const pass = <T>(p: ConvPass, fn: () => T): T => {
      keys = used[p];
      const v = variants[p];
      return v === undefined ? fn() : withVariant(g, CONV1X1_FAMILY[p], shape, v, fn);
    };
    const y = pass('forward', () => conv2d(g, xT, wT, { ...opts, bias: bT }));
    const dx = pass('input-grad', () => conv2dBackwardInput(g, dyT, wT, xShape, opts));
    const dw = pass('filter-grad', () => conv2dBackwardFilter(g, xT, dyT, wShape, opts));
    const [yv, dxv, dwv] = await g.readMany([y, dx, dw]);
    const ref = conv2dBackward(tensor(yShape, dy), tensor(xShape, x), tensor(wShape, w), opts);
    const what = (p: ConvPass) => `${p} ${variants[p] ?? 'default'} x[${xShape.join(',')}] -> ${cout}`;
    expectClose(yv!, conv2dForward(tensor(xShape, x), tensor(wShape, w), tensor([cout], bias), opts).data, TOL_F32, what('forward'));
    expectClose(dxv!, ref.dx.data, TOL_F32, what('input-grad'));
    expectClose(dwv!, ref.dw.data, TOL_F32, what('filter-grad'));
  } finally {
    spy.mockRestore();
  }
  return used;
}

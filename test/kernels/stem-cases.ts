// Shared by the stem conv variant tests (stem-tiled.test.ts: the tiled variants at many shapes;
// test/tune/dispatch.test.ts: every variant the tuner can choose): one stem conv (Cin = 1, 3x3,
// stride 1) forward through conv2d()'s 'auto' call and its filter gradient through
// conv2dBackwardFilter's, with variants forced per pass through the runtime's choice table (withVariant,
// as the tuner installs them; a pass left out keeps what is installed), compared with the float64
// references of test/ref/conv.ts on fresh random inputs (the runtime poisons new tensors with NaN, so an
// unwritten output element fails). Returns the pipeline keys each pass dispatched.

import { expect, vi } from 'vitest';
import type { Gpu } from '../../src/gpu';
import { withVariant } from '../../src/gpu/choices';
import { conv2d, conv2dGeometry } from '../../src/kernels/conv2d';
import { conv2dBackwardFilter } from '../../src/kernels/conv2d-grad';
import { STEM_FAMILY, type StemPass, stemShapeKey } from '../../src/kernels/stem-tiled';
import { TOL_F32, expectClose, randn, rng } from '../harness';
import { conv2dBackward, conv2dForward } from '../ref/conv';
import { tensor } from '../ref/tensor';

/** The pipeline-key prefix of each variant's kernel per pass (the defaults: conv2d.ts's gather kernel, conv2d-grad.ts's direct kernel). */
export const STEM_KEYS: Record<StemPass, Record<string, RegExp>> = {
  forward: { gather: /^conv2d:forward:/, tile16x16: /^stem\.forward\.tile16x16:/, tile8x32: /^stem\.forward\.tile8x32:/ },
  'filter-grad': { direct: /^conv2dBackwardFilter:/, tile16x16: /^stem\.filter-grad\.tile16x16:/, tile8x32: /^stem\.filter-grad\.tile8x32:/ },
};

export interface StemCall {
  padding: 'same' | 'valid';
  bias: boolean;
  relu: boolean;
}

/**
 * y and dw of the stem conv of x `xShape` ([N, H, W, 1]) to `cout` channels with `variants` forced,
 * checked against the references; the pipeline keys each pass dispatched.
 */
export async function stemPasses(g: Gpu, xShape: number[], cout: number, seed: number, variants: Partial<Record<StemPass, string>>, call: StemCall = { padding: 'same', bias: true, relu: false }): Promise<Record<StemPass, string[]>> {
  const wShape = [3, 3, 1, cout];
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const opts = { padding: call.padding };
  const geometry = conv2dGeometry('test', xShape, wShape, opts);
  const yShape = [geometry.N, geometry.Ho, geometry.Wo, cout];
  const r = rng(seed);
  const [x, w, b, dy] = [size(xShape), size(wShape), cout, size(yShape)].map((n) => Float32Array.from(randn(n, r))) as [Float32Array, Float32Array, Float32Array, Float32Array];
  const used: Record<StemPass, string[]> = { forward: [], 'filter-grad': [] };
  let keys: string[] = [];
  const get = g.pipelines.get.bind(g.pipelines);
  if (vi.isMockFunction(g.pipelines.get)) throw new Error('pipelines.get is still spied on (an earlier test did not finish)');
  const spy = vi.spyOn(g.pipelines, 'get').mockImplementation((key, source, entry) => (keys.push(key), get(key, source, entry)));
  try {
    const [xT, wT, bT, dyT] = [g.upload(x, xShape), g.upload(w, wShape), g.upload(b, [cout]), g.upload(dy, yShape)];
    const pass = <T>(p: StemPass, fn: () => T): T => {
      keys = used[p];
      const v = variants[p];
      return v === undefined ? fn() : withVariant(g, STEM_FAMILY[p], stemShapeKey(geometry), v, fn);
    };
    const y = pass('forward', () => conv2d(g, xT, wT, { ...opts, bias: call.bias ? bT : undefined, activation: call.relu ? 'relu' : 'none' }));
    const dw = pass('filter-grad', () => conv2dBackwardFilter(g, xT, dyT, wShape, opts));
    const yRef = conv2dForward(tensor(xShape, x), tensor(wShape, w), call.bias ? tensor([cout], b) : null, opts).data;
    if (call.relu) yRef.forEach((v, i) => (yRef[i] = Math.max(v, 0)));
    const dwRef = conv2dBackward(tensor(yShape, dy), tensor(xShape, x), tensor(wShape, w), opts).dw.data;
    expect(y.shape).toEqual(yShape);
    expect(dw.shape).toEqual(wShape);
    const [yv, dwv] = await g.readMany([y, dw]);
    const what = (p: StemPass) => `stem ${p} ${variants[p] ?? 'default'} x[${xShape.join(',')}] -> ${cout} ${JSON.stringify(call)}`;
    expectClose(yv!, yRef, TOL_F32, what('forward'));
    expectClose(dwv!, dwRef, TOL_F32, what('filter-grad'));
    [xT, wT, bT, dyT, y, dw].forEach((t) => t.dispose());
  } finally {
    spy.mockRestore();
  }
  return used;
}

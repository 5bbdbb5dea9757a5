// Shared by the stem conv variant tests (stem-tiled.test.ts: the tiled variants at many shapes;
// test/tune/dispatch.test.ts: every variant the tuner can choose): one stem conv forward (Cin = 1, 3x3,
// stride 1) through conv2d()'s 'auto' call with a variant forced through the runtime's choice table
// (withVariant, as the tuner installs it; undefined: nothing installed), compared with the float64
// reference of test/ref/conv.ts on fresh random inputs (the runtime poisons new tensors with NaN, so an
// unwritten output element fails). Returns the pipeline keys the call dispatched.

import { expect, vi } from 'vitest';
import type { Gpu } from '../../src/gpu';
import { withVariant } from '../../src/gpu/choices';
import { conv2d, conv2dGeometry } from '../../src/kernels/conv2d';
import { STEM_FORWARD_FAMILY, stemShapeKey } from '../../src/kernels/stem-tiled';
import { TOL_F32, expectClose, randn, rng } from '../harness';
import { conv2dForward } from '../ref/conv';
import { tensor } from '../ref/tensor';

/** The pipeline-key prefix of each variant's kernel (the default: the gather kernel of conv2d.ts). */
export const STEM_KEYS: Record<string, RegExp> = { gather: /^conv2d:forward:/, tile16x16: /^stem\.forward\.tile16x16:/, tile8x32: /^stem\.forward\.tile8x32:/ };

export interface StemCall {
  padding: 'same' | 'valid';
  bias: boolean;
  relu: boolean;
}

/** y of the stem conv of x `xShape` ([N, H, W, 1]) to `cout` channels with `variant` forced; the pipeline keys dispatched. */
export async function stemForward(g: Gpu, xShape: number[], cout: number, seed: number, variant: string | undefined, call: StemCall = { padding: 'same', bias: true, relu: false }): Promise<string[]> {
  const wShape = [3, 3, 1, cout];
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const r = rng(seed);
  const [x, w, b] = [size(xShape), size(wShape), cout].map((n) => Float32Array.from(randn(n, r))) as [Float32Array, Float32Array, Float32Array];
  const opts = { padding: call.padding };
  const geometry = conv2dGeometry('test', xShape, wShape, opts);
  const keys: string[] = [];
  const get = g.pipelines.get.bind(g.pipelines);
  if (vi.isMockFunction(g.pipelines.get)) throw new Error('pipelines.get is still spied on (an earlier test did not finish)');
  const spy = vi.spyOn(g.pipelines, 'get').mockImplementation((key, source, entry) => (keys.push(key), get(key, source, entry)));
  try {
    const [xT, wT, bT] = [g.upload(x, xShape), g.upload(w, wShape), g.upload(b, [cout])];
    const run = () => conv2d(g, xT, wT, { ...opts, bias: call.bias ? bT : undefined, activation: call.relu ? 'relu' : 'none' });
    const y = variant === undefined ? run() : withVariant(g, STEM_FORWARD_FAMILY, stemShapeKey(geometry), variant, run);
    const ref = conv2dForward(tensor(xShape, x), tensor(wShape, w), call.bias ? tensor([cout], b) : null, opts).data;
    if (call.relu) ref.forEach((v, i) => (ref[i] = Math.max(v, 0)));
    expect(y.shape).toEqual([geometry.N, geometry.Ho, geometry.Wo, cout]);
    expectClose((await g.read(y))!, ref, TOL_F32, `stem ${variant ?? 'default'} x[${xShape.join(',')}] -> ${cout} ${JSON.stringify(call)}`);
    [xT, wT, bT, y].forEach((t) => t.dispose());
  } finally {
    spy.mockRestore();
  }
  return keys;
}

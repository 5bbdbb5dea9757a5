// Compiling ahead by dispatch (gpu/compile-ahead.ts, train/loop/compile-ahead.node.ts): every distinct
// traced pipeline is dispatched exactly once (one workgroup), shared between devices; it is on where
// SER_COMPILE_AHEAD asks for it ('auto': where the adapter compiles at first dispatch, lavapipe).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DispatchSpec, Gpu } from '../../src/gpu';
import { compilesAtFirstDispatch, dispatchEachOnce } from '../../src/gpu/compile-ahead';
import { createNodeGpu } from '../../src/gpu/node.node.ts';
import { add, mul } from '../../src/kernels/elementwise';
import { compileAheadDevices } from '../../src/train/loop/compile-ahead.node.ts';
import { useGpu } from '../harness';

const gpu = useGpu();
let helper: Gpu;
beforeAll(async () => {
  helper = await createNodeGpu({ poison: true });
});
afterAll(() => helper.destroy());

const LAVAPIPE = { vendor: 'mesa', architecture: 'software', device: 'llvmpipe-llvm-15-0-6-256-bits-', description: 'llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)' };
const NVIDIA = { vendor: 'nvidia', architecture: 'ampere', device: '', description: 'NVIDIA GeForce RTX 3080' };
const fake = (adapter: typeof LAVAPIPE) => ({ adapter }) as unknown as Gpu;

/** Record what `g` dispatches (code and workgroups) while still dispatching it. */
function spy(g: Gpu): { code: string; workgroups: DispatchSpec["workgroups"] }[] {
  const seen: { code: string; workgroups: DispatchSpec["workgroups"] }[] = [];
  const dispatch = g.dispatch.bind(g);
  g.dispatch = (spec: DispatchSpec) => {
    seen.push({ code: spec.code(), workgroups: spec.workgroups });
    dispatch(spec);
  };
  return seen;
}

describe('compile ahead by dispatch', () => {
  it('is off unless SER_COMPILE_AHEAD asks; auto is on for lavapipe only', () => {
    expect(compilesAtFirstDispatch(LAVAPIPE)).toBe(true);
    expect(compilesAtFirstDispatch(NVIDIA)).toBe(false);
    expect(compileAheadDevices(fake(LAVAPIPE), undefined, 2)).toBe(0);
    expect(compileAheadDevices(fake(LAVAPIPE), '', 2)).toBe(0);
    expect(compileAheadDevices(fake(LAVAPIPE), 'auto', 2)).toBe(2);
    expect(compileAheadDevices(fake(LAVAPIPE), 'auto', 64)).toBe(4);
    expect(compileAheadDevices(fake(NVIDIA), 'auto', 2)).toBe(0);
    expect(compileAheadDevices(fake(LAVAPIPE), '0', 2)).toBe(0);
    expect(compileAheadDevices(fake(NVIDIA), '3', 2)).toBe(3);
    expect(() => compileAheadDevices(fake(LAVAPIPE), 'yes', 2)).toThrow(/SER_COMPILE_AHEAD.*'yes'/);
  });

  it('dispatches every distinct traced pipeline once, with one workgroup, shared between two devices', async () => {
    const devices = [gpu(), helper];
    const traces = devices.map((g) => {
      const a = g.upload([1, 2, 3, 4, 5, 6, 7, 8], [8]);
      const out = g.trace(() => {
        const s = add(g, a, a);
        mul(g, s, a);
        add(g, a, s); // the same pipeline again: dispatched once
      });
      return { gpu: g, dispatches: out, keep: a };
    });
    const distinct = new Set(traces[0]!.dispatches.map((d) => d.code()));
    expect(traces[0]!.dispatches.length).toBeGreaterThan(distinct.size);
    const seen = devices.map(spy);
    const done = await dispatchEachOnce(traces);
    expect(done.pipelines).toBe(distinct.size);
    expect(done.perDevice.map((n) => n > 0), 'both devices took some').toEqual([true, true]);
    const all = seen.flat();
    expect(all.map((d) => d.code).sort()).toEqual([...distinct].sort());
    expect(all.every((d) => d.workgroups.join() === '1,1,1')).toBe(true);
    expect(done.perDevice).toEqual(seen.map((s) => s.length));
    traces.forEach((t) => t.keep.dispose());
  });
});

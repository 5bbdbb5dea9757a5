// The runtime: real adapter, round trips, tensor lifetime, pool reuse and its submit rule, batching of
// dispatches into one submit, poisoning on demand (poisoned()), the pipeline cache, scopes, clear
// errors, limits and GPU timing.

import { describe, expect, it } from 'vitest';
import { DisposedError, GpuError, LimitError, ShapeError, Tensor } from '../../src/gpu';
import { createNodeGpu } from '../../src/gpu/node.node.ts';
import { BufferUsage } from '../../src/gpu/usage';
import { add, relu, scale } from '../../src/kernels/elementwise';
import { useGpu } from '../harness';

const gpu = useGpu();

describe('device', () => {
  it('is a real adapter that computes (never Dawn\'s null backend)', async () => {
    const g = gpu();
    expect(g.adapter.vendor.length + g.adapter.description.length).toBeGreaterThan(0);
    const y = add(g, g.upload([1, 2, 3], [3]), g.upload([10, 20, 30], [3]));
    expect(Array.from(await y.read())).toEqual([11, 22, 33]);
  });

  it('raises the limits the kernels need to the adapter maximum', () => {
    const g = gpu();
    expect(g.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 1024 * 1024);
    expect(g.limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
  });
});

describe('tensors', () => {
  it('round-trip f32, i32 and u32 data exactly', async () => {
    const g = gpu();
    const f = g.upload([1.5, -2.25, 3e-8], [3]);
    const i = g.upload([-7, 0, 2147483647], [3], 'i32');
    const u = g.upload([0, 1, 4294967295], [3], 'u32');
    const [rf, ri, ru] = await g.readMany([f, i, u]);
    expect(rf).toEqual(Float32Array.from([1.5, -2.25, 3e-8]));
    expect(ri).toEqual(Int32Array.from([-7, 0, 2147483647]));
    expect(ru).toEqual(Uint32Array.from([0, 1, 4294967295]));
  });

  it('start as NaN in a poisoned runtime, so unwritten elements are caught', async () => {
    const g = gpu();
    const t = g.empty([5]);
    expect(Array.from(await t.read()).every(Number.isNaN)).toBe(true);
  });

  it('start as NaN inside poisoned() on a runtime that does not poison, and only there', async () => {
    const g = await createNodeGpu();
    try {
      const fills = () => g.counters.dispatches;
      const before = fills();
      const t = g.poisoned(() => g.empty([4]));
      expect(fills()).toBe(before + 1);
      expect(Array.from(await t.read()).every(Number.isNaN)).toBe(true);
      const after = fills();
      g.empty([4]);
      expect(fills()).toBe(after); // outside poisoned(): no fill
    } finally {
      g.destroy();
    }
  });

  it('are poisoned by one fill pipeline whatever their size, a two-dimensional grid included', async () => {
    const g = gpu();
    // Past 65535 workgroups of 256 the fill runs on a second grid row (the stride comes from num_workgroups).
    const sizes = [3, 1000, 65_535 * 256 + 300];
    const tensors = sizes.map((n) => g.empty([n]));
    const values = await g.readMany(tensors);
    values.forEach((v, i) => {
      const firstWritten = v!.findIndex((x) => !Number.isNaN(x));
      expect(firstWritten, `tensor of ${sizes[i]} elements: element ${firstWritten} not poisoned`).toBe(-1);
    });
    expect(g.pipelines.keys().filter((k) => k.startsWith('fill:'))).toHaveLength(1);
  });

  it('zeros() really is zero', async () => {
    const g = gpu();
    expect(Array.from(await g.zeros([9]).read())).toEqual(new Array(9).fill(0));
  });

  it('reshape shares the buffer; it returns to the pool only when the last view is disposed', () => {
    const g = gpu();
    const before = g.poolStats().inUseBytes;
    const a = g.zeros([4, 6]);
    const v = a.reshape([24]);
    expect(v.buffer).toBe(a.buffer);
    a.dispose();
    expect(g.poolStats().inUseBytes).toBeGreaterThan(before);
    v.dispose();
    expect(g.poolStats().inUseBytes).toBe(before);
  });

  it('use after dispose names the tensor and its shape', () => {
    const g = gpu();
    const t = g.zeros([2, 3], 'f32', 'weights');
    t.dispose();
    expect(() => relu(g, t)).toThrow(DisposedError);
    expect(() => relu(g, t)).toThrow(/tensor 'weights' \[2, 3\] was used after dispose\(\)/);
  });

  it('refuses bad shapes, lengths and typed arrays of another dtype', () => {
    const g = gpu();
    expect(() => g.upload([1, 2, 3], [2, 2])).toThrow(/3 values do not fill shape \[2, 2\]/);
    expect(() => g.empty([3, 0])).toThrow(ShapeError);
    expect(() => g.empty([2.5])).toThrow(/must be a list of positive integers/);
    expect(() => g.upload(new Float32Array(2), [2], 'i32')).toThrow(/got a Float32Array for a i32 tensor/);
    expect(() => g.zeros([6]).reshape([4])).toThrow(/\[6\] has 6 elements, \[4\] has 4/);
  });

  it('refuses tensors beyond the device storage limit before touching the GPU', () => {
    const g = gpu();
    const n = Math.floor(g.pool.maxBytes / 4) + 1024;
    expect(() => g.empty([n], 'f32', 'huge')).toThrow(LimitError);
    expect(() => g.empty([n], 'f32', 'huge')).toThrow(/huge: f32\[\d+\] needs \d+ bytes, above this device's storage buffer limit/);
  });
});

describe('buffer pool', () => {
  it('reuses buffers by size class: a create/dispose loop creates no new buffers after the first round', async () => {
    const g = gpu();
    const x = g.upload(new Float32Array(1000).fill(1), [1000]);
    const round = async () => {
      const y = g.scope(() => relu(g, scale(g, x, 2)));
      await y.read();
      y.dispose();
    };
    // Two warm-up rounds: the last output of a round is released after its submit, so it becomes
    // reusable only one round later.
    await round();
    await round();
    const created = g.poolStats().created;
    for (let i = 0; i < 20; i++) await round();
    expect(g.poolStats().created).toBe(created);
  });

  it('never hands out a buffer that an unsubmitted command may still read', async () => {
    const g = gpu();
    const a = g.upload([-1, 2, -3, 4], [4]);
    const buf = a.buffer;
    const r = relu(g, a); // recorded, not submitted
    a.dispose();
    const b = g.upload([100, 100, 100, 100], [4]); // same size class
    expect(b.buffer).not.toBe(buf);
    expect(Array.from(await r.read())).toEqual([0, 2, 0, 4]);
    // After that submit the released buffer is reusable.
    const c = g.empty([4]);
    const d = g.empty([4]);
    expect([c.buffer, d.buffer]).toContain(buf);
  });

  it('keeps memory flat over many steps of create, compute, dispose, submit', async () => {
    const g = gpu();
    const x = g.upload(new Float32Array(4096).fill(0.5), [4096]);
    const step = () => {
      g.scope(() => add(g, relu(g, x), scale(g, x, 3)).dispose());
      g.flush();
    };
    for (let i = 0; i < 5; i++) step();
    await g.sync();
    const base = g.poolStats().allocatedBytes;
    for (let i = 0; i < 200; i++) step();
    await g.sync();
    expect(g.poolStats().allocatedBytes).toBe(base);
  });

  it('submits early rather than letting buffers released without a submit pile up', () => {
    const g = gpu();
    g.flush();
    const s0 = g.counters.submits;
    const x = g.zeros([1 << 20]); // 4 MiB
    for (let i = 0; i < 40; i++) relu(g, x).dispose(); // 160 MiB released, never read back
    expect(g.counters.submits).toBeGreaterThan(s0);
    expect(g.poolStats().pendingBytes).toBeLessThanOrEqual(64 * 1024 * 1024);
  });
});

describe('recording', () => {
  it('batches many dispatches into a single submit, flushed by the readback', async () => {
    const g = gpu();
    await g.sync();
    const s0 = g.counters.submits;
    const d0 = g.counters.dispatches;
    let x = g.upload([1, -2, 3], [3]);
    for (let i = 0; i < 50; i++) x = scale(g, relu(g, x), 1);
    expect(g.counters.submits).toBe(s0 + 1); // the upload's write flushed once before the loop
    expect(Array.from(await x.read())).toEqual([1, 0, 3]);
    expect(g.counters.dispatches - d0).toBeGreaterThanOrEqual(100);
    expect(g.counters.submits).toBe(s0 + 2);
  });

  it('compiles each kernel specialisation once (pipeline cache)', () => {
    const g = gpu();
    const a = g.zeros([333]);
    relu(g, a);
    const compiled = g.pipelines.compiled;
    relu(g, a);
    relu(g, g.zeros([333]));
    expect(g.pipelines.compiled).toBe(compiled);
    // The size is read at run time (kernels/shape-params.ts): another size is the same kernel; a
    // factor no other test uses (baked into scale's WGSL) is another specialisation.
    relu(g, g.zeros([334]));
    expect(g.pipelines.compiled).toBe(compiled);
    scale(g, g.zeros([334]), 0.8046875);
    expect(g.pipelines.compiled).toBe(compiled + 1);
  });

  it('reports WGSL compile errors with the kernel name and line', async () => {
    const g = gpu();
    const bad = '@compute @workgroup_size(1)\nfn main() {\n  let x: f32 = vec4f(1.0);\n}';
    await expect(g.pipelines.check('badKernel', bad)).rejects.toThrow(/kernel badKernel does not compile:\n  line 3: .*\n    let x: f32 = vec4f\(1.0\);/);
  });

  it('turns an asynchronous device error into an exception naming the kernels that ran', async () => {
    const g = gpu();
    // A buffer without STORAGE usage bound as storage: invalid, reported asynchronously by the device.
    const raw = g.device.createBuffer({ size: 16, usage: BufferUsage.COPY_DST });
    g.dispatch({
      name: 'misbound',
      key: 'misbound',
      code: () => '@group(0) @binding(0) var<storage, read_write> o: array<f32>;\n@compute @workgroup_size(1) fn main() { o[0] = 1.0; }',
      bindings: [raw],
      workgroups: [1],
    });
    await expect(g.sync()).rejects.toThrow(GpuError);
    raw.destroy();
    // The runtime stays usable afterwards.
    expect(Array.from(await relu(g, g.upload([-1, 1], [2])).read())).toEqual([0, 1]);
  });

  it('refuses a dispatch beyond the per-dimension workgroup limit', () => {
    const g = gpu();
    const t = g.zeros([1]);
    const spec = { name: 'wide', key: 'wide', code: () => '', bindings: [t], workgroups: [g.limits.maxComputeWorkgroupsPerDimension + 1] as const };
    expect(() => g.dispatch(spec)).toThrow(/wide: dispatch of \d+x1x1 workgroups exceeds/);
  });
});

describe('scopes', () => {
  it('dispose intermediates and keep what the function returns', () => {
    const g = gpu();
    const x = g.zeros([8]);
    let inner: Tensor | undefined;
    const y = g.scope(() => {
      inner = relu(g, x);
      return scale(g, inner, 2);
    });
    expect(inner!.disposed).toBe(true);
    expect(y.disposed).toBe(false);
    expect(x.disposed).toBe(false);
  });

  it('nest, with kept tensors moving to the enclosing scope', () => {
    const g = gpu();
    const x = g.zeros([8]);
    let kept: Tensor | undefined;
    g.scope(() => {
      g.scope(() => {
        kept = g.scopes.keep(relu(g, x));
      });
      expect(kept!.disposed).toBe(false);
    });
    expect(kept!.disposed).toBe(true);
  });

  it('clean up when the function throws, and refuse async functions', () => {
    const g = gpu();
    const x = g.zeros([8]);
    let t: Tensor | undefined;
    expect(() =>
      g.scope(() => {
        t = relu(g, x);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(t!.disposed).toBe(true);
    expect(() => g.scope(async () => 1)).toThrow(/returned a Promise/);
    expect(g.scopes.depth).toBe(0);
  });
});

describe('timing', () => {
  it('times every dispatch with timestamp queries when profiling', async () => {
    const g = await createNodeGpu({ profile: true });
    try {
      const x = g.upload(new Float32Array(1 << 16).fill(1), [1 << 16]);
      relu(g, scale(g, x, 2));
      const times = await g.timings();
      expect(times.map((t) => t.name)).toEqual(['scale', 'relu']);
      for (const t of times) expect(t.ms).toBeGreaterThanOrEqual(0);
      expect(times.some((t) => t.ms > 0)).toBe(true);
    } finally {
      g.destroy();
    }
  });
});

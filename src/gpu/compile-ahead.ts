// Forcing the driver's machine-code compile ahead of use. lavapipe (Mesa's software Vulkan, llvmpipe)
// runs only Tint and NIR at createComputePipeline(Async); the LLVM compile of a compute shader happens
// at its first dispatch, in the thread that executes that device's queue, so one device compiles one
// pipeline at a time, whatever createComputePipelineAsync promised (bench/RESULTS.md, 2026-12-07).
// dispatchEachOnce() therefore dispatches each distinct pipeline once, with one workgroup and the
// bindings a trace gave it (Gpu.trace: real buffers of throwaway tensors, so the output is garbage in
// buffers nobody reads), and waits for it; given more than one device, each takes the next pipeline
// from one shared queue (first-use order), so their queue threads compile in parallel. The machine code
// lands in Mesa's disk cache, shared by every device and process, so the device that trains finds
// there what another device compiled. compilesAtFirstDispatch() says where this is worth doing.
// Browser-safe.

import type { AdapterSummary } from './adapter';
import type { DispatchSpec, Gpu } from './runtime';

/**
 * Whether the adapter compiles a pipeline's machine code at its first dispatch: Mesa's lavapipe
 * (llvmpipe). Other adapters (hardware drivers, SwiftShader) compile at pipeline creation, where
 * PipelineCache.prepare already runs in parallel.
 */
export function compilesAtFirstDispatch(adapter: Pick<AdapterSummary, 'vendor' | 'architecture' | 'device' | 'description'>): boolean {
  return /llvmpipe|lavapipe/i.test(`${adapter.vendor} ${adapter.architecture} ${adapter.device} ${adapter.description}`);
}

/** One device's part in dispatchEachOnce: the device and the dispatches a trace of the work gave on it. */
export interface WarmDevice {
  gpu: Gpu;
  dispatches: readonly DispatchSpec[];
}

export interface DispatchedOnce {
  /** Distinct pipelines dispatched (distinct WGSL of the first device's dispatches). */
  pipelines: number;
  /** How many each device dispatched, in the order given. */
  perDevice: number[];
}

/**
 * Dispatch every distinct pipeline of `devices[0].dispatches` once (one workgroup), in first-use order,
 * each device taking the next one from a shared queue as soon as its last one finished. A device whose
 * own trace lacks a pipeline (another kernel choice) leaves it to the others; the first device can run
 * all. Pipelines come from each device's cache (prepared ahead, or created here).
 */
export async function dispatchEachOnce(devices: readonly WarmDevice[]): Promise<DispatchedOnce> {
  if (devices.length === 0) return { pipelines: 0, perDevice: [] };
  const byCode = devices.map(({ dispatches }) => {
    const first = new Map<string, DispatchSpec>();
    const keys = new Set<string>(); // a key determines the WGSL: generate each key's once
    for (const d of dispatches) {
      if (keys.has(d.key)) continue;
      keys.add(d.key);
      const code = d.code();
      if (!first.has(code)) first.set(code, d);
    }
    return first;
  });
  const queue = [...byCode[0]!.keys()];
  const total = queue.length;
  const perDevice = devices.map(() => 0);
  const work = async (i: number): Promise<void> => {
    const { gpu } = devices[i]!;
    for (;;) {
      const at = queue.findIndex((code) => byCode[i]!.has(code));
      if (at < 0) return;
      const [code] = queue.splice(at, 1);
      const spec = byCode[i]!.get(code!)!;
      gpu.dispatch({ ...spec, code: () => code!, workgroups: [1, 1, 1] });
      perDevice[i]!++;
      await gpu.sync();
    }
  };
  await Promise.all(devices.map((_, i) => work(i)));
  return { pipelines: total, perDevice };
}

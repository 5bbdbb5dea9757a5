// Browser entry point of the runtime: navigator.gpu, with messages for a browser's user when there is
// no WebGPU at all or no adapter behind it.

import { NoAdapterError } from './errors';
import { Gpu, type GpuOptions } from './runtime';

export async function createBrowserGpu(options: GpuOptions = {}): Promise<Gpu> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) throw new NoAdapterError('This browser has no WebGPU (navigator.gpu is missing): use a current Chrome, Edge or Firefox with WebGPU enabled.');
  try {
    return await Gpu.create(gpu, options);
  } catch (e) {
    if (!(e instanceof NoAdapterError)) throw e;
    throw new NoAdapterError(
      'This browser has WebGPU but no adapter for it (a blocklisted or missing GPU driver; Chromium without a GPU needs --enable-unsafe-webgpu): see chrome://gpu, or use another browser.',
    );
  }
}

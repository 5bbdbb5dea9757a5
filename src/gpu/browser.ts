// Browser entry point of the runtime: navigator.gpu.

import { NoAdapterError } from './errors';
import { Gpu, type GpuOptions } from './runtime';

export async function createBrowserGpu(options: GpuOptions = {}): Promise<Gpu> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) throw new NoAdapterError('This browser has no WebGPU (navigator.gpu is missing): use a current Chrome, Edge or Firefox with WebGPU enabled.');
  return Gpu.create(gpu, options);
}

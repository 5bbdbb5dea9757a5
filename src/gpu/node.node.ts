// Node entry point of the runtime: Dawn through the `webgpu` package. The instance that create()
// returns is held by the Gpu for the device's lifetime (Dawn crashes if it is garbage-collected first).

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, globals } from 'webgpu';
import { Gpu, type GpuOptions } from './runtime';

let globalsInstalled = false;

export async function createNodeGpu(options: GpuOptions = {}): Promise<Gpu> {
  if (!globalsInstalled) {
    Object.assign(globalThis, globals);
    globalsInstalled = true;
  }
  // Dawn's Vulkan loader warns when this is unset; a private folder silences it.
  process.env.XDG_RUNTIME_DIR ??= mkdtempSync(join(tmpdir(), 'ser-xdg-'));
  const instance = create([]);
  return Gpu.create(instance, options, instance);
}

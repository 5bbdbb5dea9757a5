// A node runtime with this adapter's kernel choices applied: createNodeGpu (src/gpu/, which knows
// nothing of the tuner), then the tuning mode — the caller's, else SER_TUNE, else the process default
// (mode.node.ts: 'off' for the library, 'cached' once a `ser` command that trains or infers set it) —
// applied with the cache file (node.node.ts). The CLI commands, the bench and the scripts create their
// runtimes here; tests use createNodeGpu and see the built-in kernels. The tuner is loaded only when
// the mode is not 'off'.

import type { Gpu } from '../gpu';
import { type NodeGpuOptions, createNodeGpu } from '../gpu/node.node.ts';
import { resolveTuneMode } from './mode.node.ts';
import type { TuneMode } from './tuner';

export interface TunedNodeGpuOptions extends NodeGpuOptions {
  /** 'off': built-in kernel defaults; 'cached': this adapter's stored choices; 'auto': measure what is missing first. */
  tune?: TuneMode;
}

export async function createTunedNodeGpu(options: TunedNodeGpuOptions = {}): Promise<Gpu> {
  const { tune, ...gpuOptions } = options;
  // Resolved first: a bad SER_TUNE is reported before any device is made.
  const mode = resolveTuneMode(tune);
  const gpu = await createNodeGpu(gpuOptions);
  if (mode !== 'off') {
    const { applyNodeTuning } = await import('./node.node.ts');
    await applyNodeTuning(gpu, mode);
  }
  return gpu;
}

// `ser info`: the adapter, its features and the limits the runtime requested.

import type { Command } from 'commander';
import { WANTED_LIMITS } from '../gpu/adapter';

// The limits the runtime raises to the adapter's maximum, and the dispatch size every kernel checks.
const SHOWN_LIMITS = [...WANTED_LIMITS, 'maxComputeWorkgroupsPerDimension'] as const;

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('print the WebGPU adapter, its features and the device limits in use')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const { createTunedNodeGpu } = await import('../tune/runtime.node.ts');
      const gpu = await createTunedNodeGpu();
      try {
        const limits = Object.fromEntries(SHOWN_LIMITS.map((k) => [k, gpu.limits[k]]));
        const features = gpu.adapter.features;
        if (opts.json) {
          console.log(JSON.stringify({ adapter: gpu.adapter, limits }, null, 2));
          return;
        }
        const a = gpu.adapter;
        console.log(`adapter:  ${[a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' | ')}`);
        console.log(`fallback: ${a.isFallbackAdapter ? 'yes (software)' : 'no'}`);
        console.log(`features: ${features.join(', ') || '(none)'}`);
        console.log(`enabled:  ${[...gpu.device.features].sort().join(', ')}`);
        console.log('limits:');
        for (const [k, v] of Object.entries(limits)) console.log(`  ${k.padEnd(36)} ${v}`);
      } finally {
        gpu.destroy();
      }
    });
}

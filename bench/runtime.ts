// The runtime's fixed costs, which bound every small kernel: a sync with nothing to do, one tiny
// dispatch and its sync, 100 tiny dispatches in one submit (per-dispatch recording cost), and the
// transfers of one training batch (32 x 82 x 64 float32 inputs, 672 KiB): upload, and readback.

import type { BenchCase } from './harness';
import { BATCH } from './util';

const INPUT = [BATCH, 82, 64, 1];
const INPUT_BYTES = BATCH * 82 * 64 * 4;

export function runtimeCases(): BenchCase[] {
  return [
    {
      group: 'runtime',
      name: 'sync with nothing recorded',
      setup: () => ({ run: () => {}, dispose: () => {} }),
    },
    {
      group: 'runtime',
      name: 'one 4-element dispatch + sync',
      setup(gpu) {
        const t = gpu.zeros([4]);
        return { run: () => gpu.fillBits(t, 0), dispose: () => t.dispose() };
      },
    },
    {
      group: 'runtime',
      name: '100 4-element dispatches in one submit',
      items: { count: 100, unit: 'dispatches' },
      setup(gpu) {
        const t = gpu.zeros([4]);
        return { run: () => { for (let i = 0; i < 100; i++) gpu.fillBits(t, i); }, dispose: () => t.dispose() };
      },
    },
    {
      group: 'runtime',
      name: `upload of a ${INPUT.join('x')} input batch`,
      bytes: INPUT_BYTES,
      setup(gpu) {
        const data = new Float32Array(INPUT_BYTES / 4).fill(0.5);
        return { run: () => gpu.upload(data, INPUT).dispose(), dispose: () => {} };
      },
    },
    {
      group: 'runtime',
      name: `readback of a ${INPUT.join('x')} tensor`,
      bytes: INPUT_BYTES,
      setup(gpu) {
        const t = gpu.zeros(INPUT);
        return { run: async () => void (await gpu.read(t)), dispose: () => t.dispose() };
      },
    },
  ];
}

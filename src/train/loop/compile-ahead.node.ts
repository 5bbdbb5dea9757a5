// Node side of compiling a run's pipelines ahead by dispatch (gpu/compile-ahead.ts, warmup.ts): whether
// to, and on how many devices. On an adapter that compiles at first dispatch (lavapipe), one device
// compiles one pipeline at a time, so helper devices on the same adapter (each its own Dawn instance,
// with the training runtime's options and kernel choices) take a share, one per further core; the
// machine code they compile reaches the training device through Mesa's disk cache.
// SER_COMPILE_AHEAD: unset or 0 = off (the default: on an idle 2-core machine it did not shorten a cold
// `npm run train` once the Winograd kernels compiled fast: 225 s with it, 220 s without; bench/RESULTS.md);
// 'auto' = on where the adapter compiles at first dispatch, one device per core (at most 4);
// N >= 1 = on with N devices in all (the training device and N - 1 helpers).

import { availableParallelism } from 'node:os';
import type { Gpu } from '../../gpu';
import { choicesOf, setChoices } from '../../gpu/choices';
import { compilesAtFirstDispatch } from '../../gpu/compile-ahead';
import { createNodeGpu } from '../../gpu/node.node.ts';

/** Devices to compile ahead on (0: off) for this runtime, from SER_COMPILE_AHEAD (see the header). */
export function compileAheadDevices(gpu: Gpu, setting: string | undefined = process.env.SER_COMPILE_AHEAD, cores = availableParallelism()): number {
  if (setting === undefined || setting === '') return 0;
  if (setting === 'auto') return compilesAtFirstDispatch(gpu.adapter) ? Math.max(1, Math.min(cores, 4)) : 0;
  const n = Number(setting);
  if (!Number.isInteger(n) || n < 0 || n > 16) throw new RangeError(`SER_COMPILE_AHEAD must be 0 (off), 'auto' or a number of devices from 1 to 16, got '${setting}'`);
  return n;
}

/** `count` more runtimes on the same kind of adapter as `gpu`, with its options and kernel choices. */
export async function openHelperDevices(gpu: Gpu, count: number): Promise<Gpu[]> {
  const helpers: Gpu[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const h = await createNodeGpu(gpu.options);
      helpers.push(h);
      const table = choicesOf(gpu);
      if (table) setChoices(h, table);
    }
    return helpers;
  } catch (e) {
    helpers.forEach((h) => h.destroy());
    throw e;
  }
}

// Tuning on node: the mode (mode.node.ts) applied to a new runtime with the cache file (store.node.ts).
// 'auto' measures what the cache lacks within SER_TUNE_BUDGET seconds (default 120), with progress on
// stderr; samples time the process CPU on software adapters (clockFor). A failure while tuning is reported and the built-in defaults stay: tuning never stops a command.

import type { Gpu } from '../gpu';
import { fileStore } from './store.node.ts';
import { type Clock, type TuneMode, WALL_CLOCK, useTuning } from './tuner';

/** Process CPU time (all threads): the work itself on a software adapter, whatever the machine's load. */
export const CPU_CLOCK: Clock = { name: 'cpu', now: () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; } };

/** CPU time on software adapters (lavapipe, SwiftShader run in-process), wall time on real GPUs. */
export const clockFor = (gpu: Gpu): Clock => (gpu.adapter.isFallbackAdapter ? CPU_CLOCK : WALL_CLOCK);

const DEFAULT_BUDGET_S = 120;

function budgetMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.SER_TUNE_BUDGET;
  if (raw === undefined || raw === '') return DEFAULT_BUDGET_S * 1000;
  const s = Number(raw);
  if (!(s > 0)) throw new Error(`SER_TUNE_BUDGET=${raw} must be a positive number of seconds`);
  return s * 1000;
}

/** Apply `mode` to a new node runtime (see the header). */
export async function applyNodeTuning(gpu: Gpu, mode: TuneMode): Promise<void> {
  if (mode === 'off') return;
  const store = fileStore();
  try {
    await useTuning(gpu, mode, store, { budgetMs: budgetMs(), clock: clockFor(gpu), log: (l) => process.stderr.write(`${l}\n`) });
  } catch (e) {
    process.stderr.write(`tune: failed (${e instanceof Error ? e.message : String(e)}); using the built-in kernel defaults\n`);
  }
}

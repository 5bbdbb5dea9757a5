// Which tuning mode a node runtime gets: the caller's, else SER_TUNE (off | cached | auto; on/1/true =
// auto, 0/false = off), else the process default — 'off' for the library (tests and scripts see the
// built-in kernels), 'cached' once a `ser` command that trains or infers sets it (cli/tune.ts). Kept
// apart from the tuner so that createTunedNodeGpu (runtime.node.ts) loads it only when a mode other than 'off' asks.

import type { TuneMode } from './tuner';

export const TUNE_MODES: readonly TuneMode[] = ['off', 'cached', 'auto'];

let processDefault: TuneMode = 'off';

export function setDefaultTuneMode(mode: TuneMode): void {
  processDefault = mode;
}

/** SER_TUNE as a mode; undefined when unset; an error naming the accepted values otherwise. */
export function tuneModeFromEnv(env: NodeJS.ProcessEnv = process.env): TuneMode | undefined {
  const raw = env.SER_TUNE?.trim().toLowerCase();
  if (!raw) return undefined;
  if (['on', '1', 'true'].includes(raw)) return 'auto';
  if (['0', 'false'].includes(raw)) return 'off';
  if ((TUNE_MODES as readonly string[]).includes(raw)) return raw as TuneMode;
  throw new Error(`SER_TUNE=${env.SER_TUNE} must be one of off, cached, auto (or on/off)`);
}

export function resolveTuneMode(explicit?: TuneMode, env: NodeJS.ProcessEnv = process.env): TuneMode {
  return explicit ?? tuneModeFromEnv(env) ?? processDefault;
}

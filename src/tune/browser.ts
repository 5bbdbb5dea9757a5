// Tuning in a browser: this adapter's choices from localStorage ('cached'), or measured first within
// a budget ('auto'; the demo page does this with ?tune=auto), then installed on the runtime. Also the
// installed choices as plain rows (read back from the runtime's table, so they are what the kernels
// will run), for pages that report which variants run. Browser-safe.

import type { Gpu } from '../gpu';
import { chosenVariant } from '../gpu/choices';
import { adapterKey } from './key';
import { localStore } from './store';
import { type TuneMode, type TuneOptions, useTuning } from './tuner';

export interface BrowserTuning {
  mode: TuneMode;
  key: string;
  /** Choices installed (family, shape, chosen variant) for this adapter. */
  choices: { family: string; shape: string; chosen: string }[];
}

/** Apply `mode` with localStorage as the cache (nothing when storage is unavailable). */
export async function useBrowserTuning(gpu: Gpu, mode: TuneMode, opts: TuneOptions = {}): Promise<BrowserTuning> {
  const key = adapterKey(gpu);
  const storage = (globalThis as { localStorage?: Storage }).localStorage;
  if (mode === 'off' || !storage) return { mode: 'off', key, choices: [] };
  const store = localStore(storage);
  await useTuning(gpu, mode, store, opts);
  const choices: BrowserTuning['choices'] = [];
  for (const e of store.load().adapters[key]?.entries ?? []) {
    const chosen = chosenVariant(gpu, e.family, e.shape);
    if (chosen !== undefined) choices.push({ family: e.family, shape: e.shape, chosen });
  }
  return { mode, key, choices };
}

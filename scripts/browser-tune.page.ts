// Runs in headless Chromium (bundled by scripts/browser-tune.ts): the tuner's registry cases chosen by
// the query (?filter=REGEX&batch=N&samples=N&budget=SECONDS) measured on the browser's WebGPU adapter
// (SwiftShader without a GPU) exactly as `ser tune` measures them in node (tuneAdapter, the gate,
// medians of wall-clock samples), into a throw-away store. Progress lines go to the console; the result
// is left in window.__tune as { adapter, key, record } or { error }. Any family can be measured here,
// unlike the demo page, whose ?tune=auto measures only what inference runs.

import { createBrowserGpu } from '../src/gpu/browser';
import { adapterKey } from '../src/tune/key';
import { localStore } from '../src/tune/store';
import { tuneAdapter } from '../src/tune/tuner';

const result = window as unknown as { __tune?: unknown };

async function run(): Promise<unknown> {
  const q = new URLSearchParams(location.search);
  const gpu = await createBrowserGpu();
  try {
    const area = new Map<string, string>();
    const store = localStore({ getItem: (k) => area.get(k) ?? null, setItem: (k, v) => void area.set(k, v) });
    const budget = Number(q.get('budget') ?? 0);
    const record = await tuneAdapter(gpu, store, {
      batch: Number(q.get('batch') ?? 32),
      samples: Number(q.get('samples') ?? 5),
      budgetMs: budget > 0 ? budget * 1000 : undefined,
      filter: new RegExp(q.get('filter') ?? ''),
      log: (l) => console.log(l),
    });
    return { adapter: gpu.adapter, key: adapterKey(gpu), record };
  } finally {
    gpu.destroy();
  }
}

run().then((r) => (result.__tune = r), (e) => (result.__tune = { error: e instanceof Error ? `${e.message}\n${e.stack}` : String(e) }));

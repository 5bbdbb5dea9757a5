// Node entry point of the runtime: Dawn through the `webgpu` package. The instance that create()
// returns is held by the Gpu for the device's lifetime (Dawn crashes if it is garbage-collected first).
// With quietDawnWarnings (the CLI's default; `--verbose` turns it off) the instance's first adapter
// request, where Dawn prints its limit-clamping warnings from native code, runs with those lines
// filtered out of stderr (native-stderr.node.ts); later requests enumerate nothing and print nothing.
// The runtime comes with the built-in kernel variants; the per-adapter choices (choices.ts) are installed
// above this layer by whoever creates it (the CLI, the bench), never from here.
// SER_PIPELINE_LOG=FILE appends one line per pipeline created, `sha1-of-WGSL<TAB>key<TAB>tag`, to FILE
// (tag: SER_PIPELINE_LOG_TAG, e.g. the test file, or '-'): a diagnostic for cold-start work, since
// distinct WGSL is what lavapipe compiles with LLVM on a cold cache (scripts/pipeline-log.ts sums it up).

import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, globals } from 'webgpu';
import { withNativeStderrFiltered } from './native-stderr.node.ts';
import { PipelineCache } from './pipelines';
import { Gpu, type GpuOptions } from './runtime';

export type NodeGpuOptions = GpuOptions;

let globalsInstalled = false;
let quiet = false;

/** Whether devices created from now on keep Dawn's adapter warnings off stderr (default false: printed). */
export function quietDawnWarnings(on: boolean): void {
  quiet = on;
}

export async function createNodeGpu(options: NodeGpuOptions = {}): Promise<Gpu> {
  if (!globalsInstalled) {
    Object.assign(globalThis, globals);
    globalsInstalled = true;
    const log = process.env.SER_PIPELINE_LOG;
    if (log) {
      PipelineCache.onCompile = (key, code) =>
        appendFileSync(log, `${createHash('sha1').update(code).digest('hex')}\t${key}\t${process.env.SER_PIPELINE_LOG_TAG ?? '-'}\n`);
    }
  }
  // Dawn's Vulkan loader warns when this is unset; a private folder silences it.
  process.env.XDG_RUNTIME_DIR ??= mkdtempSync(join(tmpdir(), 'ser-xdg-'));
  const instance = create([]);
  if (quiet) await withNativeStderrFiltered(() => instance.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' }));
  return Gpu.create(instance, options, instance);
}

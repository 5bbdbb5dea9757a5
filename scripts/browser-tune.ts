// The tuner's cases measured in headless Chromium (the browser's WebGPU adapter: SwiftShader on a
// machine without a GPU), any family, at any batch: scripts/browser-tune.page.ts bundled and run from
// 127.0.0.1, progress on stderr, then one line per case as `ser tune` prints them (or --json: the
// adapter and its record). For comparing a browser adapter's choices with lavapipe's `ser tune`.
//
//   npx tsx scripts/browser-tune.ts --filter '^(conv1x1|stem)\.' [--batch 32] [--samples 5] [--budget 1200] [--json]

import { Command } from 'commander';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumUnavailable, openBrowser } from '../test/browser/chromium';
import { describeEntry } from '../src/tune/tuner';
import type { AdapterRecord } from '../src/tune/store';
import { bundle } from './build-browser';
import { startStaticServer } from './static-server';

const positive = (flag: string) => (v: string): number => {
  const n = Number(v);
  if (!(n > 0)) {
    console.error(`${flag} must be a positive number, got ${JSON.stringify(v)}`);
    process.exit(2);
  }
  return n;
};
const opts = new Command()
  .description("The tuner's cases measured on the browser's WebGPU adapter (headless Chromium)")
  .requiredOption('--filter <regex>', 'cases whose "family shape" matches, e.g. "^conv1x1\\."')
  .option('--batch <n>', 'batch of the model-shaped cases', positive('--batch'), 32)
  .option('--samples <n>', 'samples per candidate', positive('--samples'), 5)
  .option('--budget <seconds>', 'stop starting new cases after this long (default: no limit)', positive('--budget'))
  .option('--json', 'print the adapter and its record as JSON')
  .parse()
  .opts<{ filter: string; batch: number; samples: number; budget?: number; json?: boolean }>();
try {
  new RegExp(opts.filter);
} catch (e) {
  console.error(`--filter ${JSON.stringify(opts.filter)} is not a regular expression: ${(e as Error).message}`);
  process.exit(2);
}
const skip = chromiumUnavailable();
if (skip) {
  console.error(skip);
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), 'ser-browser-tune-'));
await bundle('scripts/browser-tune.page.ts', join(dir, 'tune.js'));
writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><script type="module" src="tune.js"></script>');
const server = await startStaticServer({ '/': dir });
const browser = await openBrowser();
const load0 = loadavg();
const t0 = Date.now();
try {
  const { page } = browser;
  page.on('console', (m) => void (m.type() === 'log' && console.error(m.text())));
  const query = new URLSearchParams({ filter: opts.filter, batch: String(opts.batch), samples: String(opts.samples), ...(opts.budget ? { budget: String(opts.budget) } : {}) });
  await page.goto(`${server.url}?${query}`);
  await page.waitForFunction(() => (window as unknown as { __tune?: unknown }).__tune !== undefined, null, { timeout: 0, polling: 1000 });
  const out = (await page.evaluate(() => (window as unknown as { __tune: unknown }).__tune)) as { error?: string; adapter?: Record<string, string>; key?: string; record?: AdapterRecord };
  if (out.error) throw new Error(`page: ${out.error} (${browser.errors.join(' | ')})`);
  const load1 = loadavg();
  if (opts.json) {
    console.log(JSON.stringify({ adapter: out.adapter, key: out.key, record: out.record }, null, 2));
  } else {
    console.log(`adapter: ${out.key}`);
    console.log(`machine: ${cpus().length} x ${cpus()[0]?.model}; load average ${load0[0]!.toFixed(1)} at start, ${load1[0]!.toFixed(1)} at end; ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    for (const e of out.record!.entries) console.log(describeEntry(e));
  }
} finally {
  await browser.close();
  await server.close();
}

// The kernels on a browser's WebGPU: test/browser/kernels.page.ts bundled for the browser and run in
// headless Chromium (SwiftShader adapter), served from 127.0.0.1. Every kernel result must match its
// float64 reference computed in the page within relative L2 1e-5, as the node tests demand.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundle } from '../../scripts/build-browser';
import { startStaticServer, type StaticServer } from '../../scripts/static-server';
import { TOL_F32 } from '../harness';
import { chromiumUnavailable, openBrowser, type Browser } from './chromium';

const skip = chromiumUnavailable();
if (skip) console.warn(`[browser tests skipped] ${skip}`);

describe.skipIf(skip !== null)('kernels in headless Chromium (WebGPU on SwiftShader)', () => {
  let server: StaticServer;
  let browser: Browser;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ser-kernels-page-'));
    await bundle('test/browser/kernels.page.ts', join(dir, 'kernels.js'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><script type="module" src="kernels.js"></script>');
    server = await startStaticServer({ '/': dir });
    browser = await openBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('matmul, conv2d forward (the stem tiled variants too), softmax cross-entropy and the real FFT match float64 references in the page', async () => {
    const { page, errors } = browser;
    await page.goto(server.url);
    await page.waitForFunction(() => (window as unknown as { __kernels?: unknown }).__kernels !== undefined, null, { timeout: 150_000 });
    const out = (await page.evaluate(() => (window as unknown as { __kernels: unknown }).__kernels)) as {
      error?: string;
      adapter?: { architecture: string; description: string };
      results?: { name: string; relL2: number }[];
    };
    expect(out.error, `page failed: ${out.error}; console: ${errors.join(' | ')}`).toBeUndefined();
    console.log(`[browser kernels] adapter: ${out.adapter!.architecture} (${out.adapter!.description}), ${out.results!.length} comparisons`);
    expect(out.results!.length).toBe(16 + 5 + 2 + 6 + 4);
    for (const r of out.results!) expect(r.relL2, `${r.name}: relative L2 ${r.relL2}`).toBeLessThanOrEqual(TOL_F32);
  });
});

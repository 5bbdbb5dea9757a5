// The demo page's kernel tuning in headless Chromium (SwiftShader adapter), without a model (the page
// stops at 'ready'): ?tune=auto, narrowed to one small conv case, measures it on the page's adapter,
// installs the choice and keeps the measurement in localStorage under the adapter's key; a reload with
// ?tune=cached installs what localStorage holds (an edited choice comes back as edited: read, not
// measured again); ?tune=off installs nothing. The kernels' own tests check every variant's results.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBrowser, repoRoot } from '../../scripts/build-browser';
import { startStaticServer, type StaticServer } from '../../scripts/static-server';
import { FAMILY_VARIANTS } from '../../src/tune/registry';
import type { TuneDocument } from '../../src/tune/store';
import { chromiumUnavailable, openBrowser, type Browser } from './chromium';

const skip = chromiumUnavailable();
if (skip) console.warn(`[browser tests skipped] ${skip}`);

/** The smallest conv the model runs (block 2's first, at batch 1): three candidates to compile and time. */
const SHAPE = '20x16x64->128';
const FAMILY = 'conv2d.forward';
const STORAGE = 'ser-webgpu.tuning';

interface PageState {
  state: string;
  error?: string;
  tuningError?: string;
  tuning?: { mode: string; key: string; choices: { family: string; shape: string; chosen: string }[] };
}

describe.skipIf(skip !== null)('the demo page tunes its kernels for its adapter', () => {
  let server: StaticServer;
  let browser: Browser;

  beforeAll(async () => {
    const dist = mkdtempSync(join(tmpdir(), 'ser-dist-'));
    await buildBrowser(dist);
    server = await startStaticServer({ '/': join(repoRoot, 'web'), '/dist/': dist });
    browser = await openBrowser();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** Open the page with these query parameters and wait until tuning is over (state 'ready' or later). */
  async function open(query: string): Promise<PageState> {
    await browser.page.goto(`${server.url}?${query}`);
    await browser.page.waitForFunction(() => ['ready', 'model', 'error'].includes((window as unknown as { __ser?: PageState }).__ser?.state ?? ''), null, { timeout: 240_000 });
    const s = (await browser.page.evaluate(() => (window as unknown as { __ser: PageState }).__ser)) as PageState;
    expect(s.error, browser.errors.join(' | ')).toBeUndefined();
    expect(s.tuningError, browser.errors.join(' | ')).toBeUndefined();
    return s;
  }
  const stored = async (): Promise<TuneDocument> => JSON.parse((await browser.page.evaluate((k) => localStorage.getItem(k), STORAGE)) ?? 'null');

  it('measures with ?tune=auto, keeps the result in localStorage, reads it back with ?tune=cached, and ignores it with ?tune=off', async () => {
    const variants = FAMILY_VARIANTS[FAMILY]!;
    // The 3x3 conv's case only (the block's 1x1 shortcut, conv1x1.forward, has the same H, W and channels).
    const auto = await open(`tune=auto&tune-filter=${encodeURIComponent(`${SHAPE} k3x3`)}&tune-budget=200`);
    expect(auto.tuning?.mode).toBe('auto');
    expect(auto.tuning!.choices).toHaveLength(1);
    const choice = auto.tuning!.choices[0]!;
    expect(choice.family).toBe(FAMILY);
    expect(choice.shape.startsWith(`${SHAPE} `)).toBe(true);
    expect(variants).toContain(choice.chosen);

    const doc = await stored();
    const record = doc.adapters[auto.tuning!.key]!;
    expect(record.batch).toBe(1);
    expect(record.entries).toHaveLength(1);
    const entry = record.entries[0]!;
    expect(entry.chosen).toBe(choice.chosen);
    expect(entry.candidates.map((c) => c.variant).sort()).toEqual([...variants].sort());
    // Every candidate passed the correctness gate and ran on SwiftShader: at least 3 samples each, and a
    // positive median (NaN reads as null).
    for (const c of entry.candidates) {
      expect({ variant: c.variant, ok: c.samples >= 3 && (c.medianMs ?? 0) > 0, rejected: c.rejected }).toEqual({ variant: c.variant, ok: true, rejected: undefined });
      expect(c.relL2, c.variant).toBeLessThanOrEqual(1e-3);
    }
    console.log(`[browser tuning] ${auto.tuning!.key}\n  ${entry.family} ${entry.shape}: ${entry.candidates.map((c) => `${c.variant} ${c.medianMs?.toFixed(2)} ms (err ${c.relL2?.toExponential(1)})`).join(', ')} -> ${entry.chosen}`);

    // Edit the stored choice: 'cached' must install the edited one (read back, not measured again).
    const edited = variants.find((v) => v !== entry.chosen)!;
    entry.chosen = edited;
    await browser.page.evaluate(([k, v]) => localStorage.setItem(k!, v!), [STORAGE, JSON.stringify(doc)]);
    const cached = await open('tune=cached');
    expect(cached.tuning).toEqual({ mode: 'cached', key: auto.tuning!.key, choices: [{ family: FAMILY, shape: choice.shape, chosen: edited }] });
    expect(await stored()).toEqual(doc);

    const off = await open('tune=off');
    expect(off.tuning).toEqual({ mode: 'off', key: auto.tuning!.key, choices: [] });
  }, 600_000);
});

// Headless Chromium for the browser tests (see docs in the report: WebGPU on a machine without a GPU
// needs --enable-unsafe-webgpu, and the adapter is SwiftShader). Debian's chromium is used through
// playwright-core; when it is absent, root installs it with apt (scripts/setup.mjs does the same at
// npm install); when that is impossible the tests are skipped with the reason.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

const FLAGS = [
  '--enable-unsafe-webgpu',
  '--enable-webgpu-developer-features',
  '--no-sandbox',
  '--disable-gpu-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Null when chromium is there (installing it if we can), else why the browser tests are skipped. */
export function chromiumUnavailable(): string | null {
  if (existsSync(CHROMIUM)) return null;
  if (process.platform !== 'linux' || process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
    return `${CHROMIUM} is missing and cannot be installed here (needs root on Debian/Ubuntu): run \`sudo apt-get install -y chromium\``;
  }
  const r = spawnSync('apt-get', ['install', '-y', '-q', 'chromium'], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (existsSync(CHROMIUM)) return null;
  return `${CHROMIUM} is missing and \`apt-get install -y chromium\` failed (${(r.stderr || r.error?.message || '').trim().split('\n').pop()})`;
}

export interface Browser {
  page: Page;
  /** Console errors and uncaught exceptions of the page, for failure messages. */
  errors: string[];
  close(): Promise<void>;
}

export interface BrowserOptions {
  /** Flags added to the standard ones (e.g. a fake microphone). */
  extraArgs?: string[];
  /** Standard flags left out (e.g. '--enable-unsafe-webgpu', to see the page without WebGPU). */
  without?: string[];
}

/** Chromium's fake microphone playing `wav` (looped), with every permission prompt accepted. */
export function fakeMicrophone(wav: string): string[] {
  return ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${wav}`];
}

export async function openBrowser(opts: BrowserOptions = {}): Promise<Browser> {
  const context: BrowserContext = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'ser-chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    args: [...FLAGS.filter((f) => !opts.without?.includes(f)), ...(opts.extraArgs ?? [])],
    viewport: { width: 1000, height: 860 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
  page.on('pageerror', (e) => void errors.push(e.message));
  return { page, errors, close: () => context.close() };
}

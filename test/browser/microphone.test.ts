// The demo page's microphone path in headless Chromium, with Chromium's fake microphone playing a
// fixture clip (looped): record, watch the live previews arrive, stop, and check that the answer
// appears with its probabilities and a reported stop-to-answer latency (a finite number; how fast it
// is belongs in docs/BROWSER.md, not in an assertion). The streamed answer must equal the whole-clip
// path (predictDecoded) on the very samples recorded. A browser that refuses the microphone gives the
// page's clear message. The model is seed-size (scripts/seed-size-model.ts) so the times are real.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBrowser, repoRoot } from '../../scripts/build-browser';
import { startStaticServer, type StaticServer } from '../../scripts/static-server';
import { createNodeGpu } from '../../src/gpu/node.node.ts';
import { relL2 } from '../harness';
import { chromiumUnavailable, fakeMicrophone, openBrowser, type Browser } from './chromium';
import { RAVDESS_CLASSES, seedSizeModel } from '../../scripts/seed-size-model';

const skip = chromiumUnavailable();
if (skip) console.warn(`[browser tests skipped] ${skip}`);

const MIC_CLIP = join(repoRoot, 'test/fixtures/librosa/audio/speech_d_f4_48000_mono.wav');

interface PageState {
  state: string;
  error?: string;
  previews?: number;
  result?: { label: string; probabilities: Record<string, number>; timings: Record<string, number>; source: string };
}

describe.skipIf(skip !== null)('the demo page records from a microphone (Chromium fake device)', () => {
  let server: StaticServer;
  let browser: Browser | undefined;

  beforeAll(async () => {
    const gpu = await createNodeGpu();
    const modelDir = await seedSizeModel(gpu);
    gpu.destroy();
    const dist = mkdtempSync(join(tmpdir(), 'ser-dist-'));
    await buildBrowser(dist);
    server = await startStaticServer({ '/': join(repoRoot, 'web'), '/dist/': dist, '/models/seed/': modelDir });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const state = (b: Browser) => b.page.evaluate(() => (window as unknown as { __ser: PageState }).__ser);
  const until = (b: Browser, states: string[]) =>
    b.page.waitForFunction((s) => s.includes((window as unknown as { __ser?: PageState }).__ser?.state ?? ''), states, { timeout: 150_000 });

  it('records, shows live previews, and answers after Stop with probabilities and the stop-to-answer latency', async () => {
    browser = await openBrowser({ extraArgs: fakeMicrophone(MIC_CLIP) });
    const { page, errors } = browser;
    await page.goto(`${server.url}?model=/models/seed/`);
    await until(browser, ['model', 'error']);
    expect((await state(browser)).error, errors.join(' | ')).toBeUndefined();
    await page.click('#record');
    await until(browser, ['recording', 'error']);
    // At least one live preview and 3 s of sound, or the recording's own 10 s limit.
    await page.waitForFunction(() => {
      const s = (window as unknown as { __ser: PageState }).__ser;
      return s.state !== 'recording' || ((s.previews ?? 0) >= 1 && /recording… ([3-9]|\d\d)/.test(document.getElementById('record-info')!.textContent ?? ''));
    }, null, { timeout: 120_000 });
    const previews = (await state(browser)).previews ?? 0;
    if ((await state(browser)).state === 'recording') await page.click('#record');
    await until(browser, ['done', 'error']);
    const s = await state(browser);
    expect(s.error, errors.join(' | ')).toBeUndefined();
    expect(previews, 'live previews during the recording').toBeGreaterThanOrEqual(1);
    const r = s.result!;
    expect(r.source).toBe('microphone');
    expect(RAVDESS_CLASSES).toContain(r.label);
    expect(await page.textContent('#label')).toBe(r.label);
    expect(await page.locator('#bars .bar').count()).toBe(RAVDESS_CLASSES.length);
    const total = Object.values(r.probabilities).reduce((a, b) => a + b, 0);
    expect(Math.abs(total - 1)).toBeLessThan(1e-5);
    const t = r.timings;
    for (const k of ['streamedMs', 'prepareMs', 'featuresMs', 'inferenceMs', 'stopToAnswerMs']) expect(Number.isFinite(t[k]), k).toBe(true);
    expect(t.stopToAnswerMs).toBeGreaterThan(0);
    expect(await page.textContent('#timings')).toContain('stop → answer shown');
    const seconds = Number(/recorded ([\d.]+) s/.exec((await page.textContent('#record-info')) ?? '')?.[1]);
    console.log(
      `[microphone] ${seconds} s recorded, ${previews} live preview(s) by 3 s; ${r.label}; CPU while recording ${t.streamedMs!.toFixed(1)} ms; ` +
        `at stop: preview wait ${t.previewWaitMs!.toFixed(1)} ms, prepare ${t.prepareMs!.toFixed(1)} ms, features ${t.featuresMs!.toFixed(1)} ms, ` +
        `inference ${t.inferenceMs!.toFixed(1)} ms; stop -> answer shown ${t.stopToAnswerMs!.toFixed(1)} ms`,
    );

    // The same samples through the whole-clip path in the same page: the same features and answer.
    const batch = (await page.evaluate(`(async () => {
      const ser = await import('/dist/ser-webgpu.browser.js');
      const rec = window.__ser.recording;
      const r = await ser.createRecogniser({ model: '/models/seed/' });
      const p = await r.predictDecoded({ samples: rec.samples, sampleRate: rec.sampleRate, channels: 1, durationS: rec.samples.length / rec.sampleRate }, { fileName: 'recording' });
      r.dispose();
      return { features: Array.from(p.features), streamed: Array.from(rec.features), probabilities: p.probabilities, label: p.label };
    })()`)) as { features: number[]; streamed: number[]; probabilities: Record<string, number>; label: string };
    expect(batch.features.length).toBe(82 * 64);
    expect(relL2(batch.streamed, batch.features)).toBeLessThanOrEqual(1e-6);
    expect(batch.label).toBe(r.label);
    for (const [c, p] of Object.entries(batch.probabilities)) expect(Math.abs(r.probabilities[c]! - p), c).toBeLessThanOrEqual(1e-5 * p + 1e-12);
    await browser.close();
    browser = undefined;
  });

  it('says clearly that the microphone was refused', async () => {
    // No fake UI: the permission prompt cannot be answered in headless Chromium, so access is denied.
    browser = await openBrowser({ extraArgs: ['--use-fake-device-for-media-stream', '--deny-permission-prompts'] });
    const { page } = browser;
    await page.goto(`${server.url}?model=/models/seed/`);
    await until(browser, ['model', 'error']);
    await page.click('#record');
    await until(browser, ['error']);
    expect(await page.textContent('#status')).toBe('Microphone refused: allow microphone access for this page, or choose an audio file instead.');
    expect(await page.textContent('#record')).toBe('● Record');
  });
});

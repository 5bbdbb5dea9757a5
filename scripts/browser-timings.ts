// The demo page's stage timings in headless Chromium, measured the way a user meets them: a fixture
// clip through the file input, and recordings of a few lengths from Chromium's fake microphone
// (playing the same clip, looped) stopped by a click, each repeated, and each recording again through
// the whole-clip path (what stopping would cost without streaming); prints the adapter, the median
// and range of every stage and of the stop-to-answer latency, with the machine's load, as markdown
// for docs/BROWSER.md, and optionally a screenshot of the page after the last recording. Uses
// models/ravdess-8/ when present (or --model DIR), else a seed-size model.
//
// With --tune auto the page first measures its kernel variants (in a fresh browser profile) and the
// script prints what it measured and chose for the adapter, from the page's localStorage.
//
//   npx tsx scripts/browser-timings.ts [--model DIR] [--clip NAME] [--runs 3] [--seconds 3,9] [--tune auto [--tune-budget 60]] [--screenshot docs/demo.png]

import { Command } from 'commander';
import { existsSync, mkdtempSync } from 'node:fs';
import { loadavg, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumUnavailable, fakeMicrophone, openBrowser, type Browser } from '../test/browser/chromium';
import { createNodeGpu } from '../src/gpu/node.node.ts';
import { buildBrowser, repoRoot } from './build-browser';
import { seedSizeModel } from './seed-size-model';
import { startStaticServer } from './static-server';

interface PageState {
  state: string;
  error?: string;
  warmUpMs?: number;
  previews?: number;
  adapter?: Record<string, unknown>;
  tuning?: { mode: string; key: string; choices: { family: string; shape: string; chosen: string }[] };
  tuningError?: string;
  result?: { timings: Record<string, number> };
}

const opts = new Command()
  .description('Stage timings of the demo page (file and microphone) in headless Chromium')
  .option('--model <dir>', 'model folder (default: models/ravdess-8 if present, else a seed-size random model)')
  .option('--clip <name>', 'fixture clip under test/fixtures/librosa/audio', 'speech_d_f4_48000_mono.wav')
  .option('--runs <n>', 'repetitions of each measurement', (v) => Number.parseInt(v, 10), 3)
  .option('--seconds <list>', 'recording lengths in seconds', '3,9')
  .option('--screenshot <png>', 'save a screenshot of the page after the last recording (e.g. docs/demo.png)')
  .option('--tune <mode>', "the page's kernel tuning: cached (its default: choices already in the browser profile's localStorage), auto (measure the missing ones first), off", 'cached')
  .option('--tune-budget <seconds>', "with --tune auto: the page's time budget for measuring (its default: 60)")
  .parse()
  .opts<{ model?: string; clip: string; runs: number; seconds: string; screenshot?: string; tune: string; tuneBudget?: string }>();
if (!['cached', 'auto', 'off'].includes(opts.tune)) {
  console.error(`--tune must be cached, auto or off, got ${opts.tune}`);
  process.exit(2);
}
if (opts.tuneBudget !== undefined && !(Number(opts.tuneBudget) > 0)) {
  console.error(`--tune-budget must be a positive number of seconds, got ${opts.tuneBudget}`);
  process.exit(2);
}

const skip = chromiumUnavailable();
if (skip) {
  console.error(skip);
  process.exit(1);
}
const shipped = join(repoRoot, 'models/ravdess-8');
let model = opts.model ?? (existsSync(join(shipped, 'model.json')) ? shipped : '');
let modelNote = model;
if (!model) {
  console.error('building a seed-size model (random weights)…');
  const gpu = await createNodeGpu();
  model = await seedSizeModel(gpu);
  gpu.destroy();
  modelNote = 'seed-size network (scripts/seed-size-model.ts, random weights)';
}
const audio = join(repoRoot, 'test/fixtures/librosa/audio');
const dist = mkdtempSync(join(tmpdir(), 'ser-dist-'));
await buildBrowser(dist);
const server = await startStaticServer({ '/': join(repoRoot, 'web'), '/dist/': dist, '/models/m/': model });
const load0 = loadavg();
const browser: Browser = await openBrowser({ extraArgs: fakeMicrophone(join(audio, opts.clip)) });
const { page } = browser;
const state = () => page.evaluate(() => (window as unknown as { __ser: PageState }).__ser);
const until = (states: string[]) =>
  page.waitForFunction((s) => s.includes((window as unknown as { __ser?: PageState }).__ser?.state ?? ''), states, { timeout: 300_000 });
const checked = async (): Promise<PageState> => {
  const s = await state();
  if (s.error) throw new Error(`page: ${s.error} (${browser.errors.join(' | ')})`);
  return s;
};

await page.goto(`${server.url}?model=/models/m/&tune=${opts.tune}${opts.tuneBudget ? `&tune-budget=${opts.tuneBudget}` : ''}`);
await until(['model', 'error']);
const ready = await checked();

const rows = new Map<string, Map<string, number[]>>();
const add = (group: string, key: string, v: number) => {
  const g = rows.get(group) ?? rows.set(group, new Map()).get(group)!;
  (g.get(key) ?? g.set(key, []).get(key)!).push(v);
};

for (let run = 0; run < opts.runs; run++) {
  console.error(`file run ${run + 1}/${opts.runs}`);
  // Cleared first, so that the same file again is a change; the page is 'busy' once the event fired.
  await page.setInputFiles('#audio-file', []);
  await page.setInputFiles('#audio-file', join(audio, opts.clip));
  await until(['done', 'error']);
  const t = (await checked()).result!.timings;
  for (const k of ['decodeMs', 'prepareMs', 'featuresMs', 'inferenceMs', 'totalMs']) add(`file ${opts.clip}`, k, t[k]!);
}
for (const seconds of opts.seconds.split(',').map(Number)) {
  for (let run = 0; run < opts.runs; run++) {
    console.error(`recording ${seconds} s, run ${run + 1}/${opts.runs}`);
    await page.click('#record', { timeout: 120_000 }); // a loaded machine can starve the page's frames for long
    await until(['recording', 'error']);
    await checked();
    await page.waitForFunction(
      (s) => Number(/recording… ([\d.]+)/.exec(document.getElementById('record-info')!.textContent ?? '')?.[1] ?? 0) >= s,
      seconds,
      { timeout: 120_000 },
    );
    await page.click('#record', { timeout: 120_000 }); // a loaded machine can starve the page's frames for long
    await until(['done', 'error']);
    const s = await checked();
    const t = s.result!.timings;
    const group = `microphone ${seconds} s`;
    for (const k of ['streamedMs', 'previewWaitMs', 'prepareMs', 'featuresMs', 'inferenceMs', 'stopToAnswerMs']) add(group, k, t[k]!);
    add(group, 'previews', s.previews ?? 0);
    // The same recording through the whole-clip path (no streaming), in the same page, for comparison.
    const whole = (await page.evaluate(`(async () => {
      const ser = await import('/dist/ser-webgpu.browser.js');
      if (!window.__whole) {
        window.__whole = await ser.createRecogniser({ model: '/models/m/' });
        await window.__whole.warmUp();
      }
      const rec = window.__ser.recording;
      const audio = { samples: rec.samples, sampleRate: rec.sampleRate, channels: 1, durationS: rec.samples.length / rec.sampleRate };
      return (await window.__whole.predictDecoded(audio, { fileName: 'recording' })).timings;
    })()`)) as Record<string, number>;
    for (const k of ['prepareMs', 'featuresMs', 'inferenceMs', 'totalMs']) add(`${group}, whole-clip path at stop (not streamed)`, k, whole[k]!);
  }
}
const load1 = loadavg();
interface StoredEntry { family: string; shape: string; chosen: string; default: string; candidates: { variant: string; medianMs: number | null; rejected?: string }[] }
const tuningRecord = await page.evaluate((key) => {
  const doc = JSON.parse(localStorage.getItem('ser-webgpu.tuning') ?? '{}') as { adapters?: Record<string, { entries: unknown[] }> };
  return key ? (doc.adapters?.[key]?.entries ?? []) : [];
}, ready.tuning?.key ?? '') as StoredEntry[];
if (opts.screenshot) await page.screenshot({ path: opts.screenshot, fullPage: true });
await browser.close();
await server.close();

const labels: Record<string, string> = {
  decodeMs: 'decode',
  prepareMs: 'resample + trim (CPU; recordings: what is left at stop)',
  featuresMs: 'features (GPU; recordings: edge frames + whole-clip stage)',
  inferenceMs: 'inference (GPU)',
  totalMs: 'total',
  streamedMs: 'while recording: CPU time on chunks (resample, RMS, recording GPU blocks)',
  previewWaitMs: 'at stop: waiting for a live preview',
  stopToAnswerMs: '**stop → answer shown**',
  previews: 'live previews during the recording (count)',
};
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)]!;
const a = ready.adapter ?? {};
console.log(`Measured ${new Date().toISOString().slice(0, 10)} with \`npx tsx scripts/browser-timings.ts --runs ${opts.runs} --seconds ${opts.seconds} --tune ${opts.tune}${opts.tuneBudget ? ` --tune-budget ${opts.tuneBudget}` : ''}\``);
console.log(`on ${cpus().length} cores (${cpus()[0]?.model}), load average ${load0[0]!.toFixed(1)} before, ${load1[0]!.toFixed(1)} after; headless Chromium, adapter ${a.vendor ?? ''} / ${a.architecture ?? ''} / ${a.description ?? ''}${a.isFallbackAdapter ? ' (fallback adapter)' : ''};`);
console.log(`model: ${modelNote}; clip ${opts.clip}; GPU pipelines compiled at model load in ${ready.warmUpMs?.toFixed(0)} ms.`);
const tuned = ready.tuning?.choices ?? [];
const variants = tuned.length ? tuned.map((c) => `${c.family} ${c.shape} = ${c.chosen}`).join('; ') : 'built-in defaults (no tuned choices for this adapter)';
// What the page measured on this adapter, from its localStorage (a fresh browser profile: only --tune auto has any).
const stored = tuningRecord;
const failed = ready.tuningError ? ` (tuning failed: ${ready.tuningError})` : '';
console.log(`kernel variants (tuning ${ready.tuning?.mode ?? 'off'}${failed}): ${variants}.\n`);
if (stored.length) {
  console.log('| family | shape | median ms per candidate (wall) | chosen |');
  console.log('|---|---|---|---|');
  for (const e of stored) {
    const ms = e.candidates.map((c) => `${c.variant} ${c.rejected !== undefined ? `rejected (${c.rejected})` : typeof c.medianMs === 'number' && Number.isFinite(c.medianMs) ? c.medianMs.toFixed(2) : 'failed'}`).join(', ');
    console.log(`| ${e.family} | ${e.shape} | ${ms} | ${e.chosen}${e.chosen === e.default ? '' : ' *'} |`);
  }
  console.log('');
}
console.log('| measurement | stage | median | min – max |');
console.log('|---|---|---:|---:|');
for (const [group, stages] of rows) {
  for (const [k, v] of stages) {
    const unit = k === 'previews' ? '' : ' ms';
    const fmt = (x: number) => `${x.toFixed(k === 'previews' ? 0 : 1)}${unit}`;
    console.log(`| ${group} | ${labels[k] ?? k} | ${fmt(median(v))} | ${fmt(Math.min(...v))} – ${fmt(Math.max(...v))} |`);
  }
}

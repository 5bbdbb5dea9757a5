// The benchmark suite (`ser bench`, `npm run bench`): every case family at the shapes the model and
// the features use, whole stages (features per second of audio, a training step, inference), the
// adapter's measured peaks, a per-kernel timestamp profile of a training step, peers when their cases
// are present, a Markdown table at the end and optionally JSON. `--guard` runs the short regression
// guard instead (bench/guard.ts).

import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Gpu } from '../src/gpu';
import { createTunedNodeGpu } from '../src/tune/runtime.node.ts';
import { conv2dCases } from './conv2d';
import { featureStageCases } from './feature-stages';
import { DEFAULT_DATA, featureCases } from './features';
import { runGuard } from './guard';
import { type BenchCase, type BenchResult, caseKey, markdownTable, measure, peerRatios, peerTable } from './harness';
import { layerCases } from './layers';
import { REFERENCE_CASE, matmulCases } from './matmul';
import { modelCases } from './model';
import { optimCases } from './optim';
import { type Peak, measurePeak, peakFraction, withCasePeaks } from './peak';
import { type ProfileReport, profileSection, profileTable } from './profile';
import { runtimeCases } from './runtime';

export interface BenchOptions {
  filter?: string;
  json?: string;
  quick?: boolean;
  /** Audio folder for the whole-pipeline feature cases (default: the shared RAVDESS copy). */
  data?: string;
  guard?: boolean;
  updateBaseline?: boolean;
  baseline?: string;
  threshold?: number;
  /** Regex of cases to run twice per sample: shows the guard catching a 2x slowdown. */
  simulateSlower?: string;
  list?: boolean;
  /** Extra cases (peers) appended to ours. */
  extraCases?: BenchCase[];
}

interface PeerModules {
  cases: BenchCase[];
  /** Exported functions named shutdown* (e.g. a peer's own device), called after the run. */
  shutdowns: (() => unknown)[];
}

/**
 * Peer cases: every module under bench/peers/ (devDependencies, written separately) is imported, and
 * each export that is a BenchCase[] or a function named *Cases returning one (or a promise of one) is
 * taken; exports named shutdown* are called once the cases have run. A module that fails to load is
 * reported and left out, so a missing peer never stops the run.
 */
async function peerModules(log: (s: string) => void): Promise<PeerModules> {
  const dir = fileURLToPath(new URL('./peers/', import.meta.url));
  const out: PeerModules = { cases: [], shutdowns: [] };
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir).filter((n) => /\.ts$/.test(n) && !/\.d\.ts$/.test(n)).sort()) {
    try {
      const mod = (await import(pathToFileURL(join(dir, f)).href)) as Record<string, unknown>;
      for (const [name, v] of Object.entries(mod)) {
        if (typeof v === 'function' && /^shutdown/.test(name)) out.shutdowns.push(v as () => unknown);
        const got = Array.isArray(v) ? v : typeof v === 'function' && /Cases$/.test(name) ? await (v as () => unknown)() : null;
        if (Array.isArray(got)) out.cases.push(...(got as BenchCase[]).filter((c) => c && typeof c.setup === 'function'));
      }
    } catch (e) {
      log(`peers: bench/peers/${f} left out: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return out;
}

/** What --filter picks (opt-in cases only when it matches them), plus the cases of ours that picked peers name. */
export function selectCases(all: BenchCase[], filter?: string): BenchCase[] {
  const re = filter ? new RegExp(filter, 'i') : null;
  const picked = new Set(all.filter((c) => (re ? re.test(caseKey(c)) : !c.optIn)).map(caseKey));
  for (const c of all) if (picked.has(caseKey(c)) && c.compareTo) picked.add(c.compareTo);
  return all.filter((c) => picked.has(caseKey(c)));
}

export function ourCases(opts: Pick<BenchOptions, 'data' | 'quick'> = {}): BenchCase[] {
  return [
    ...runtimeCases(),
    ...matmulCases(),
    ...conv2dCases(),
    ...layerCases(),
    ...optimCases(),
    ...featureStageCases(),
    ...featureCases({ data: opts.data ?? DEFAULT_DATA, clips: 32, singles: opts.quick ? 4 : 8 }),
    ...modelCases(),
  ];
}

function slowed(c: BenchCase): BenchCase {
  return {
    ...c,
    async setup(gpu) {
      const r = await c.setup(gpu);
      return { run: async () => (await r.run(), await r.run()), dispose: r.dispose };
    },
  };
}

function describeMachine(gpu: Gpu): Record<string, unknown> {
  const a = gpu.adapter;
  return {
    adapter: [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' | '),
    fallbackAdapter: a.isFallbackAdapter,
    cpu: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}`,
    loadAverage: loadavg().map((v) => Number(v.toFixed(2))),
    node: process.version,
    date: new Date().toISOString(),
    command: `ser bench ${process.argv.slice(3).join(' ')}`.trim(),
  };
}

export async function runBench(opts: BenchOptions): Promise<{ results: BenchResult[]; exitCode: number }> {
  const log = (s: string) => console.log(s);
  const peers = await peerModules(log);
  const all = [...ourCases(opts), ...(opts.extraCases ?? []), ...peers.cases];
  const re = opts.filter ? new RegExp(opts.filter, 'i') : null;
  const slowRe = opts.simulateSlower ? new RegExp(opts.simulateSlower, 'i') : null;
  let cases = opts.guard ? all.filter((c) => c.guard && caseKey(c) !== REFERENCE_CASE && (!re || re.test(caseKey(c)))) : selectCases(all, opts.filter);
  if (opts.list) {
    for (const c of cases) log(`${caseKey(c)}${c.peer ? ` [peer ${c.peer} vs ${c.compareTo ?? '?'}]` : ''}${c.optIn ? ' [opt-in]' : ''}${c.guard ? ' [guard]' : ''}${c.skip ? ` (skipped: ${c.skip})` : ''}`);
    return { results: [], exitCode: 0 };
  }
  const runProfile = !opts.guard && (!re || re.test('profile'));
  if (cases.length === 0 && !runProfile) {
    throw new Error(`no benchmark matches --filter ${opts.filter}${opts.guard ? ' among the guarded cases' : ''}; \`ser bench --list\` shows them`);
  }
  if (slowRe) cases = cases.map((c) => (slowRe.test(caseKey(c)) ? slowed(c) : c));
  for (const c of cases.filter((c) => c.skip)) log(`skipped ${caseKey(c)}: ${c.skip}`);
  cases = cases.filter((c) => !c.skip);
  if (cases.length === 0 && !runProfile) {
    log('nothing left to run: every selected case was skipped');
    return { results: [], exitCode: 0 };
  }

  const gpu: Gpu = await createTunedNodeGpu();
  const machine = describeMachine(gpu);
  for (const [k, v] of Object.entries(machine)) log(`${k}: ${Array.isArray(v) ? v.join(' ') : String(v)}`);
  const results: BenchResult[] = [];
  const failures = new Map<string, string>();
  let peak: Peak | undefined;
  let profiles: ProfileReport[] | null = null;
  let exitCode = 0;
  try {
    if (opts.guard) {
      const reference = all.find((c) => caseKey(c) === REFERENCE_CASE)!;
      const g = await runGuard(gpu, cases, reference, { update: !!opts.updateBaseline, baselinePath: opts.baseline, threshold: opts.threshold, quick: opts.quick, log });
      results.push(...g.results);
      exitCode = g.exitCode;
    } else {
      peak = await measurePeak(gpu, !!opts.quick);
      log(`peak: ${peak.gflops.toFixed(2)} GFLOP/s (${peak.gflopsFrom}), ${peak.gbps.toFixed(2)} GB/s (${peak.gbpsFrom})`);
      log(`      ${peak.method}; "of peak" = a case's executed GFLOP/s (the arithmetic its kernels perform) over the FLOP peak, or its GB/s over the bandwidth peak`);
      const mopts = opts.quick ? { maxTime: 1, minSamples: 3 } : {};
      for (const [i, c] of cases.entries()) {
        // A case that throws (a peer's missing backend, say) is reported and the run goes on.
        try {
          const r = await measure(gpu, c, mopts);
          const executed = r.executedGflops !== undefined && r.executedGflops !== r.gflops ? ` (${r.executedGflops.toFixed(2)} executed)` : '';
          const extra = [r.gflops && `${r.gflops.toFixed(2)} GFLOP/s${executed}`, r.gbps && `${r.gbps.toFixed(2)} GB/s`, r.throughput].filter(Boolean).join(', ');
          log(`[${i + 1}/${cases.length}] ${caseKey(c)}: ${r.medianMs.toFixed(3)} ms ±${(r.iqrMs / 2).toFixed(3)}${extra ? `, ${extra}` : ''}`);
          results.push(r);
        } catch (e) {
          const why = (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
          failures.set(caseKey(c), why);
          log(`[${i + 1}/${cases.length}] ${caseKey(c)}: FAILED (${why})`);
        }
      }
      if (failures.size) exitCode = 1;
      // Fractions once every case is in: a case faster than the matmul or the copy becomes the peak.
      const rebased = withCasePeaks(peak, results);
      for (const note of rebased.raised) log(`peak: ${note}`);
      peak = rebased.peak;
      for (const r of results) r.peakFraction = peakFraction(r, peak);
    }
  } finally {
    for (const shutdown of peers.shutdowns) await shutdown();
    gpu.destroy();
  }
  if (runProfile) {
    profiles = await profileSection(log);
    for (const p of profiles ?? []) log(`\n${profileTable(p)}`);
  }
  if (results.length) log(`\n${markdownTable(results)}`);
  if (failures.size) log(`\nfailed: ${[...failures].map(([k, why]) => `${k} (${why})`).join('; ')}`);
  const ratios = peerRatios(results, cases, failures);
  if (ratios.length) log(`\nPeers (same run):\n\n${peerTable(ratios)}`);
  if (opts.json) {
    writeFileSync(opts.json, `${JSON.stringify({ machine, peak, results, peers: ratios, failures: Object.fromEntries(failures), profiles, exitCode }, null, 2)}\n`);
    log(`wrote ${opts.json}`);
  }
  return { results, exitCode };
}

// `ser bench --guard`: a short run that catches a kernel that became 2x slower. Each guarded case
// runs in alternation with the reference kernel (REFERENCE_CASE, a 512^3 matmul); the median of the
// pairs' time ratios is compared with the case's ratio in bench/baseline.json (compareRatios in
// guard-compare.ts), and a case over the threshold is measured twice more, the median of its three
// ratios deciding. Absolute times never enter. Times are, on a software adapter (lavapipe), the
// process CPU time of a run, which a shared machine's other load moves far less than wall time; on a
// hardware adapter, wall time. Baselines are kept per adapter;
// --update-baseline rewrites this adapter's entry from three passes (each case's median ratio).
// Exit status: 0 pass, 1 regression, 2 no baseline for this adapter.

import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { AdapterSummary, Gpu } from '../src/gpu';
import { type GuardReport, compareRatios, guardTable } from './guard-compare';
import { type BenchCase, type BenchResult, caseKey } from './harness';
import { REFERENCE_CASE } from './matmul';

export const BASELINE_PATH = fileURLToPath(new URL('./baseline.json', import.meta.url));
const DEFAULT_THRESHOLD = 1.6;

export interface AdapterBaseline {
  metric: 'cpu' | 'wall';
  date: string;
  command: string;
  loadAverage: number;
  ratios: Record<string, number>;
}

export interface BaselineFile {
  reference: string;
  threshold: number;
  note: string;
  adapters: Record<string, AdapterBaseline>;
}

export const adapterKey = (a: AdapterSummary): string => [a.vendor, a.architecture, a.device].join(' | ');

function readBaseline(path: string): BaselineFile {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as BaselineFile;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`guard: cannot read ${path}: ${(e as Error).message}`);
    return {
      reference: REFERENCE_CASE,
      threshold: DEFAULT_THRESHOLD,
      note: 'ratios of each case time to the reference case time in the same run; written by `ser bench --guard --update-baseline`',
      adapters: {},
    };
  }
}

/** This adapter's entry, else one of the same vendor and architecture (another CPU, same driver). */
function findEntry(file: BaselineFile, a: AdapterSummary): { key: string; entry: AdapterBaseline } | null {
  const exact = file.adapters[adapterKey(a)];
  if (exact) return { key: adapterKey(a), entry: exact };
  const prefix = `${a.vendor} | ${a.architecture} | `;
  const near = Object.entries(file.adapters).find(([k]) => k.startsWith(prefix));
  return near ? { key: near[0], entry: near[1] } : null;
}

export interface GuardOptions {
  update: boolean;
  baselinePath?: string;
  threshold?: number;
  quick?: boolean;
  log: (s: string) => void;
}

export interface GuardOutcome {
  exitCode: number;
  metric: 'cpu' | 'wall';
  results: BenchResult[];
  report?: GuardReport;
}

export async function runGuard(gpu: Gpu, cases: BenchCase[], reference: BenchCase, o: GuardOptions): Promise<GuardOutcome> {
  const path = o.baselinePath ?? BASELINE_PATH;
  const file = readBaseline(path);
  const metric = gpu.adapter.isFallbackAdapter ? 'cpu' : 'wall';
  const threshold = o.threshold ?? file.threshold ?? DEFAULT_THRESHOLD;
  const minPairs = 5;
  const budgetMs = o.quick ? 800 : 1500;
  o.log(`guard: ${cases.length} cases, each timed in alternation with ${REFERENCE_CASE} (${metric === 'cpu' ? 'process CPU time: software adapter' : 'wall time'})`);
  const results: BenchResult[] = [];
  const refs: number[] = [];
  const ref = await reference.setup(gpu);
  const timeOnce = async (run: () => void | Promise<void>): Promise<{ wall: number; cpu: number }> => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await run();
    await gpu.sync();
    const d = process.cpuUsage(c0);
    return { wall: performance.now() - t0, cpu: (d.user + d.system) / 1000 };
  };
  // Reference and case run in turns (at least five pairs, more while the budget lasts; ABBA); each pair
  // gives a ratio and the median ratio counts. Neighbouring runs see the same machine load, so a
  // change of load during the run cancels out of the ratio, where separate measurements would not.
  const ratioOf = async (c: BenchCase, label: string): Promise<number> => {
    const t0 = performance.now();
    const cr = await c.setup(gpu);
    try {
      await timeOnce(ref.run);
      await timeOnce(cr.run);
      const pairs: { ref: number; case: number; wall: number }[] = [];
      while (pairs.length < minPairs || (performance.now() - t0 < budgetMs && pairs.length < 50)) {
        // ABBA order: each side follows the other as often as itself, so what one run leaves
        // behind (freed buffers, a warm or cold cache) weighs on both sides alike.
        const flip = pairs.length % 2 === 1;
        const b = flip ? await timeOnce(cr.run) : null;
        const a = await timeOnce(ref.run);
        const bb = b ?? (await timeOnce(cr.run));
        pairs.push(metric === 'cpu' ? { ref: a.cpu, case: bb.cpu, wall: bb.wall } : { ref: a.wall, case: bb.wall, wall: bb.wall });
      }
      const med = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)]!;
      const ratio = med(pairs.map((p) => p.case / p.ref));
      const refMs = med(pairs.map((p) => p.ref));
      refs.push(refMs);
      const wall = pairs.map((p) => p.wall).sort((x, y) => x - y);
      results.push({
        group: c.group, name: c.name, medianMs: med(wall), iqrMs: wall[Math.floor(0.75 * (wall.length - 1))]! - wall[Math.floor(0.25 * (wall.length - 1))]!,
        minMs: wall[0]!, samples: pairs.length, cpuMs: metric === 'cpu' ? med(pairs.map((p) => p.case)) : undefined,
      });
      o.log(`${label} ${caseKey(c)}: ratio ${ratio.toPrecision(3)} (reference ${refMs.toFixed(1)} ms, ${pairs.length} pairs, ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      return ratio;
    } finally {
      cr.dispose();
    }
  };
  const pass = async (name: string): Promise<Record<string, number>> => {
    const ratios: Record<string, number> = {};
    for (const [i, c] of cases.entries()) ratios[caseKey(c)] = await ratioOf(c, `${name}[${i + 1}/${cases.length}]`);
    return ratios;
  };
  const out: GuardOutcome = { exitCode: 0, metric, results };
  try {
    if (o.update) {
      // Three passes, the median of each case's three ratios: a baseline is compared against many
      // times, so one pass disturbed by the machine's load must not set it.
      const runs = [await pass('pass 1 '), await pass('pass 2 '), await pass('pass 3 ')];
      const median3 = (k: string) => runs.map((r) => r[k]!).sort((x, y) => x - y)[1]!;
      const ratios = Object.fromEntries(Object.keys(runs[0]!).map((k) => [k, Number(median3(k).toPrecision(4))]));
      file.adapters[adapterKey(gpu.adapter)] = {
        metric,
        date: new Date().toISOString(),
        command: `ser bench ${process.argv.slice(3).join(' ')}`.trim(),
        loadAverage: Number(loadavg()[0]!.toFixed(2)),
        ratios,
      };
      writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`);
      o.log(`guard: wrote the baseline of ${adapterKey(gpu.adapter)} (${Object.keys(ratios).length} ratios) to ${path}`);
      return out;
    }
    const found = findEntry(file, gpu.adapter);
    if (!found) {
      o.log(`guard: no baseline for adapter "${adapterKey(gpu.adapter)}" in ${path}; run \`ser bench --guard --update-baseline\` on a known-good build first`);
      return { ...out, exitCode: 2 };
    }
    if (found.key !== adapterKey(gpu.adapter)) o.log(`guard: using the baseline of "${found.key}" (same driver, other device)`);
    if (found.entry.metric !== metric) o.log(`guard: warning: the baseline measured ${found.entry.metric} time, this run ${metric} time`);
    const ratios = await pass('');
    // A suspect is measured twice more; the median of its three ratios decides (one noisy run does not).
    for (const s of compareRatios(ratios, found.entry.ratios, threshold).regressions) {
      const c = cases.find((x) => caseKey(x) === s.key)!;
      const again = [s.ratio, await ratioOf(c, 'recheck'), await ratioOf(c, 'recheck')].sort((x, y) => x - y);
      ratios[s.key] = again[1]!;
    }
    const report = compareRatios(ratios, found.entry.ratios, threshold);
    out.report = report;
    o.log(`\n${guardTable(report, REFERENCE_CASE)}`);
    o.log(`reference ${REFERENCE_CASE}: ${Math.min(...refs).toFixed(2)} to ${Math.max(...refs).toFixed(2)} ms over the run (load average ${loadavg()[0]!.toFixed(1)})`);
    if (report.missing.length) o.log(`guard: not measured this run (filtered out or skipped): ${report.missing.join(', ')}`);
    const faster = report.rows.filter((r) => r.status === 'faster');
    if (faster.length) o.log(`guard: ${faster.length} case(s) got ${threshold}x faster relative to the reference; consider --update-baseline`);
    if (report.regressions.length) {
      o.log(
        `\nguard: REGRESSION: ${report.regressions.length} case(s) became ${threshold}x or more slower relative to ${REFERENCE_CASE} ` +
          `(baseline of ${found.entry.date}; median of three measurements):\n${report.regressions.map((r) => `  ${r.key}: ${r.factor!.toFixed(2)}x its baseline ratio`).join('\n')}`,
      );
      out.exitCode = 1;
    } else {
      o.log(`guard: OK: no case slowed by ${threshold}x or more relative to ${REFERENCE_CASE}`);
    }
    return out;
  } finally {
    ref.dispose();
  }
}

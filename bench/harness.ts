// Benchmark harness over benchmark.js: each case records GPU work, waits for the queue to drain
// (deferred benchmark), and reports the median time per run with the spread of the samples, plus
// GFLOP/s or GB/s when the case states its work, and the process CPU time per run (lavapipe's worker
// threads run in-process, so on a software adapter CPU time is the work itself, whatever the load of a
// shared machine). Absolute times only mean something on a real GPU; on software adapters compare
// ratios between cases of the same run.
//
// Peers: a case with `peer` set (e.g. 'tfjs-webgpu') is another library's implementation of one of
// our cases, named by `versus` ("group/name"; by default the peer case's own group/name). The suite
// prints ours/peer time ratios for every such pair measured in the same run (peerRatios()).

import Benchmark from 'benchmark';
import type { Gpu } from '../src/gpu';

export interface CaseRun {
  run: () => void | Promise<void>;
  dispose: () => void;
}

export interface BenchCase {
  /** Family, e.g. "matmul": used by --filter and in the table. */
  group: string;
  name: string;
  /** Floating-point operations per run (for GFLOP/s and the fraction of the FLOP peak). */
  flops?: number;
  /** Bytes moved per run (for GB/s and the fraction of the copy-bandwidth peak). */
  bytes?: number;
  /** Items processed per run and their unit (for throughput, e.g. samples/s). */
  items?: { count: number; unit: string };
  /** Allocate inputs; returns the function that records one run, and a cleanup. */
  setup(gpu: Gpu): CaseRun | Promise<CaseRun>;
  /** Set on a peer library's implementation: the peer's name, e.g. 'tfjs-webgpu'. */
  peer?: string;
  /** For peer cases: "group/name" of our case it is compared with (default: its own group/name). */
  versus?: string;
  /** Part of the regression guard (`ser bench --guard`). */
  guard?: boolean;
  /** When set the case is not run and this reason is printed (e.g. a missing data folder). */
  skip?: string;
}

export interface BenchResult {
  group: string;
  name: string;
  medianMs: number;
  /** Interquartile range of the per-run times, in ms. */
  iqrMs: number;
  samples: number;
  /** Fastest run, in ms (interference only adds time: the regression guard uses the minima). */
  minMs: number;
  /** Median process CPU time per run (all threads), in ms. */
  cpuMs?: number;
  /** Smallest process CPU time of a run, in ms. */
  cpuMinMs?: number;
  gflops?: number;
  gbps?: number;
  /** GFLOP/s over the run's measured FLOP peak, or GB/s over its copy-bandwidth peak. */
  peakFraction?: number;
  throughput?: string;
  peer?: string;
  versus?: string;
}

export const caseKey = (c: { group: string; name: string }): string => `${c.group}/${c.name}`;

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export interface MeasureOptions {
  /** Seconds benchmark.js may spend sampling (default 3). */
  maxTime?: number;
  minSamples?: number;
}

export async function measure(gpu: Gpu, c: BenchCase, opts: MeasureOptions = {}): Promise<BenchResult> {
  const { run, dispose } = await c.setup(gpu);
  try {
    await run(); // warm-up: compiles pipelines, fills the pool
    await gpu.sync();
    const cpu: number[] = [];
    const bench = new Benchmark(caseKey(c), {
      defer: true,
      minSamples: opts.minSamples ?? 5,
      maxTime: opts.maxTime ?? 3,
      initCount: 1,
      fn: (deferred: Benchmark.Deferred) => {
        const c0 = process.cpuUsage();
        Promise.resolve(run())
          .then(() => gpu.sync())
          .then(
            () => {
              const d = process.cpuUsage(c0);
              cpu.push((d.user + d.system) / 1000);
              deferred.resolve();
            },
            (e: unknown) => {
              console.error(e);
              deferred.resolve();
            },
          );
      },
    });
    await new Promise<void>((resolve, reject) => {
      bench.on('complete', () => resolve());
      bench.on('error', (e: { target?: { error?: unknown } }) => reject(e.target?.error ?? e));
      bench.run({ async: true });
    });
    if (bench.error) throw bench.error;
    const sorted = bench.stats.sample.map((s) => s * 1000).sort((a, b) => a - b);
    const medianMs = quantile(sorted, 0.5);
    const res: BenchResult = {
      group: c.group,
      name: c.name,
      medianMs,
      iqrMs: quantile(sorted, 0.75) - quantile(sorted, 0.25),
      minMs: sorted[0]!,
      samples: sorted.length,
    };
    if (cpu.length) {
      cpu.sort((a, b) => a - b);
      res.cpuMs = quantile(cpu, 0.5);
      res.cpuMinMs = cpu[0]!;
    }
    if (c.flops) res.gflops = c.flops / (medianMs * 1e6);
    if (c.bytes) res.gbps = c.bytes / (medianMs * 1e6);
    if (c.items) res.throughput = `${fmtNum(c.items.count / (medianMs / 1000))} ${c.items.unit}/s`;
    if (c.peer) {
      res.peer = c.peer;
      res.versus = c.versus ?? caseKey(c);
    }
    return res;
  } finally {
    dispose();
  }
}

/** Three significant figures, without exponent notation for the sizes seen here. */
export function fmtNum(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toPrecision(3);
}

export function markdownTable(results: BenchResult[]): string {
  const rows = results.map((r) =>
    [
      r.group,
      r.peer ? `${r.name} [${r.peer}]` : r.name,
      fmtNum(r.medianMs),
      `±${fmtNum(r.iqrMs / 2)}`,
      r.cpuMs !== undefined ? fmtNum(r.cpuMs) : '',
      r.gflops !== undefined ? fmtNum(r.gflops) : '',
      r.gbps !== undefined ? fmtNum(r.gbps) : '',
      r.peakFraction !== undefined ? `${(100 * r.peakFraction).toFixed(1)}%` : '',
      r.throughput ?? '',
      String(r.samples),
    ].join(' | '),
  );
  return [
    '| group | case | median ms | ±IQR/2 | CPU ms | GFLOP/s | GB/s | of peak | throughput | samples |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r} |`),
  ].join('\n');
}

export interface PeerRatio {
  ours: string;
  peer: string;
  oursMs: number;
  peerMs: number;
  /** ours / peer median time: below 1 means ours is faster. */
  ratio: number;
}

/** Every (our case, peer case) pair measured in this run. */
export function peerRatios(results: BenchResult[]): PeerRatio[] {
  const ours = new Map(results.filter((r) => !r.peer).map((r) => [caseKey(r), r]));
  return results.flatMap((p) => {
    const o = p.peer ? ours.get(p.versus!) : undefined;
    return o ? [{ ours: caseKey(o), peer: `${p.peer}: ${caseKey(p)}`, oursMs: o.medianMs, peerMs: p.medianMs, ratio: o.medianMs / p.medianMs }] : [];
  });
}

export function peerTable(ratios: PeerRatio[]): string {
  return [
    '| our case | peer | ours ms | peer ms | ours/peer time | speed-up |',
    '|---|---|---|---|---|---|',
    ...ratios.map((r) => `| ${r.ours} | ${r.peer} | ${fmtNum(r.oursMs)} | ${fmtNum(r.peerMs)} | ${r.ratio.toFixed(3)} | ${fmtNum(1 / r.ratio)}x |`),
  ].join('\n');
}

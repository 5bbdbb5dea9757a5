// Benchmark harness over benchmark.js: each case records GPU work, waits for the queue to drain
// (deferred benchmark), and reports the median time per run with the spread of the samples, plus
// GFLOP/s or GB/s when the case states its work (nominal and executed FLOPs: see BenchCase), and the
// process CPU time per run (lavapipe's worker
// threads run in-process, so on a software adapter CPU time is the work itself, whatever the load of a
// shared machine). Absolute times only mean something on a real GPU; on software adapters compare
// ratios between cases of the same run.
//
// Peers: a case with `peer` set (e.g. 'tfjs-webgpu') is another library's implementation of one of
// our cases, named by `compareTo` ("group/name"). The suite prints, for every such pair measured in
// the same run, our time over the peer's and the peer's over ours, per item when both state items
// (peerRatios()).

import Benchmark from 'benchmark';
import type { Gpu } from '../src/gpu';

export interface CaseRun {
  run: () => void | Promise<void>;
  dispose: () => void;
  /** FLOPs the kernels perform per run when only the device decides them (overrides the case's). */
  executedFlops?: number;
}

export interface BenchCase {
  /** Family, e.g. "matmul": used by --filter and in the table. */
  group: string;
  name: string;
  /**
   * Nominal floating-point operations per run: the textbook count of the work (a conv: the direct
   * convolution's), whatever algorithm does it; gives the nominal GFLOP/s.
   */
  flops?: number;
  /**
   * Operations the kernels actually perform per run, where they differ from `flops` (Winograd: fewer
   * multiplies plus transforms; conv-flops.ts); gives the executed GFLOP/s and the fraction of the FLOP
   * peak. Absent: the same as `flops`.
   */
  executedFlops?: number;
  /** Bytes moved per run (for GB/s and the fraction of the copy-bandwidth peak). */
  bytes?: number;
  /** Items processed per run and their unit (for throughput, e.g. samples/s). */
  items?: { count: number; unit: string };
  /** Allocate inputs; returns the function that records one run, and a cleanup. */
  setup(gpu: Gpu): CaseRun | Promise<CaseRun>;
  /** Set on a peer library's implementation: the peer's name, e.g. 'tfjs-webgpu'. */
  peer?: string;
  /** For peer cases: "group/name" of our case doing the same work (pulled into any selection). */
  compareTo?: string;
  /** Slow case: left out unless --filter matches it. */
  optIn?: boolean;
  /** Sampling for slow cases, overriding the run's (benchmark.js minSamples, maxTime in s). */
  sampling?: { minSamples: number; maxTime: number };
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
  /** Nominal GFLOP/s (the case's `flops`). */
  gflops?: number;
  /** GFLOP/s of the arithmetic performed (`executedFlops`, else `flops`). */
  executedGflops?: number;
  gbps?: number;
  /** Executed GFLOP/s over the run's FLOP peak, or GB/s over its bandwidth peak (peak.ts: at most 1). */
  peakFraction?: number;
  throughput?: string;
  peer?: string;
  compareTo?: string;
  /** Items per run, copied from the case after setup (for per-item peer ratios). */
  items?: { count: number; unit: string };
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
  const { run, dispose, executedFlops } = await c.setup(gpu);
  try {
    await run(); // warm-up: compiles pipelines, fills the pool
    await gpu.sync();
    const cpu: number[] = [];
    const bench = new Benchmark(caseKey(c), {
      defer: true,
      minSamples: c.sampling?.minSamples ?? opts.minSamples ?? 5,
      maxTime: c.sampling?.maxTime ?? opts.maxTime ?? 3,
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
    const executed = executedFlops ?? c.executedFlops ?? c.flops;
    if (executed) res.executedGflops = executed / (medianMs * 1e6);
    if (c.bytes) res.gbps = c.bytes / (medianMs * 1e6);
    if (c.items) {
      res.items = { ...c.items };
      res.throughput = `${fmtNum(c.items.count / (medianMs / 1000))} ${c.items.unit}/s`;
    }
    if (c.peer) res.peer = c.peer;
    if (c.compareTo) res.compareTo = c.compareTo;
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
      r.executedGflops !== undefined ? fmtNum(r.executedGflops) : '',
      r.gbps !== undefined ? fmtNum(r.gbps) : '',
      r.peakFraction !== undefined ? `${(100 * r.peakFraction).toFixed(1)}%` : '',
      r.throughput ?? '',
      String(r.samples),
    ].join(' | '),
  );
  return [
    '| group | case | median ms | ±IQR/2 | CPU ms | nominal GFLOP/s | executed GFLOP/s | GB/s | of peak | throughput | samples |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r} |`),
  ].join('\n');
}

export interface PeerRatio {
  ours: string;
  peer: string;
  peerCase: string;
  oursMs?: number;
  peerMs?: number;
  /** ours / peer time (per item when both state items): below 1 means ours is faster. */
  ratio?: number;
  note?: string;
}

const perItem = (r: BenchResult): number => (r.items && r.items.count > 0 ? r.medianMs / r.items.count : r.medianMs);

/** Every peer case of the run with the case of ours it names; a missing side is noted with the reason. */
export function peerRatios(results: BenchResult[], peerCases: BenchCase[] = [], failures: Map<string, string> = new Map()): PeerRatio[] {
  const byKey = new Map(results.map((r) => [caseKey(r), r]));
  const peers = [...new Map([...results.filter((r) => r.peer), ...peerCases.filter((c) => c.peer)].map((c) => [caseKey(c), c])).values()];
  return peers.flatMap((c) => {
    if (!c.compareTo) return [];
    const p = byKey.get(caseKey(c));
    const o = byKey.get(c.compareTo);
    const row: PeerRatio = { ours: c.compareTo, peer: c.peer!, peerCase: caseKey(c), oursMs: o?.medianMs, peerMs: p?.medianMs };
    if (!p) row.note = `peer not measured: ${failures.get(caseKey(c)) ?? 'not selected'}`;
    else if (!o) row.note = `ours not measured: ${failures.get(c.compareTo) ?? 'not selected'}`;
    else if (p.items && o.items && p.items.unit !== o.items.unit) row.note = `units differ (${o.items.unit} vs ${p.items.unit})`;
    else row.ratio = p.items && o.items ? perItem(o) / perItem(p) : o.medianMs / p.medianMs;
    return [row];
  });
}

export function peerTable(ratios: PeerRatio[]): string {
  const f = (v: number | undefined) => (v === undefined ? '' : fmtNum(v));
  return [
    '| our case | peer | peer case | ours ms | peer ms | ours/peer time | speed-up (peer/ours) |',
    '|---|---|---|---|---|---|---|',
    ...ratios.map(
      (r) => `| ${r.ours} | ${r.peer} | ${r.peerCase} | ${f(r.oursMs)} | ${f(r.peerMs)} | ${r.ratio === undefined ? (r.note ?? '') : r.ratio.toFixed(3)} | ${r.ratio === undefined ? '' : `${fmtNum(1 / r.ratio)}x`} |`,
    ),
  ].join('\n');
}

// Benchmark harness over benchmark.js: each case records GPU work, waits for the queue to drain
// (deferred benchmark), and reports the median time per run with the spread of the samples, plus
// GFLOP/s or GB/s when the case states its work. Absolute times only mean something on a real GPU;
// on software adapters compare ratios between cases of the same run.

import Benchmark from 'benchmark';
import type { Gpu } from '../src/gpu';

export interface BenchCase {
  /** Family, e.g. "matmul": used by --filter and in the table. */
  group: string;
  name: string;
  /** Floating-point operations per run (for GFLOP/s). */
  flops?: number;
  /** Bytes moved per run (for GB/s). */
  bytes?: number;
  /** Items processed per run and their unit (for throughput, e.g. samples/s). */
  items?: { count: number; unit: string };
  /** Peer library that runs this case (e.g. "tfjs-webgpu"); absent for our own kernels. */
  peer?: string;
  /** `group/name` of our case doing the same work: the ours/peer ratio pairs them (bench/peers/ratios.ts). */
  compareTo?: string;
  /** Slow case: left out of the default and --quick runs, run only when --filter matches it. */
  optIn?: boolean;
  /** Sampling for slow cases, overriding the run's (benchmark.js minSamples, maxTime in s). */
  sampling?: { minSamples: number; maxTime: number };
  /** Allocate inputs; returns the function that records one run, and a cleanup. */
  setup(gpu: Gpu): { run: () => void | Promise<void>; dispose: () => void };
}

export interface BenchResult {
  group: string;
  name: string;
  medianMs: number;
  /** Interquartile range of the per-run times, in ms. */
  iqrMs: number;
  samples: number;
  gflops?: number;
  gbps?: number;
  throughput?: string;
}

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export async function measure(gpu: Gpu, c: BenchCase, opts: { maxTime?: number; minSamples?: number } = {}): Promise<BenchResult> {
  const { run, dispose } = c.setup(gpu);
  try {
    await run(); // warm-up: compiles pipelines, fills the pool
    await gpu.sync();
    const bench = new Benchmark(`${c.group}/${c.name}`, {
      defer: true,
      minSamples: c.sampling?.minSamples ?? opts.minSamples ?? 5,
      maxTime: c.sampling?.maxTime ?? opts.maxTime ?? 3,
      initCount: 1,
      fn: (deferred: Benchmark.Deferred) => {
        Promise.resolve(run())
          .then(() => gpu.sync())
          .then(() => deferred.resolve(), (e: unknown) => {
            console.error(e);
            deferred.resolve();
          });
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
      samples: sorted.length,
    };
    if (c.flops) res.gflops = c.flops / (medianMs * 1e6);
    if (c.bytes) res.gbps = c.bytes / (medianMs * 1e6);
    if (c.items) res.throughput = `${(c.items.count / (medianMs / 1000)).toFixed(1)} ${c.items.unit}/s`;
    return res;
  } finally {
    dispose();
  }
}

export function markdownTable(results: BenchResult[]): string {
  const rows = results.map((r) =>
    [
      r.group,
      r.name,
      r.medianMs.toFixed(3),
      `±${(r.iqrMs / 2).toFixed(3)}`,
      r.gflops?.toFixed(2) ?? '',
      r.gbps?.toFixed(2) ?? '',
      r.throughput ?? '',
      String(r.samples),
    ].join(' | '),
  );
  return [
    '| group | case | median ms | ±IQR/2 | GFLOP/s | GB/s | throughput | samples |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r} |`),
  ].join('\n');
}

// The adapter's peaks, measured once per run so every case can state its fraction of them:
//   FLOP peak  the best GFLOP/s of our matmul over square sizes (512, 1024; 2048 and 4096 too on a
//              hardware adapter, where small sizes cannot fill the device), fp32;
//   bandwidth  the best GB/s of a 64 MiB buffer-to-buffer copy (copyBufferToBuffer; counted as read +
//              write), the fastest way the API offers to move memory.
// Both are what this code reaches, not the vendor's datasheet figure: the fraction says how close a
// kernel comes to our best, which is the useful number on a software adapter. A case's fraction
// divides its executed GFLOP/s (the arithmetic it performs, not a Winograd layer's nominal direct-conv
// count) by the FLOP peak; when a case itself runs faster than the matmul (or moves more GB/s than the
// copy), it is the best this adapter was seen to do, and withCasePeaks makes it the peak, named, so
// that no fraction passes 100%.

import type { Gpu } from '../src/gpu';
import { type BenchCase, type BenchResult, measure } from './harness';
import { squareMatmul } from './matmul';

export interface Peak {
  gflops: number;
  gflopsFrom: string;
  gbps: number;
  gbpsFrom: string;
  method: string;
}

function copyCase(mib: number): BenchCase {
  const bytes = mib * 1024 * 1024;
  return {
    group: 'peak',
    name: `copy ${mib} MiB`,
    bytes: 2 * bytes,
    setup(gpu) {
      const a = gpu.zeros([bytes / 4]);
      const b = gpu.zeros([bytes / 4]);
      return { run: () => gpu.copy(a, b), dispose: () => (a.dispose(), b.dispose()) };
    },
  };
}

function best(results: BenchResult[], key: 'gflops' | 'gbps'): BenchResult {
  return results.reduce((a, b) => ((b[key] ?? 0) > (a[key] ?? 0) ? b : a));
}

export async function measurePeak(gpu: Gpu, quick: boolean): Promise<Peak> {
  const sizes = gpu.adapter.isFallbackAdapter ? [512, 1024] : [512, 1024, 2048, 4096];
  const opts = quick ? { maxTime: 0.5, minSamples: 3 } : { maxTime: 1.5, minSamples: 5 };
  const mm: BenchResult[] = [];
  for (const n of sizes) mm.push(await measure(gpu, squareMatmul(n), opts));
  const cp = [await measure(gpu, copyCase(64), opts)];
  const f = best(mm, 'gflops');
  const c = best(cp, 'gbps');
  return {
    gflops: f.gflops!,
    gflopsFrom: `matmul ${f.name}`,
    gbps: c.gbps!,
    gbpsFrom: `copyBufferToBuffer ${c.name.replace('copy ', '')}`,
    method: `FLOP peak: best median GFLOP/s of our fp32 matmul over ${sizes.map((n) => `${n}^3`).join(', ')}; bandwidth peak: median GB/s (read + write) of a 64 MiB copyBufferToBuffer`,
  };
}

/** Fraction of the FLOP peak (executed GFLOP/s) for compute cases, else of the bandwidth peak. */
export function peakFraction(r: BenchResult, p: Peak): number | undefined {
  const gflops = r.executedGflops ?? r.gflops;
  if (gflops !== undefined) return gflops / p.gflops;
  if (r.gbps !== undefined) return r.gbps / p.gbps;
  return undefined;
}

/** The peak raised to any case of the run that beat it (executed GFLOP/s, GB/s), with what raised it. */
export function withCasePeaks(p: Peak, results: readonly BenchResult[]): { peak: Peak; raised: string[] } {
  const peak = { ...p };
  const raised: string[] = [];
  for (const r of results) {
    const gflops = r.executedGflops ?? r.gflops;
    if (gflops !== undefined && gflops > peak.gflops) {
      peak.gflops = gflops;
      peak.gflopsFrom = `${r.group}/${r.name}, faster than ${p.gflopsFrom}`;
    }
    if (r.gbps !== undefined && r.gbps > peak.gbps) {
      peak.gbps = r.gbps;
      peak.gbpsFrom = `${r.group}/${r.name}, faster than ${p.gbpsFrom}`;
    }
  }
  if (peak.gflops !== p.gflops) raised.push(`FLOP peak raised to ${peak.gflops.toFixed(2)} GFLOP/s (${peak.gflopsFrom})`);
  if (peak.gbps !== p.gbps) raised.push(`bandwidth peak raised to ${peak.gbps.toFixed(2)} GB/s (${peak.gbpsFrom})`);
  return { peak, raised };
}

// The benchmark suite: every case family, filtered by --filter, printed as a Markdown table and
// optionally written as JSON.

import { writeFileSync } from 'node:fs';
import type { Gpu } from '../src/gpu';
import { createNodeGpu } from '../src/gpu/node.node.ts';
import { type BenchCase, type BenchResult, markdownTable, measure } from './harness';
import { matmulCases } from './matmul';

export interface BenchOptions {
  filter?: string;
  json?: string;
  quick?: boolean;
}

export function allCases(): BenchCase[] {
  return [...matmulCases()];
}

export async function runBench(opts: BenchOptions): Promise<BenchResult[]> {
  const re = opts.filter ? new RegExp(opts.filter, 'i') : null;
  const cases = allCases().filter((c) => !re || re.test(`${c.group}/${c.name}`));
  if (cases.length === 0) throw new Error(`no benchmark matches --filter ${opts.filter}; cases: ${allCases().map((c) => `${c.group}/${c.name}`).join(', ')}`);
  const gpu: Gpu = await createNodeGpu();
  const results: BenchResult[] = [];
  try {
    const a = gpu.adapter;
    console.log(`adapter: ${[a.vendor, a.architecture, a.description].filter(Boolean).join(' | ')}`);
    console.log(`date: ${new Date().toISOString()}`);
    for (const c of cases) {
      const r = await measure(gpu, c, opts.quick ? { maxTime: 1, minSamples: 3 } : {});
      console.log(`${c.group}/${c.name}: ${r.medianMs.toFixed(3)} ms${r.gflops ? `, ${r.gflops.toFixed(2)} GFLOP/s` : ''}`);
      results.push(r);
    }
  } finally {
    gpu.destroy();
  }
  console.log(`\n${markdownTable(results)}`);
  if (opts.json) writeFileSync(opts.json, JSON.stringify({ adapter: gpu.adapter, date: new Date().toISOString(), results }, null, 2));
  return results;
}

// The benchmark suite: every case family, filtered by --filter, printed as a Markdown table and
// optionally written as JSON. Peer cases (bench/peers/) run in the same process as the cases of ours
// they name in compareTo (those are added to any selection), and a table of ours/peer ratios follows.
// Opt-in cases (the slow tfjs-webgpu model steps) run only when --filter matches them.

import { writeFileSync } from 'node:fs';
import type { Gpu } from '../src/gpu';
import { createNodeGpu } from '../src/gpu/node.node.ts';
import { conv2dCases } from './conv2d';
import { type BenchCase, type BenchResult, markdownTable, measure } from './harness';
import { matmulCases } from './matmul';
import { meydaCases } from './peers/meyda';
import { onnxruntimeCases } from './peers/onnxruntime';
import { ourStageCases } from './peers/ours';
import { peerRatios, ratioTable } from './peers/ratios';
import { shutdownTfjs, tfjsCases } from './peers/tfjs';

export interface BenchOptions {
  filter?: string;
  json?: string;
  quick?: boolean;
}

export function allCases(): BenchCase[] {
  return [
    ...matmulCases(),
    ...conv2dCases(),
    ...ourStageCases(),
    ...tfjsCases(),
    ...onnxruntimeCases(),
    ...meydaCases(),
  ];
}

const key = (c: { group: string; name: string }) => `${c.group}/${c.name}`;

/** The cases --filter selects (opt-in ones only when it matches them), plus the cases of ours the selected peers pair with. */
export function selectCases(all: BenchCase[], filter?: string): BenchCase[] {
  const re = filter ? new RegExp(filter, 'i') : null;
  const picked = new Set(all.filter((c) => (re ? re.test(key(c)) : !c.optIn)).map(key));
  for (const c of all) if (picked.has(key(c)) && c.compareTo) picked.add(c.compareTo);
  return all.filter((c) => picked.has(key(c)));
}

export async function runBench(opts: BenchOptions): Promise<BenchResult[]> {
  const all = allCases();
  const cases = selectCases(all, opts.filter);
  if (cases.length === 0) throw new Error(`no benchmark matches --filter ${opts.filter}; cases: ${all.map(key).join(', ')}`);
  const gpu: Gpu = await createNodeGpu();
  const results: BenchResult[] = [];
  const failures = new Map<string, string>();
  try {
    const a = gpu.adapter;
    console.log(`adapter: ${[a.vendor, a.architecture, a.description].filter(Boolean).join(' | ')}`);
    console.log(`date: ${new Date().toISOString()}`);
    for (const c of cases) {
      try {
        const r = await measure(gpu, c, opts.quick ? { maxTime: 1, minSamples: 3 } : {});
        console.log(`${key(c)}: ${r.medianMs.toFixed(3)} ms${r.gflops ? `, ${r.gflops.toFixed(2)} GFLOP/s` : ''}${r.throughput ? `, ${r.throughput}` : ''}`);
        results.push(r);
      } catch (e) {
        const why = (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
        failures.set(key(c), why);
        console.log(`${key(c)}: FAILED (${why})`);
      }
    }
  } finally {
    await shutdownTfjs();
    gpu.destroy();
  }
  console.log(`\n${markdownTable(results)}`);
  const ratios = peerRatios(cases, results, failures);
  if (ratios.length) console.log(`\nours/peer (peer time per item / ours; > 1: ours faster):\n${ratioTable(ratios)}`);
  if (opts.json) writeFileSync(opts.json, JSON.stringify({ adapter: gpu.adapter, date: new Date().toISOString(), results, ratios, failures: Object.fromEntries(failures) }, null, 2));
  return results;
}

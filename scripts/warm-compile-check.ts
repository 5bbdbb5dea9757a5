// Mechanism check for compiling ahead by dispatch (issue 30 item 2): on lavapipe, does a dispatch with
// one workgroup trigger the LLVM compile, do two devices compile in parallel, and does one device's
// compile serve another through Mesa's disk cache? Run with a fresh cache each time:
//   MESA_SHADER_CACHE_DIR=$(mktemp -d) npx tsx scripts/warm-compile-check.ts MODE N
// MODE: serial (A compiles N pipelines one at a time), parallel (A and B take turns from one queue),
// cross (B compiles all N, then A dispatches them). Prints wall and process CPU seconds.
import { readdirSync, readFileSync } from 'node:fs';
import { createNodeGpu } from '../src/gpu/node.node.ts';
import type { Gpu } from '../src/gpu';
import type { DispatchSpec } from '../src/gpu/runtime';
import { modelConfig } from '../src/nn/model';
import { traceTraining, trainingBatchSizes } from '../src/train/loop/warmup';

const [mode, nArg, wgArg] = process.argv.slice(2);
const n = Number(nArg ?? 12);
const oneGroup = wgArg !== 'full';
const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1e6; };
// Per-thread CPU seconds (linux): which threads did the compiling.
const threads = (): Map<string, number> => {
  const out = new Map<string, number>();
  for (const t of readdirSync('/proc/self/task')) {
    try {
      const st = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      out.set(`${t}:${st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'))}`, (Number(f[11]) + Number(f[12])) / 100);
    } catch { /* thread gone */ }
  }
  return out;
};
const busiest = (before: Map<string, number>): string => [...threads()].map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const).filter(([, d]) => d >= 0.5).sort((a, b) => b[1] - a[1]).map(([k, d]) => `${k} ${d.toFixed(1)} s`).join(', ');
const sizes = trainingBatchSizes(152, 8, 152, 40);

/** The distinct pipelines (by WGSL) of an epoch of `npm run train`'s work on `gpu`, in first-use order. */
function traced(gpu: Gpu): Map<string, DispatchSpec> {
  const { dispatches } = traceTraining(gpu, modelConfig({ bnMomentum: 0.9 }), sizes, {}); // kept alive to the end: their buffers are bound
  const byCode = new Map<string, DispatchSpec>();
  for (const s of dispatches) { const c = s.code(); if (!byCode.has(c)) byCode.set(c, s); }
  return byCode;
}
const run = async (gpu: Gpu, spec: DispatchSpec, one: boolean) => { gpu.dispatch(one ? { ...spec, workgroups: [1, 1, 1] } : spec); await gpu.sync(); };

const A = await createNodeGpu();
const B = mode === 'serial' ? null : await createNodeGpu();
const tA = traced(A);
const tB = B ? traced(B) : null;
// The heaviest families first (winograd, matmul), then the rest, in first-use order.
const codes = [...tA.keys()];
const heavy = codes.filter((c) => /^winograd|^matmul|^stem|^conv2d/.test(tA.get(c)!.key));
const pick = [...heavy, ...codes.filter((c) => !heavy.includes(c))].slice(0, n);
// Creation (Tint/NIR) outside the timed part, on each device.
for (const c of pick) { A.pipelines.get(tA.get(c)!.key, () => c); if (B && tB!.get(c)) B.pipelines.get(tB!.get(c)!.key, () => c); }
await A.sync(); if (B) await B.sync();
console.log(`${pick.length} pipelines: ${pick.map((c) => tA.get(c)!.key.split(':')[0]).join(' ')}`);
let w0 = performance.now(), c0 = cpu();
const th0 = threads();
if (mode === 'serial') {
  for (const c of pick) await run(A, tA.get(c)!, oneGroup);
} else if (mode === 'parallel') {
  const queue = [...pick];
  const worker = async (g: Gpu, t: Map<string, DispatchSpec>) => { for (let c = queue.shift(); c !== undefined; c = queue.shift()) await run(g, t.get(c)!, oneGroup); };
  await Promise.all([worker(A, tA), worker(B!, tB!)]);
} else {
  for (const c of pick) await run(B!, tB!.get(c)!, oneGroup);
}
console.log(`${mode} warm-up (${oneGroup ? '1 workgroup' : 'full grid'}): wall ${((performance.now() - w0) / 1000).toFixed(2)} s, CPU ${(cpu() - c0).toFixed(2)} s; threads: ${busiest(th0)}`);
// Then A's real dispatches (full grid), twice: the first after the warm-up, then a warm one.
for (const pass of ['first real', 'second real']) {
  w0 = performance.now(); c0 = cpu();
  for (const c of pick) await run(A, tA.get(c)!, false);
  console.log(`A ${pass} dispatches: wall ${((performance.now() - w0) / 1000).toFixed(2)} s, CPU ${(cpu() - c0).toFixed(2)} s`);
}
A.destroy(); B?.destroy();

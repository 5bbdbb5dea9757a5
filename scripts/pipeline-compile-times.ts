// Cold compile cost of every distinct pipeline a training run uses, per kernel family: the figures
// behind the cold-start work of issue 30 (bench/RESULTS.md). lavapipe compiles a compute shader with
// LLVM at its first dispatch, not at createComputePipeline (which only runs Tint and NIR, ~10-30 ms),
// so each pipeline is timed where the cost lands: the stages of precompileTraining (train/loop/warmup.ts:
// a training step per batch size, BN recalibration, validation) are recorded with their bindings, then
// replayed one dispatch at a time; the first dispatch of each distinct WGSL is timed (process CPU, which
// counts lavapipe's threads and holds still on a loaded machine) together with its pipeline creation,
// then dispatched again, and the difference is the compile. Run with a fresh Mesa cache, or every
// pipeline is a cache hit:
//
//   MESA_SHADER_CACHE_DIR=$(mktemp -d) npx tsx scripts/pipeline-compile-times.ts 152 8 152 40 [--json FILE]
//
// Arguments: training clips, batch, recalibration clips, validation rows (as scripts/pipeline-trace.ts).
// Prints one line per family (pipelines, total / largest compile CPU s, WGSL lines), sorted by total,
// then the ten most expensive pipelines. Slow on purpose (a sync per dispatch): minutes of CPU, so each
// pipeline's figures go to stderr as they come (and to --json FILE after each), the first pipeline of
// every family first: an interrupted run still gives every family's cost. --limit N stops after N.
import { writeFileSync } from 'node:fs';
import { createNodeGpu } from '../src/gpu/node.node.ts';
import { Tensor } from '../src/gpu';
import type { DispatchSpec } from '../src/gpu/runtime';
import { familyOf } from '../src/gpu/pipelines';
import { modelConfig } from '../src/nn/model';
import { precompileTraining, trainingBatchSizes } from '../src/train/loop/warmup';

const args = process.argv.slice(2);
const jsonAt = args.indexOf('--json');
const jsonFile = jsonAt >= 0 ? args.splice(jsonAt, 2)[1] : undefined;
const limitAt = args.indexOf('--limit');
const limit = limitAt >= 0 ? Number(args.splice(limitAt, 2)[1]) : Infinity;
if (!(limit >= 1)) throw new Error(`--limit must be a positive integer, got '${process.argv.slice(2).join(' ')}'`);
const [train, batch, recal, val] = args.map(Number) as [number, number, number, number];
if (args.length !== 4 || ![train, batch, recal, val].every((n) => Number.isInteger(n) && n >= 1)) {
  throw new Error(`usage: scripts/pipeline-compile-times.ts TRAIN BATCH RECALIBRATE VAL [--json FILE] (positive integers), got '${process.argv.slice(2).join(' ')}'`);
}
if (!process.env.MESA_SHADER_CACHE_DIR) console.error('note: MESA_SHADER_CACHE_DIR is unset: compiles already in the Mesa cache read as ~0');
const sizes = trainingBatchSizes(train, batch, recal, val);
const gpu = await createNodeGpu();
const cpuMs = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };

// Record: every dispatch with its bindings resolved to buffers, none released (so all stay valid).
const recorded: DispatchSpec[] = [];
const dispatch = gpu.dispatch.bind(gpu);
const release = gpu.releaseBuffer.bind(gpu);
gpu.dispatch = (spec) => void recorded.push({ ...spec, bindings: spec.bindings.map((b) => (b instanceof Tensor ? b.buffer : b)) });
gpu.releaseBuffer = () => {};
await precompileTraining(gpu, modelConfig({ bnMomentum: 0.9 }), sizes);
gpu.dispatch = dispatch;

interface Row { key: string; family: string; lines: number; chars: number; createMs: number; compileMs: number; runMs: number }
const rows: Row[] = [];
// Distinct WGSL in dispatch order, then the first of each family moved to the front.
// Each recorded dispatch's WGSL is generated once here (the map's key), not again per use.
const byCode = new Map<string, DispatchSpec>();
for (const spec of recorded) {
  const code = spec.code();
  if (!byCode.has(code)) byCode.set(code, spec);
}
const families = new Set<string>();
const distinct = [...byCode];
const firsts = distinct.filter(([, sp]) => !families.has(familyOf(sp.key)) && families.add(familyOf(sp.key)));
const order = [...firsts, ...distinct.filter((e) => !firsts.includes(e))].slice(0, limit);
console.error(`${byCode.size} distinct pipelines (${families.size} families), timing ${order.length}`);
await gpu.sync();
for (const [code, spec] of order) {
  const c0 = cpuMs();
  gpu.pipelines.get(spec.key, () => code);
  const c1 = cpuMs();
  gpu.dispatch(spec);
  await gpu.sync();
  const c2 = cpuMs();
  gpu.dispatch(spec);
  await gpu.sync();
  const c3 = cpuMs();
  const row: Row = { key: spec.key, family: familyOf(spec.key), lines: code.split('\n').length, chars: code.length, createMs: c1 - c0, compileMs: Math.max(0, c2 - c1 - (c3 - c2)), runMs: c3 - c2 };
  rows.push(row);
  console.error(`${rows.length}/${order.length} ${(row.createMs + row.compileMs).toFixed(0)} ms (create ${row.createMs.toFixed(0)}, run ${row.runMs.toFixed(0)}) ${row.lines} lines ${row.key}`);
  if (jsonFile) writeFileSync(jsonFile, JSON.stringify({ sizes, rows }, null, 1));
}
gpu.releaseBuffer = release;

const fams = new Map<string, Row[]>();
for (const r of rows) fams.set(r.family, [...(fams.get(r.family) ?? []), r]);
const s = (ms: number) => (ms / 1000).toFixed(2);
const total = (rs: Row[]) => rs.reduce((a, r) => a + r.compileMs + r.createMs, 0);
console.log(`sizes ${JSON.stringify(sizes)}: ${rows.length} of ${byCode.size} distinct pipelines, cold compile ${s(total(rows))} CPU s (creation ${s(rows.reduce((a, r) => a + r.createMs, 0))} s of it)`);
console.log('family                      pipelines  total s  max s  WGSL lines (max)');
for (const [f, rs] of [...fams].sort((a, b) => total(b[1]) - total(a[1]))) {
  console.log(`${f.padEnd(28)}${String(rs.length).padStart(9)}${s(total(rs)).padStart(9)}${s(Math.max(...rs.map((r) => r.compileMs + r.createMs))).padStart(7)}  ${Math.max(...rs.map((r) => r.lines))}`);
}
console.log('most expensive:');
for (const r of [...rows].sort((a, b) => b.compileMs - a.compileMs).slice(0, 10)) console.log(`  ${s(r.compileMs + r.createMs)} s  ${r.lines} lines  ${r.key}`);
gpu.destroy();

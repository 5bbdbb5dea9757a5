// Distinct pipelines (distinct WGSL) that precompileTraining (train/loop/warmup.ts) traces for an
// epoch's batch sizes, per kernel family, without compiling anything: PipelineCache.prepare is replaced
// by a recorder, so it takes seconds even on a cold shader cache (scripts/pipeline-stats.ts compiles
// and times the same stages). Arguments: training clips, batch, recalibration clips, validation rows.
//
//   npx tsx scripts/pipeline-trace.ts 153 32 153 48
import { createNodeGpu } from '../src/gpu/node.node.ts';
import { modelConfig } from '../src/nn/model';
import { precompileTraining, trainingBatchSizes } from '../src/train/loop/warmup';
import { familyOf, type PipelineSpec } from '../src/gpu/pipelines';

const [train, batch, recal, val] = process.argv.slice(2).map(Number) as [number, number, number, number];
if (![train, batch, recal, val].every((n) => Number.isInteger(n) && n >= 1)) {
  throw new Error(`usage: scripts/pipeline-trace.ts TRAIN BATCH RECALIBRATE VAL (positive integers), got '${process.argv.slice(2).join(' ')}'`);
}
const sizes = trainingBatchSizes(train, batch, recal, val);
const gpu = await createNodeGpu();
const codes = new Map<string, string>();
(gpu.pipelines as { prepare: (specs: readonly PipelineSpec[]) => Promise<number> }).prepare = async (specs) => {
  for (const s of specs) { const c = s.code(); if (!codes.has(c)) codes.set(c, s.key); }
  return 0;
};
const mc = modelConfig({ bnMomentum: 0.9 });
const count = async (label: string, sz: typeof sizes) => {
  codes.clear();
  await precompileTraining(gpu, mc, sz);
  const fam: Record<string, number> = {};
  for (const k of codes.values()) fam[familyOf(k)] = (fam[familyOf(k)] ?? 0) + 1;
  console.log(`${label}: ${codes.size} distinct WGSL`, JSON.stringify(Object.entries(fam).sort((a, b) => b[1] - a[1])));
};
await count(`train ${sizes.train} + recal ${sizes.recalibrate} + eval ${sizes.evaluate}`, sizes);
await count(`train ${sizes.train} only`, { train: sizes.train, recalibrate: [], evaluate: [] });
await count(`train ${sizes.train[0]} only`, { train: [sizes.train[0]!], recalibrate: [], evaluate: [] });
await count(`eval ${sizes.evaluate} only`, { train: [], recalibrate: [], evaluate: sizes.evaluate });
gpu.destroy();

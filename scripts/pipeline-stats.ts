// How many GPU pipelines each stage of a training run compiles, and what they cost: the cold-start
// figures of bench/RESULTS.md. Stages: features (the GPU feature pipeline on one synthetic clip), one
// training step per batch size, BN recalibration and validation (inference) batches, for the default
// `npm run train` shapes unless flags say otherwise. With --ahead the model's pipelines are compiled
// first, all at once, as `ser train` does (train/loop/warmup.ts), and the stages then find them cached.
//
//   MESA_SHADER_CACHE_DIR=$(mktemp -d) npx tsx scripts/pipeline-stats.ts [--ahead] [--batch 8]
//       [--train 152] [--val 40] [--recalibrate 256] [--json]
//
// A fresh MESA_SHADER_CACHE_DIR simulates a machine that never ran the project (lavapipe compiles
// every pipeline with LLVM); without it the figures are Dawn's own work plus Mesa cache hits.

import { parseArgs } from 'node:util';
import { makeExtractor } from '../src/cli/extractor';
import { defaultFeatureConfig } from '../src/dsp/config';
import { createTunedNodeGpu } from '../src/tune/runtime.node.ts';
import { describeStats, type PipelineStats } from '../src/gpu/pipelines';
import { modelConfig } from '../src/nn/model';
import { predictLogits, Trainer } from '../src/nn/train-step';
import { SerModel } from '../src/nn/model';
import { synthesizeClip, makeSpeakers } from '../src/train/data/synth';
import { precompileTraining, trainingBatchSizes } from '../src/train/loop/warmup';

const { values: f } = parseArgs({
  options: {
    ahead: { type: 'boolean', default: false },
    batch: { type: 'string', default: '8' },
    train: { type: 'string', default: '152' },
    val: { type: 'string', default: '40' },
    recalibrate: { type: 'string', default: '256' },
    json: { type: 'boolean', default: false },
  },
});
const int = (name: string, v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got '${v}'`);
  return n;
};
const batch = int('batch', f.batch!);
const sizes = trainingBatchSizes(int('train', f.train!), batch, int('recalibrate', f.recalibrate!), int('val', f.val!));

const gpu = await createTunedNodeGpu();
const rows: { stage: string; stats: PipelineStats; seconds: number }[] = [];
async function stage(name: string, run: () => Promise<void> | void): Promise<void> {
  gpu.pipelines.resetStats();
  console.error(`${name} ...`);
  const t0 = performance.now();
  await run();
  await gpu.sync();
  rows.push({ stage: name, stats: gpu.pipelines.statistics(), seconds: (performance.now() - t0) / 1000 });
}

try {
  const clip = synthesizeClip('happy', makeSpeakers(1)[0]!, 1);
  await stage('features (one clip)', async () => void (await makeExtractor(gpu, { ...defaultFeatureConfig }).extract([clip])));
  const mc = modelConfig({ bnMomentum: 0.9 });
  const model = new SerModel(gpu, mc, 0);
  const trainer = new Trainer(model);
  const input = (b: number) => gpu.empty([b, mc.inputRows, mc.inputFrames, 1], 'f32', 'x');
  if (f.ahead) await stage('ahead of use (train/loop/warmup.ts)', async () => void (await precompileTraining(gpu, mc, sizes)));
  await stage(`training step (batch ${sizes.train.join(', ')})`, () =>
    gpu.scope(() => {
      for (const b of sizes.train) trainer.step(input(b), gpu.zeros([b], 'u32', 'y'));
    }),
  );
  await stage(`BN recalibration (batch ${sizes.recalibrate.join(', ')})`, () =>
    gpu.scope(() => {
      // Three batches: the blend weight changes every batch (0, 1/2, 2/3), as in recalibrateBatchNorm.
      for (let i = 0; i < 3; i++) trainer.refreshBatchNorm(input(sizes.recalibrate[Math.min(i, sizes.recalibrate.length - 1)]!), i / (i + 1));
    }),
  );
  await stage(`validation (batch ${sizes.evaluate.join(', ')})`, () =>
    gpu.scope(() => {
      for (const b of sizes.evaluate) predictLogits(model, input(b));
    }),
  );
  trainer.dispose();
  model.dispose();
} finally {
  gpu.destroy();
}

const total = rows.reduce((n, r) => n + r.stats.sync + r.stats.prepared, 0);
if (f.json) {
  console.log(JSON.stringify({ adapter: gpu.adapter.description, mesaCache: process.env.MESA_SHADER_CACHE_DIR ?? null, batch, sizes, total, stages: rows }, null, 2));
} else {
  console.log(`adapter: ${gpu.adapter.description}; MESA_SHADER_CACHE_DIR=${process.env.MESA_SHADER_CACHE_DIR ?? '(default)'}`);
  for (const r of rows) console.log(`${r.stage.padEnd(44)} ${describeStats(r.stats)}; stage ${r.seconds.toFixed(1)} s`);
  console.log(`total: ${total} pipelines`);
}

// Where the time of a step goes: one training step and one inference pass of the seed model at batch
// 32, and one feature batch (32 clips of ~4 s), each run once on a runtime created with
// { profile: true }, which times every dispatch with timestamp queries (src/gpu/profiler.ts). Prints,
// per kernel name, the calls and GPU milliseconds with their share of the summed GPU time, and the
// submits and dispatches of the step (counted by the runtime). Profiling puts each dispatch in its own
// compute pass, so the profiled wall time can differ from the unprofiled cases' figures.

import { GpuFeatureExtractor } from '../src/dsp/gpu-features';
import { summarise, type Gpu } from '../src/gpu';
import { createTunedNodeGpu } from '../src/tune/runtime.node.ts';
import { SerModel, modelConfig } from '../src/nn/model';
import { Trainer } from '../src/nn/train-step';
import { benchClips } from './feature-stages';
import { fmtNum } from './harness';
import { BATCH, labelTensor, randomTensor } from './util';

export interface KernelShare {
  name: string;
  calls: number;
  totalMs: number;
  share: number;
}

export interface ProfileReport {
  name: string;
  wallMs: number;
  gpuMs: number;
  submits: number;
  dispatches: number;
  kernels: KernelShare[];
}

async function profileOnce(gpu: Gpu, name: string, record: () => void): Promise<ProfileReport> {
  record(); // warm-up: pipelines compiled, pool filled
  await gpu.timings();
  const before = { ...gpu.counters };
  const t0 = performance.now();
  record();
  const times = await gpu.timings(); // syncs
  const wallMs = performance.now() - t0;
  const gpuMs = times.reduce((n, t) => n + t.ms, 0);
  return {
    name,
    wallMs,
    gpuMs,
    submits: gpu.counters.submits - before.submits,
    dispatches: gpu.counters.dispatches - before.dispatches,
    kernels: summarise(times).map((k) => ({ ...k, share: k.totalMs / gpuMs })),
  };
}

export function profileTable(r: ProfileReport): string {
  const head =
    `### ${r.name}: ${r.submits} submits, ${r.dispatches} dispatches; GPU time ${fmtNum(r.gpuMs)} ms ` +
    `(sum of timestamp intervals), wall ${fmtNum(r.wallMs)} ms profiled`;
  return [
    head,
    '',
    '| kernel | calls | GPU ms | share |',
    '|---|---|---|---|',
    ...r.kernels.map((k) => `| ${k.name} | ${k.calls} | ${fmtNum(k.totalMs)} | ${(100 * k.share).toFixed(1)}% |`),
  ].join('\n');
}

/** Profiles of the training step, inference and a feature batch; null when timestamps are unavailable. */
export async function profileSection(log: (s: string) => void): Promise<ProfileReport[] | null> {
  let gpu: Gpu;
  try {
    gpu = await createTunedNodeGpu({ profile: true });
  } catch (e) {
    log(`profile: skipped (${e instanceof Error ? e.message : String(e)})`);
    return null;
  }
  try {
    const model = new SerModel(gpu, modelConfig(), 1);
    const trainer = new Trainer(model, { learningRate: 1e-3, clipnorm: 1 });
    const x = randomTensor(gpu, [BATCH, 82, 64, 1]);
    const labels = labelTensor(gpu, BATCH, 8);
    const reports = [
      await profileOnce(gpu, `training step, batch ${BATCH}`, () => trainer.step(x, labels).dispose()),
      await profileOnce(gpu, `inference, batch ${BATCH}`, () => trainer.predict(x).dispose()),
    ];
    trainer.dispose();
    model.dispose();
    const ex = new GpuFeatureExtractor(gpu);
    const clips = benchClips();
    reports.push(
      await profileOnce(gpu, `features, ${clips.length} clips of ~4 s (no readback)`, () => {
        const r = ex.extractTensor(clips);
        r.features.dispose();
        r.clipStats.dispose();
      }),
    );
    ex.dispose();
    return reports;
  } finally {
    gpu.destroy();
  }
}

// Warm cost of one training step and one inference batch of the seed model: median wall and process
// CPU time of K of each, after 3 warm-up steps (which compile the pipelines), as one JSON line. CPU
// time counts lavapipe's worker threads (they run in this process) and stays meaningful on a loaded
// machine. Used to compare Mesa's GALLIVM_PERF modes (bench/RESULTS.md), interleaving runs:
//
//   for i in 1 2; do GALLIVM_PERF=nopt npx tsx scripts/step-cpu.ts 8 6; npx tsx scripts/step-cpu.ts 8 6; done
import { createNodeGpu } from '../src/gpu/node.node.ts';
import { modelConfig, SerModel } from '../src/nn/model';
import { predictLogits, Trainer } from '../src/nn/train-step';

const B = Number(process.argv[2] ?? 8);
const K = Number(process.argv[3] ?? 15);
const gpu = await createNodeGpu();
const mc = modelConfig();
const model = new SerModel(gpu, mc, 1);
const trainer = new Trainer(model);
const x = gpu.upload(Float32Array.from({ length: B * mc.inputRows * mc.inputFrames }, (_, i) => Math.sin(i * 0.37)), [B, mc.inputRows, mc.inputFrames, 1]);
const y = gpu.upload(Uint32Array.from({ length: B }, (_, i) => i % 8), [B], 'u32');
const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)]!;
// Wall and process CPU time (lavapipe's worker threads run in this process, so CPU time is what the
// device work cost, and holds still on a loaded machine where wall time does not).
const cpu: { step: number[]; infer: number[] } = { step: [], infer: [] };
let lastCpu = 0;
const time = async (f: () => void) => {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  f();
  await gpu.sync();
  const c = process.cpuUsage(c0);
  lastCpu = (c.user + c.system) / 1000;
  return performance.now() - t0;
};
const t0 = performance.now();
for (let i = 0; i < 3; i++) await time(() => gpu.scope(() => trainer.step(x, y).dispose()));
for (let i = 0; i < 2; i++) await time(() => gpu.scope(() => predictLogits(model, x).dispose()));
const warmupMs = performance.now() - t0;
const step: number[] = [];
const infer: number[] = [];
for (let i = 0; i < K; i++) {
  step.push(await time(() => gpu.scope(() => trainer.step(x, y).dispose())));
  cpu.step.push(lastCpu);
  infer.push(await time(() => gpu.scope(() => predictLogits(model, x).dispose())));
  cpu.infer.push(lastCpu);
}
console.log(JSON.stringify({ perf: process.env.GALLIVM_PERF ?? '', B, warmupMs: Math.round(warmupMs), stepMs: median(step), inferMs: median(infer), stepCpuMs: median(cpu.step), inferCpuMs: median(cpu.infer), load: (await import('node:os')).loadavg()[0] }));
trainer.dispose(); model.dispose(); gpu.destroy();

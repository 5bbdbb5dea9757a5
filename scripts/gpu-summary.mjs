#!/usr/bin/env node
// `node scripts/gpu-summary.mjs RESULTS_DIR`: the GPU run's outcome in one file, RESULTS_DIR/summary.json,
// from what scripts/gpu-run.sh left there (info.json, tune.json, bench.json, train-time.json,
// torch.json; any may be missing), checked against issue 31's targets:
//   - a 50-epoch RAVDESS run (1200 clips, features included) under 60 s;
//   - the training step at batch 32 faster than PyTorch eager (bench model/train step vs torch-step.py);
//   - every conv layer pass at >= 25% of the GPU's nominal FP32 peak (FP32_PEAK_TFLOPS, else a small
//     table by GPU name; conv GFLOP/s count the direct conv's multiplies, so Winograd passes are
//     effective rates).
// Plain Node, no dependencies (it runs from the bundle).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// Nominal non-tensor-core FP32 TFLOP/s (vendor datasheets, boost clock).
const FP32_TFLOPS = [[/H200/i, 66.9], [/H100.*PCIe/i, 51.2], [/H100/i, 66.9], [/A100/i, 19.5], [/L40S/i, 91.6], [/L4\b/i, 30.3], [/A10G?\b/i, 31.2], [/4090/, 82.6], [/T4\b/, 8.1]];

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node scripts/gpu-summary.mjs RESULTS_DIR');
  process.exit(2);
}
const read = (f) => (existsSync(join(dir, f)) ? JSON.parse(readFileSync(join(dir, f), 'utf8')) : null);
const info = read('info.json');
const tune = read('tune.json');
const bench = read('bench.json');
const train = read('train-time.json');
const torch = read('torch.json');
const gpuName = existsSync(join(dir, 'nvidia-smi.txt')) ? readFileSync(join(dir, 'nvidia-smi.txt'), 'utf8').split(',')[0].trim() : info?.adapter?.description ?? '';
const peakTflops = Number(process.env.FP32_PEAK_TFLOPS) || FP32_TFLOPS.find(([re]) => re.test(gpuName))?.[1] || null;

const results = bench?.results ?? [];
const step = results.find((r) => r.group === 'model' && /^train step batch 32$/.test(r.name) && !r.peer);
const convs = results.filter((r) => r.group === 'conv2d' && /^conv\dx\d .* (fwd|dgrad|wgrad)$/.test(r.name) && r.gflops);
const convFractions = convs.map((r) => ({ case: r.name, gflops: r.gflops, fractionOfFp32Peak: peakTflops ? r.gflops / (peakTflops * 1000) : null }));
const minFraction = convFractions.length && peakTflops ? Math.min(...convFractions.map((c) => c.fractionOfFp32Peak)) : null;

const summary = {
  adapter: info?.adapter ?? bench?.machine?.adapter ?? null,
  gpu: gpuName || null,
  fp32PeakTflops: peakTflops,
  tuning: tune ? { key: tune.key, chosen: tune.entries.map((e) => ({ family: e.family, shape: e.shape, chosen: e.chosen })) } : null,
  targets: {
    ravdess50EpochsUnder60s: train ? { wallS: train.wall_s, met: train.epochs >= 50 ? train.wall_s < 60 : null } : null,
    trainStepFasterThanPytorchEager: step && torch ? { serMs: step.medianMs, torchMs: torch.train_step_ms_median, ratio: step.medianMs / torch.train_step_ms_median, met: step.medianMs < torch.train_step_ms_median } : null,
    convAtLeast25PercentOfFp32Peak: convFractions.length ? { minFraction, met: minFraction === null ? null : minFraction >= 0.25, cases: convFractions } : null,
  },
  torch,
  train,
};
writeFileSync(join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
const t = summary.targets;
console.log(`summary: ${join(dir, 'summary.json')}`);
console.log(`  50 epochs < 60 s:         ${t.ravdess50EpochsUnder60s ? `${t.ravdess50EpochsUnder60s.wallS} s -> ${t.ravdess50EpochsUnder60s.met}` : 'not run'}`);
console.log(`  step faster than PyTorch: ${t.trainStepFasterThanPytorchEager ? `${t.trainStepFasterThanPytorchEager.serMs.toFixed(2)} vs ${t.trainStepFasterThanPytorchEager.torchMs.toFixed(2)} ms -> ${t.trainStepFasterThanPytorchEager.met}` : 'not run (no torch or no bench)'}`);
console.log(`  conv >= 25% FP32 peak:    ${t.convAtLeast25PercentOfFp32Peak ? `min ${minFraction === null ? '? (unknown peak: set FP32_PEAK_TFLOPS)' : (minFraction * 100).toFixed(1) + '%'} -> ${t.convAtLeast25PercentOfFp32Peak.met}` : 'not run'}`);

// Conv2d throughput on the SER model's layers at batch 32 (input 82x64x1): forward (with bias + ReLU),
// input gradient and filter gradient of each, in GFLOP/s counted as 2*M*N*K of the nominal GEMM.
// Run directly: `npx tsx bench/conv2d.ts [--runs 5] [--filter 64->128]` prints the median of the
// runs after one warm-up run per case; conv2dCases() offers the same cases to bench/index.ts.
// Besides wall-clock GFLOP/s it prints GFLOP per CPU-second of this process (lavapipe's worker threads
// included): on a shared machine wall time measures the neighbours, CPU time still compares kernels.

import type { Gpu, Tensor } from '../src/gpu';
import { createNodeGpu } from '../src/gpu/node.node.ts';
import { conv2d } from '../src/kernels/conv2d';
import { conv2dBackwardFilter, conv2dBackwardInput } from '../src/kernels/conv2d-grad';
import type { BenchCase } from './harness';

interface Layer {
  name: string;
  H: number;
  W: number;
  cin: number;
  cout: number;
  k: number;
}

const BATCH = 32;
const LAYERS: Layer[] = [
  { name: 'conv3x3 1->32 @82x64', H: 82, W: 64, cin: 1, cout: 32, k: 3 },
  { name: 'conv3x3 32->64 @41x32', H: 41, W: 32, cin: 32, cout: 64, k: 3 },
  { name: 'conv3x3 64->64 @41x32', H: 41, W: 32, cin: 64, cout: 64, k: 3 },
  { name: 'conv1x1 32->64 @41x32', H: 41, W: 32, cin: 32, cout: 64, k: 1 },
  { name: 'conv3x3 64->128 @20x16', H: 20, W: 16, cin: 64, cout: 128, k: 3 },
  { name: 'conv3x3 128->128 @20x16', H: 20, W: 16, cin: 128, cout: 128, k: 3 },
  { name: 'conv1x1 64->128 @20x16', H: 20, W: 16, cin: 64, cout: 128, k: 1 },
];

type Pass = 'fwd' | 'dgrad' | 'wgrad';

function randomTensor(gpu: Gpu, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(i * 12.9898) * 0.5;
  return gpu.upload(data, shape);
}

function layerCase(l: Layer, pass: Pass): BenchCase {
  const xShape = [BATCH, l.H, l.W, l.cin];
  const wShape = [l.k, l.k, l.cin, l.cout];
  const yShape = [BATCH, l.H, l.W, l.cout]; // 'same', stride 1
  return {
    group: 'conv2d',
    name: `${l.name} ${pass}`,
    flops: 2 * BATCH * l.H * l.W * l.cout * l.k * l.k * l.cin,
    setup(gpu) {
      const x = randomTensor(gpu, xShape);
      const w = randomTensor(gpu, wShape);
      const bias = randomTensor(gpu, [l.cout]);
      const dy = randomTensor(gpu, yShape);
      const opts = { padding: 'same' as const };
      const runs: Record<Pass, () => Tensor> = {
        fwd: () => conv2d(gpu, x, w, { ...opts, bias, activation: 'relu' }),
        dgrad: () => conv2dBackwardInput(gpu, dy, w, xShape, opts),
        wgrad: () => conv2dBackwardFilter(gpu, x, dy, wShape, opts),
      };
      return {
        run: () => runs[pass]().dispose(),
        dispose: () => [x, w, bias, dy].forEach((t) => t.dispose()),
      };
    },
  };
}

export function conv2dCases(): BenchCase[] {
  return LAYERS.flatMap((l) => (['fwd', 'dgrad', 'wgrad'] as const).map((p) => layerCase(l, p)));
}

async function timeCase(gpu: Gpu, c: BenchCase, runs: number): Promise<{ ms: number; gflops: number; cpuGflops: number }> {
  const { run, dispose } = c.setup(gpu);
  try {
    await run();
    await gpu.sync();
    const times: number[] = [];
    const cpuTimes: number[] = [];
    for (let i = 0; i < runs; i++) {
      await gpu.sync();
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      await run();
      await gpu.sync();
      times.push(performance.now() - t0);
      const cpu = process.cpuUsage(c0);
      cpuTimes.push((cpu.user + cpu.system) / 1000);
    }
    const median = (v: number[]) => v.sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
    const ms = median(times);
    return { ms, gflops: c.flops! / (ms * 1e6), cpuGflops: c.flops! / (median(cpuTimes) * 1e6) };
  } finally {
    dispose();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const arg = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const runs = Number(arg('--runs') ?? 5);
  const filter = arg('--filter');
  const gpu = await createNodeGpu();
  try {
    const a = gpu.adapter;
    console.log(`adapter: ${[a.vendor, a.architecture, a.description].filter(Boolean).join(' | ')}; ${new Date().toISOString()}; median of ${runs} runs`);
    console.log('| layer | pass | median ms | GFLOP/s | GFLOP per CPU-s |\n|---|---|---|---|---|');
    for (const c of conv2dCases()) {
      if (filter && !c.name.includes(filter)) continue;
      const { ms, gflops, cpuGflops } = await timeCase(gpu, c, runs);
      const pass = c.name.split(' ').pop();
      console.log(`| ${c.name.slice(0, -pass!.length - 1)} | ${pass} | ${ms.toFixed(1)} | ${gflops.toFixed(2)} | ${cpuGflops.toFixed(2)} |`);
    }
  } finally {
    gpu.destroy();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();

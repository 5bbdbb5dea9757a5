// Feature-extraction throughput of the WGSL pipeline (GpuFeatureExtractor): seconds of audio turned
// into 82 x 64 model inputs per second of wall time, for a batch of RAVDESS clips and for single
// files. Decoding, resampling, pre-emphasis and trimming happen before the clock starts (CPU side);
// the timed part is upload, the five dispatches and the readback. The first run of each shape
// compiles pipelines and is not counted.
// Run: npx tsx bench/features.ts [--clips 64] [--runs 5] [--data /work/shared/data/ravdess]

import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { featureConfig } from '../src/dsp/config';
import { decodeFile } from '../src/dsp/decode.node.ts';
import { GpuFeatureExtractor } from '../src/dsp/gpu-features';
import { prepareSignal } from '../src/dsp/prepare';
import { createNodeGpu } from '../src/gpu/node.node.ts';

const { values } = parseArgs({
  options: {
    clips: { type: 'string', default: '64' },
    runs: { type: 'string', default: '5' },
    data: { type: 'string', default: '/work/shared/data/ravdess' },
  },
});
const clips = Number(values.clips);
const runs = Number(values.runs);
const config = featureConfig();

function listAudio(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listAudio(join(dir, e.name)) : /\.(wav|flac)$/i.test(e.name) ? [join(dir, e.name)] : []))
    .sort();
}

// Spread the clips over actors: every k-th file of the sorted list.
const files = listAudio(values.data);
const step = Math.max(1, Math.floor(files.length / clips));
const chosen = files.filter((_, i) => i % step === 0).slice(0, clips);
const signals: Float32Array[] = [];
for (const f of chosen) {
  const audio = await decodeFile(f);
  signals.push(prepareSignal(audio.samples, audio.sampleRate, config).samples);
}
const audioSeconds = (s: Float32Array[]) => s.reduce((n, x) => n + x.length, 0) / config.sampleRate;

const gpu = await createNodeGpu();
const extractor = new GpuFeatureExtractor(gpu, config);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Median wall and process CPU seconds (lavapipe's threads are in-process) per run. */
async function timeRuns(batch: Float32Array[], n: number): Promise<{ wall: number; cpu: number }> {
  await extractor.extract(batch);
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < n; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await extractor.extract(batch);
    wall.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e6);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

const a = gpu.adapter;
console.log(`adapter: ${[a.vendor, a.architecture, a.description].filter(Boolean).join(' | ')}`);
console.log(`clips: ${signals.length} from ${values.data}, ${audioSeconds(signals).toFixed(1)} s of trimmed audio at ${config.sampleRate} Hz`);
// On a shared machine wall time depends on the other load; CPU seconds show the work itself.
const batch = await timeRuns(signals, runs);
const total = audioSeconds(signals);
console.log(
  `batch of ${signals.length}: ${batch.wall.toFixed(3)} s wall per batch, ${(total / batch.wall).toFixed(0)} s of audio per second; ` +
    `${batch.cpu.toFixed(3)} CPU s, ${(total / batch.cpu).toFixed(0)} s of audio per CPU second; load average ${loadavg()[0]!.toFixed(1)}`,
);
const singles = signals.slice(0, Math.min(16, signals.length));
let singleWall = 0;
let singleCpu = 0;
for (const s of singles) {
  const t = await timeRuns([s], 1);
  singleWall += t.wall;
  singleCpu += t.cpu;
}
console.log(
  `single files (${singles.length}, one extract each): ${((singleWall / singles.length) * 1000).toFixed(1)} ms wall per file, ` +
    `${(audioSeconds(singles) / singleWall).toFixed(0)} s of audio per second; ${(audioSeconds(singles) / singleCpu).toFixed(0)} s of audio per CPU second`,
);
extractor.dispose();
gpu.destroy();

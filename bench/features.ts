// Feature-extraction throughput of the WGSL pipeline (GpuFeatureExtractor): seconds of audio turned
// into 82 x 64 model inputs per second of wall time, for a batch of RAVDESS clips and for single
// files. Decoding, resampling, pre-emphasis and trimming happen before the clock starts (CPU side);
// the timed part is upload, the five dispatches and the readback. The first run of each shape
// compiles pipelines and is not counted.
// Run: npx tsx bench/features.ts [--clips 64] [--runs 5] [--data /work/shared/data/ravdess]

import { readdirSync } from 'node:fs';
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

async function timeRuns(batch: Float32Array[], n: number): Promise<number> {
  await extractor.extract(batch);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await extractor.extract(batch);
    times.push((performance.now() - t0) / 1000);
  }
  return median(times);
}

const a = gpu.adapter;
console.log(`adapter: ${[a.vendor, a.architecture, a.description].filter(Boolean).join(' | ')}`);
console.log(`clips: ${signals.length} from ${values.data}, ${audioSeconds(signals).toFixed(1)} s of trimmed audio at ${config.sampleRate} Hz`);
const batchS = await timeRuns(signals, runs);
console.log(`batch of ${signals.length}: ${batchS.toFixed(3)} s per batch, ${(audioSeconds(signals) / batchS).toFixed(0)} s of audio per second, ${(signals.length / batchS).toFixed(1)} clips/s`);
const singles = signals.slice(0, Math.min(16, signals.length));
let singleTotal = 0;
await extractor.extract([singles[0]!]);
for (const s of singles) {
  const t0 = performance.now();
  await extractor.extract([s]);
  singleTotal += (performance.now() - t0) / 1000;
}
console.log(`single files (${singles.length}, one extract each): ${(singleTotal / singles.length * 1000).toFixed(1)} ms per file, ${(audioSeconds(singles) / singleTotal).toFixed(0)} s of audio per second`);
extractor.dispose();
gpu.destroy();

// Whole feature extraction on real clips: seconds of audio turned into 82 x 64 model inputs per second
// of wall time, for a batch of RAVDESS clips and for single files one after the other, at three
// depths: from trimmed signals (the GPU part with upload and readback only), from decoded PCM
// (pre-emphasis and silence trimming on the CPU, then the GPU: decode excluded, the figure to set
// against librosa's 82-row pipeline after librosa.load) and from the file bytes in memory (FLAC/WAV
// decoding included). Seconds of audio are the clips' decoded durations, before trimming. The data
// folder is an option (--data); without it these cases are skipped with a message. Files are spread
// over the actors (every k-th of the sorted list).

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { featureConfig } from '../src/dsp/config';
import { decodeAudio, type DecodedAudio } from '../src/dsp/decode';
import { GpuFeatureExtractor } from '../src/dsp/gpu-features';
import { FeaturePipeline, prepareClip } from '../src/dsp/pipeline';
import type { Gpu } from '../src/gpu';
import type { BenchCase, CaseRun } from './harness';

export { DEFAULT_DATA } from './data-folder';

export interface FeatureBenchOptions {
  /** Folder of audio files (searched recursively for .wav/.flac). */
  data: string;
  /** Clips in the batch cases. */
  clips?: number;
  /** Files in the single-file cases. */
  singles?: number;
}

/** Audio files under dir, recursively (symbolic links followed). */
function listAudio(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? listAudio(p) : /\.(wav|flac)$/i.test(name) ? [p] : [];
    })
    .sort();
}

function pick(files: string[], n: number): string[] {
  const step = Math.max(1, Math.floor(files.length / n));
  return files.filter((_, i) => i % step === 0).slice(0, n);
}

interface Loaded {
  names: string[];
  bytes: Uint8Array[];
  decoded: DecodedAudio[];
  seconds: number;
}

/** Read and decode once per (folder, count): every case below reuses it. */
const cache = new Map<string, Promise<Loaded>>();
function load(files: string[]): Promise<Loaded> {
  const key = files.join('\n');
  let p = cache.get(key);
  if (!p) {
    p = (async () => {
      const bytes = files.map((f) => new Uint8Array(readFileSync(f)));
      const decoded = await Promise.all(bytes.map((b, i) => decodeAudio(b, { fileName: files[i] })));
      return { names: files, bytes, decoded, seconds: decoded.reduce((n, d) => n + d.samples.length / d.sampleRate, 0) };
    })();
    cache.set(key, p);
  }
  return p;
}

type Depth = 'trimmed' | 'pcm' | 'file';
const DEPTH_LABEL: Record<Depth, string> = {
  trimmed: 'trimmed signal -> 82x64 (GPU, upload + readback)',
  pcm: 'PCM -> 82x64 (pre-emphasis + trim + GPU; decode excluded)',
  file: 'file bytes -> 82x64 (decode included)',
};

function featureCase(files: string[], depth: Depth, single: boolean, guard: boolean): BenchCase {
  const config = featureConfig();
  return {
    group: 'features',
    name: `${single ? `single files x${files.length}` : `batch of ${files.length}`}: ${DEPTH_LABEL[depth]}`,
    // Filled in by setup once the files are decoded (the count is seconds of audio).
    items: { count: 0, unit: 's audio' },
    guard,
    async setup(gpu: Gpu): Promise<CaseRun> {
      const data = await load(files);
      this.items!.count = data.seconds;
      const extractor = new GpuFeatureExtractor(gpu, config);
      const pipeline = new FeaturePipeline(config, extractor);
      const trimmed = data.decoded.map((d, i) => prepareClip(data.names[i]!, d, config));
      const fromDecoded = async (idx: number[], decode: boolean) => {
        const items = [];
        for (const i of idx) items.push({ name: data.names[i]!, audio: decode ? await decodeAudio(data.bytes[i]!, { fileName: data.names[i] }) : data.decoded[i]! });
        const r = await pipeline.fromDecoded(items);
        if (r.skipped.length) throw new Error(`bench/features: skipped ${r.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
      };
      const batchOf = async (idx: number[]) => {
        if (depth === 'trimmed') await extractor.extract(idx.map((i) => trimmed[i]!));
        else await fromDecoded(idx, depth === 'file');
      };
      const all = files.map((_, i) => i);
      return {
        run: async () => {
          if (!single) return batchOf(all);
          for (const i of all) await batchOf([i]);
        },
        dispose: () => extractor.dispose(),
      };
    },
  };
}

export function featureCases(o: FeatureBenchOptions): BenchCase[] {
  const clips = o.clips ?? 32;
  const singles = o.singles ?? 8;
  const names = (['trimmed', 'pcm', 'file'] as const).flatMap((d) => [
    { d, single: false, n: clips },
    { d, single: true, n: singles },
  ]);
  const files = existsSync(o.data) ? listAudio(o.data) : [];
  if (files.length === 0) {
    const skip = `no audio files under ${o.data} (pass --data DIR, a folder of .wav/.flac clips such as RAVDESS)`;
    return names.map(({ d, single, n }) => ({ group: 'features', name: `${single ? `single files x${n}` : `batch of ${n}`}: ${DEPTH_LABEL[d]}`, skip, setup: () => { throw new Error(skip); } }));
  }
  return names.map(({ d, single, n }) => featureCase(pick(files, n), d, single, d === 'pcm' && !single));
}

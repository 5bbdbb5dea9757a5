// Features of audio files with an on-disk cache. The cache key is the SHA-256 of the file's bytes and
// of the feature config (plus a version of the feature code), so a renamed file still hits and a
// changed config misses. Entries are written atomically (temporary file, then rename). Files that fail
// (missing, unreadable, not audio, all-silent, too short) are skipped with a one-line reason; the
// others go through in batches. A `variant` (an augmented copy, say) transforms each decoded clip
// before the pipeline; its key joins the cache key, and it gets the SHA-256 of the file's bytes so
// that its randomness can be a function of the content rather than of the file's name or position.

import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { clipNormalised } from './clip-norm';
import type { FeatureConfig } from './config';
import { DecodeError, type DecodedAudio } from './decode';
import { decodeFile } from './decode.node.ts';
import type { ClipFeatures, FeaturePipeline, Skipped } from './pipeline';

/** Bump when the features computed for the same config change. */
const FEATURE_CODE_VERSION = 1;
const MAGIC = 0x53455246; // "SERF"

export interface FileFeatureOptions {
  /** Folder of cached features; no caching when absent. */
  cacheDir?: string;
  /** Clips per GPU batch. */
  batch?: number;
  onProgress?: (done: number, total: number) => void;
  variant?: FileVariant;
}

export interface FileVariant {
  /** Everything the transform depends on (parameters, seed, copy number), as a string. */
  key: string;
  apply(audio: DecodedAudio, contentSha256: Buffer): DecodedAudio;
}

export function configKey(config: FeatureConfig): string {
  // clipNorm is applied after the cache (featuresOfFiles), so one cached extraction serves every setting.
  const { clipNorm: _, ...extracted } = config;
  const sorted = Object.fromEntries(Object.entries(extracted).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256').update(JSON.stringify({ v: FEATURE_CODE_VERSION, config: sorted })).digest('hex');
}

async function readCache(path: string, size: number): Promise<{ features: Float32Array; frames: number } | null> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch {
    return null;
  }
  if (buf.byteLength !== 8 + size * 4 || buf.readUInt32LE(0) !== MAGIC) return null; // stale or torn: recompute
  const features = new Float32Array(size);
  new Uint8Array(features.buffer).set(buf.subarray(8));
  return { features, frames: buf.readUInt32LE(4) };
}

async function writeCache(path: string, clip: ClipFeatures): Promise<void> {
  const buf = Buffer.alloc(8 + clip.features.byteLength);
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt32LE(clip.frames, 4);
  Buffer.from(clip.features.buffer, clip.features.byteOffset, clip.features.byteLength).copy(buf, 8);
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, buf);
  await rename(tmp, path);
}

/** Features for every file, in input order, with the skipped files and their reasons. */
export async function featuresOfFiles(
  pipeline: FeaturePipeline,
  paths: string[],
  options: FileFeatureOptions = {},
): Promise<{ clips: (ClipFeatures | null)[]; skipped: Skipped[]; cacheHits: number }> {
  const batch = options.batch ?? 64;
  const cfgKey = configKey(pipeline.config) + (options.variant ? `:${options.variant.key}` : '');
  if (options.cacheDir) await mkdir(options.cacheDir, { recursive: true });
  const clips: (ClipFeatures | null)[] = new Array(paths.length).fill(null);
  const skipped: Skipped[] = [];
  let cacheHits = 0;
  let done = 0;
  const pending: { index: number; name: string; audio: DecodedAudio; cachePath?: string }[] = [];

  const runPending = async () => {
    const { clips: got, skipped: bad } = await pipeline.fromDecoded(pending.map((p) => ({ name: p.name, audio: p.audio })));
    skipped.push(...bad);
    const byName = new Map(got.map((c) => [c.name, c]));
    for (const p of pending) {
      const c = byName.get(p.name);
      if (!c) continue;
      clips[p.index] = c;
      if (p.cachePath) await writeCache(p.cachePath, c);
    }
    done += pending.length;
    pending.length = 0;
    options.onProgress?.(done, paths.length);
  };

  for (let i = 0; i < paths.length; i++) {
    const name = paths[i]!;
    let bytes: Buffer | null = null;
    let contentHash: Buffer | undefined;
    let cachePath: string | undefined;
    if (options.cacheDir || options.variant) {
      try {
        bytes = await readFile(name);
      } catch {
        bytes = null; // decodeFile reports the reason
      }
      if (bytes && options.variant) contentHash = createHash('sha256').update(bytes).digest();
    }
    if (options.cacheDir && bytes) {
      const key = createHash('sha256').update(bytes).update(cfgKey).digest('hex');
      cachePath = join(options.cacheDir, `${key}.f32`);
      const hit = await readCache(cachePath, pipeline.featureSize);
      if (hit) {
        clips[i] = { name, ...hit };
        cacheHits++;
        options.onProgress?.(++done, paths.length);
        continue;
      }
    }
    try {
      let audio = await decodeFile(name);
      if (options.variant) {
        if (!contentHash) throw new DecodeError('cannot read the file', name);
        audio = options.variant.apply(audio, contentHash);
      }
      pending.push({ index: i, name, audio, cachePath });
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      skipped.push({ name, reason: e.reason });
      options.onProgress?.(++done, paths.length);
    }
    if (pending.length >= batch) await runPending();
  }
  if (pending.length > 0) await runPending();
  if (pipeline.config.clipNorm) {
    for (const c of clips) if (c) c.features = clipNormalised(c.features, c.frames, pipeline.config);
  }
  return { clips, skipped, cacheHits };
}

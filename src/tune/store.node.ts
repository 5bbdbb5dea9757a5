// The tuning cache on node: one JSON file, $XDG_CACHE_HOME/ser-webgpu/tuning.json (else
// ~/.cache/ser-webgpu/tuning.json), overridable with SER_TUNE_CACHE. Written to a temporary file and
// renamed, so a crash or a concurrent run never leaves half a document.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { type TuneStore, parseDocument } from './store';

export function defaultCachePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SER_TUNE_CACHE) return env.SER_TUNE_CACHE;
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'ser-webgpu', 'tuning.json');
}

export function fileStore(path = defaultCachePath()): TuneStore {
  return {
    where: path,
    load() {
      try {
        return parseDocument(readFileSync(path, 'utf8'));
      } catch {
        return parseDocument(null);
      }
    },
    save(doc) {
      mkdirSync(dirname(path), { recursive: true });
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(doc, null, 2)}\n`);
      renameSync(tmp, path);
    },
  };
}

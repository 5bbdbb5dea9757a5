// Checkpoints on disk: `<name>.safetensors` (the tensors) and `<name>.json` (config, scaler, classes,
// split, metrics, ... and the SHA-256 of the tensor file). Each file is written to a temporary name and
// renamed into place, tensors first, so a reader never sees a half-written file. Reading is a file
// reader over parseCheckpoint (checkpoint.ts, browser-safe), which verifies the pair.

import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CHECKPOINT_FORMAT, type CheckpointMeta, parseCheckpoint } from './checkpoint';
import { CheckpointError, type NamedTensors, encodeSafetensors } from './safetensors';

export { CHECKPOINT_FORMAT, expectTensors, type CheckpointMeta } from './checkpoint';

async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function writeCheckpoint(dir: string, name: string, tensors: NamedTensors, meta: Record<string, unknown>): Promise<string> {
  await mkdir(dir, { recursive: true });
  const bytes = encodeSafetensors(tensors, { format: CHECKPOINT_FORMAT });
  const full: CheckpointMeta = { format: CHECKPOINT_FORMAT, ...meta, tensorsSha256: sha256(bytes) };
  await writeAtomic(join(dir, `${name}.safetensors`), bytes);
  await writeAtomic(join(dir, `${name}.json`), `${JSON.stringify(full, null, 2)}\n`);
  return full.tensorsSha256;
}

export async function readCheckpoint(dir: string, name: string): Promise<{ tensors: NamedTensors; meta: CheckpointMeta }> {
  const jsonPath = join(dir, `${name}.json`);
  const tensorPath = join(dir, `${name}.safetensors`);
  let text: string;
  let bytes: Uint8Array;
  try {
    text = await readFile(jsonPath, 'utf8');
    bytes = new Uint8Array(await readFile(tensorPath));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new CheckpointError(`${dir}: not a checkpoint (${err.code === 'ENOENT' ? `missing ${err.path}` : err.message})`);
  }
  return parseCheckpoint(text, bytes, { json: jsonPath, tensors: tensorPath });
}

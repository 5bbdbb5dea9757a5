// Checkpoints on disk: `<name>.safetensors` (the tensors) and `<name>.json` (config, scaler, classes,
// split, metrics, ... and the SHA-256 of the tensor file). Each file is written to a temporary name and
// renamed into place, tensors first, so a reader never sees a half-written file; the checksum ties the
// pair together, so a torn pair or a tampered file is refused. Loading parses JSON and checks every
// field; it never evaluates code.

import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError, type NamedTensors, decodeSafetensors, encodeSafetensors } from './safetensors';

export const CHECKPOINT_FORMAT = 'ser-webgpu/1';

export interface CheckpointMeta {
  format: string;
  tensorsSha256: string;
  [key: string]: unknown;
}

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
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(text);
  } catch {
    throw new CheckpointError(`${jsonPath}: not valid JSON (corrupted or truncated)`);
  }
  if (!meta || typeof meta !== 'object' || meta.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(`${jsonPath}: format is ${JSON.stringify(meta?.format)}, expected '${CHECKPOINT_FORMAT}'`);
  }
  const actual = sha256(bytes);
  if (meta.tensorsSha256 !== actual) {
    throw new CheckpointError(`${tensorPath}: SHA-256 ${actual.slice(0, 12)}… does not match ${String(meta.tensorsSha256).slice(0, 12)}… recorded in ${name}.json (truncated, corrupted or modified)`);
  }
  return { tensors: decodeSafetensors(bytes, tensorPath).tensors, meta };
}

/** Check that loaded tensors have exactly the expected names and shapes (a checkpoint of another config). */
export function expectTensors(tensors: NamedTensors, expected: Map<string, readonly number[]>, what: string): void {
  for (const [name, shape] of expected) {
    const t = tensors.get(name);
    if (!t) throw new CheckpointError(`${what}: tensor '${name}' is missing (checkpoint of another model config?)`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new CheckpointError(`${what}: tensor '${name}' has shape [${t.shape}], the model needs [${shape}] (checkpoint of another model config?)`);
    }
  }
  for (const name of tensors.keys()) {
    if (!expected.has(name)) throw new CheckpointError(`${what}: unexpected tensor '${name}' (checkpoint of another model config?)`);
  }
}

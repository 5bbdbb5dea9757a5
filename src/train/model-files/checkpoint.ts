// Checkpoint parsing from bytes, shared by the node reader (files) and the browser (fetch, file
// pickers): `<name>.json` (format tag, config, scaler, ... and the SHA-256 of the tensor file) and
// `<name>.safetensors`. The JSON is parsed, never evaluated; the checksum ties the pair together, so a
// torn pair or a tampered file is refused. SHA-256 comes from WebCrypto (crypto.subtle), which both
// browsers (secure contexts: https or 127.0.0.1/localhost) and Node >= 20 provide.

import { CheckpointError, type NamedTensors, decodeSafetensors } from './safetensors';

export const CHECKPOINT_FORMAT = 'ser-webgpu/1';

export interface CheckpointMeta {
  format: string;
  tensorsSha256: string;
  [key: string]: unknown;
}

/** Where the two files came from, for error messages (paths or URLs). */
export interface CheckpointSource {
  json: string;
  tensors: string;
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new CheckpointError('cannot verify the weights: WebCrypto (crypto.subtle) is unavailable (serve the page over https or from 127.0.0.1)');
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Parse and verify a checkpoint pair: JSON text of `<name>.json` and the bytes of `<name>.safetensors`. */
export async function parseCheckpoint(text: string, bytes: Uint8Array, from: CheckpointSource): Promise<{ tensors: NamedTensors; meta: CheckpointMeta }> {
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(text);
  } catch {
    throw new CheckpointError(`${from.json}: not valid JSON (corrupted or truncated)`);
  }
  if (!meta || typeof meta !== 'object' || meta.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(`${from.json}: format is ${JSON.stringify(meta?.format)}, expected '${CHECKPOINT_FORMAT}'`);
  }
  const actual = await sha256Hex(bytes);
  if (meta.tensorsSha256 !== actual) {
    throw new CheckpointError(`${from.tensors}: SHA-256 ${actual.slice(0, 12)}… does not match ${String(meta.tensorsSha256).slice(0, 12)}… recorded in ${from.json.split(/[\\/]/).pop()} (truncated, corrupted or modified)`);
  }
  return { tensors: decodeSafetensors(bytes, from.tensors).tensors, meta };
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

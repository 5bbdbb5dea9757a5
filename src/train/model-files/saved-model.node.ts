// A trained model on disk (model.json + model.safetensors in a folder, as `ser train` writes them):
// saving, and loading as a file reader over loadModelFromBytes (saved-model.ts), which validates.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Gpu } from '../../gpu';
import type { SerModel } from '../../nn/model';
import { writeCheckpoint } from './checkpoint.node.ts';
import { CheckpointError } from './safetensors';
import { loadModelFromBytes, type LoadedModel, type ModelMeta } from './saved-model';
import { scalerToJSON } from '../data/scaler';

export type { LoadedModel, ModelMeta } from './saved-model';

export async function saveModel(dir: string, model: SerModel, meta: ModelMeta, name = 'model', extra: Record<string, unknown> = {}): Promise<string> {
  const tensors = await model.exportTensors();
  return writeCheckpoint(dir, name, tensors, { ...meta, scaler: scalerToJSON(meta.scaler), ...extra });
}

export async function loadModel(gpu: Gpu, dir: string, name = 'model'): Promise<LoadedModel> {
  const from = { json: join(dir, `${name}.json`), tensors: join(dir, `${name}.safetensors`) };
  let json: string;
  let safetensors: Uint8Array;
  try {
    json = await readFile(from.json, 'utf8');
    safetensors = new Uint8Array(await readFile(from.tensors));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new CheckpointError(`${dir}: not a checkpoint (${err.code === 'ENOENT' ? `missing ${err.path}` : err.message})`);
  }
  return loadModelFromBytes(gpu, { json, safetensors, from });
}

// Node entry point for decoding: reads a file (refusing missing files and files over a size
// limit, with the limit stated in the error) and hands its bytes to decodeAudio. What the file was
// read as differently from its header (decodeAudio's warnings) is told to `onWarning`, by default
// on stderr as `<file>: warning: <what>`, so training, features and prediction all show it.

import { stat, readFile } from 'node:fs/promises';
import { DecodeError, decodeAudio, type DecodeOptions, type DecodedAudio } from './decode';

export interface DecodeFileOptions extends Omit<DecodeOptions, 'fileName'> {
  maxBytes?: number;
  /** Called with each warning, prefixed by the file's path (default: printed on stderr). */
  onWarning?: (message: string) => void;
}

const printWarning = (message: string) => console.error(message);

const defaultMaxBytes = 256 * 1024 * 1024;

export async function decodeFile(path: string, options: DecodeFileOptions = {}): Promise<DecodedAudio> {
  const maxBytes = options.maxBytes ?? defaultMaxBytes;
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new DecodeError('not a regular file', path);
    size = info.size;
  } catch (e) {
    if (e instanceof DecodeError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new DecodeError(code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? String(e)})`, path);
  }
  if (size > maxBytes) throw new DecodeError(`file is ${size} bytes, over the limit of ${maxBytes} bytes`, path);
  const bytes = await readFile(path);
  const audio = await decodeAudio(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { ...options, fileName: path });
  for (const w of audio.warnings ?? []) (options.onWarning ?? printWarning)(`${path}: warning: ${w}`);
  return audio;
}

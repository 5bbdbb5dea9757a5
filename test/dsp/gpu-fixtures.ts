// The trimmed signal of each librosa fixture clip, made by the CPU half of the pipeline (decode,
// resample_poly port, pre-emphasis, trim): the input every GPU feature test starts from.

import { decodeAudio } from '../../src/dsp/decode';
import { prepareSignal } from '../../src/dsp/prepare';
import { audioBytes } from './golden';

const cache = new Map<string, Float32Array>();

export async function trimmedSignal(name: string): Promise<Float32Array> {
  const hit = cache.get(name);
  if (hit) return hit;
  const decoded = await decodeAudio(audioBytes(`${name}.wav`));
  const y = prepareSignal(decoded.samples, decoded.sampleRate).samples;
  cache.set(name, y);
  return y;
}

// A tiny trained model for the browser tests, made by the library itself: one epoch of `ser train`'s
// run on a generated 4-class corpus (2 speakers x 2 clips per class), a 4/8-filter network, the
// default 82 x 64 features. Its quality is irrelevant; what matters is that node and the browser load
// the same files and must agree on them.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GpuFeatureExtractor } from '../../src/dsp/gpu-features';
import type { Gpu } from '../../src/gpu';
import { defaultLoopOptions } from '../../src/train/loop/loop';
import { trainRun } from '../../src/train/protocols/run.node.ts';
import { synthCorpus } from '../../src/train/data/synth';
import { writeSynthCorpus } from '../../src/train/data/synth.node.ts';
import { TINY_MODEL } from '../train/tiny-run';

/** Trains the tiny model and returns the folder holding model.json and model.safetensors. */
export async function trainTinyModel(gpu: Gpu): Promise<string> {
  const data = mkdtempSync(join(tmpdir(), 'ser-browser-data-'));
  writeSynthCorpus(data, synthCorpus({ speakers: 2, clipsPerClassPerSpeaker: 2, seed: 3, classes: ['neutral', 'happy', 'sad', 'angry'] }), { layout: 'ravdess' });
  const out = mkdtempSync(join(tmpdir(), 'ser-browser-model-'));
  await trainRun(gpu, (c) => new GpuFeatureExtractor(gpu, c), {
    data,
    split: 'random',
    val: 0.25,
    out,
    cacheDir: join(out, 'cache'),
    lr: 3e-3,
    loop: { ...defaultLoopOptions, epochs: 1, batch: 4, seed: 5, patience: 0, readEvery: 2 },
    model: TINY_MODEL,
    log: () => {},
  });
  return out;
}

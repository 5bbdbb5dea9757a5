// The tiny network and single-run options the training tests share: a 4/8-filter model that trains
// in seconds on lavapipe, a random 75/25 split, lr 3e-3, 2 epochs of batch 8 without early stopping,
// 16-frame features, no log. Each test overrides what it is about.

import { join } from 'node:path';
import type { ModelConfig } from '../../src/nn/model';
import { defaultLoopOptions, type LoopOptions } from '../../src/train/loop/loop';
import type { TrainRunOptions } from '../../src/train/protocols/run.node.ts';

export const TINY_MODEL: Partial<ModelConfig> = {
  stem: { filters: 4, dropout: 0.1 },
  blocks: [{ filters: 8, dropout: 0.1 }],
  dense: [{ units: 8, dropout: 0.1 }],
  bnMomentum: 0.5,
};

/** Options of a tiny run on `data` into `out`; `loop` is merged over the tiny loop, the rest replaces. */
export function tinyRunOptions(data: string, out: string, o: Partial<Omit<TrainRunOptions, 'loop'>> & { loop?: Partial<LoopOptions> } = {}): TrainRunOptions {
  const { loop, ...rest } = o;
  return {
    data, split: 'random', val: 0.25, out, cacheDir: join(out, 'cache'), lr: 3e-3,
    model: TINY_MODEL,
    features: { frames: 16 },
    log: () => {},
    ...rest,
    loop: { ...defaultLoopOptions, epochs: 2, batch: 8, seed: 4, patience: 0, readEvery: 2, ...loop },
  };
}

// The end of a training step: fused softmax cross-entropy (forward and gradient, label smoothing 0.1)
// on the model's [32, 8] logits, repeated within one submit since one call is tiny (and on 2^20 rows,
// where the kernel rather than the launch sets the time: the guard's case); and clip + Adam
// over every parameter of the seed model (355 784 floats in 34 tensors): squared norms, clip
// factors, the update of every tensor and the iteration counter, in Keras' clipnorm (per tensor,
// the seed's setting) and global_clipnorm flavours. GB/s for Adam counts 32 bytes per parameter:
// the norm pass reads g; the update reads w, g, m, v and writes w, m, v. At the model's sizes these
// are launch-bound (70 small dispatches), so the guard times Adam on one 4M-parameter tensor instead.

import type { Tensor } from '../src/gpu';
import { Adam, type AdamOptions } from '../src/kernels/adam';
import { softmaxCrossEntropy } from '../src/kernels/loss';
import { SerModel, modelConfig } from '../src/nn/model';
import type { BenchCase } from './harness';
import { BATCH, labelTensor, randomTensor } from './util';

const REPS = 50;

/** rows x 8 logits, `reps` calls per run; the guard uses a large batch, where the kernel's work shows. */
function softmaxCase(rows: number, reps: number, guard: boolean): BenchCase {
  const K = 8;
  return {
    group: 'loss',
    name: `softmax cross-entropy ${rows}x${K}${reps > 1 ? ` x${reps}` : ''}`,
    bytes: reps * rows * K * 4 * 2,
    guard,
    setup(gpu) {
      const logits = randomTensor(gpu, [rows, K]);
      const labels = labelTensor(gpu, rows, K);
      return {
        run: () => {
          for (let i = 0; i < reps; i++) Object.values(softmaxCrossEntropy(gpu, logits, labels, { labelSmoothing: 0.1 })).forEach((t) => t.dispose());
        },
        dispose: () => [logits, labels].forEach((t) => t.dispose()),
      };
    },
  };
}

/** Parameter count of the seed model (fixed by its config; asserted in setup). */
const PARAMS = 355_784;

function adamCase(name: string, opts: AdamOptions, guard: boolean): BenchCase {
  return {
    group: 'optim',
    name: `${name} over all ${PARAMS} model parameters`,
    bytes: 32 * PARAMS,
    guard,
    setup(gpu) {
      const model = new SerModel(gpu, modelConfig(), 1);
      if (model.parameterCount !== PARAMS) throw new Error(`bench/optim: the model has ${model.parameterCount} parameters, expected ${PARAMS}`);
      const weights = Object.fromEntries([...model.params].map(([n, p]) => [n, p.value]));
      const grads: Record<string, Tensor> = Object.fromEntries([...model.params].map(([n, p]) => [n, randomTensor(gpu, p.shape)]));
      const adam = new Adam(gpu, weights, { learningRate: 1e-3, ...opts });
      return {
        run: () => adam.step(grads),
        dispose: () => {
          adam.dispose();
          Object.values(grads).forEach((t) => t.dispose());
          model.dispose();
        },
      };
    },
  };
}

/** One large tensor: the update's memory traffic, not the per-tensor launches, sets the time. */
function bigAdamCase(n: number): BenchCase {
  return {
    group: 'optim',
    name: `clipnorm 1.0 + Adam, one tensor of ${n} parameters`,
    bytes: 32 * n,
    guard: true,
    setup(gpu) {
      const w = randomTensor(gpu, [n]);
      const g = randomTensor(gpu, [n]);
      const adam = new Adam(gpu, { w }, { learningRate: 1e-3, clipnorm: 1 });
      return { run: () => adam.step({ w: g }), dispose: () => (adam.dispose(), w.dispose(), g.dispose()) };
    },
  };
}

export function optimCases(): BenchCase[] {
  return [
    softmaxCase(BATCH, REPS, false),
    softmaxCase(1 << 20, 1, true),
    adamCase('clipnorm 1.0 + Adam', { clipnorm: 1 }, false),
    adamCase('global_clipnorm 1.0 + Adam', { globalClipnorm: 1 }, false),
    bigAdamCase(1 << 22),
  ];
}

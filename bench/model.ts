// Whole-model stages of the seed CNN at batch 32 on [32, 82, 64, 1] inputs: one training step
// (forward on the tape, softmax cross-entropy, backward, clipnorm + Adam, dropout step; recorded with
// no readback, timed to the end of the GPU work) and one inference pass (moving BN statistics, no
// dropout, logits copied out). Throughput in samples/s; nominal GFLOP/s counts the conv and dense
// GEMMs only as direct convolutions (forward 2*M*N*K per layer; a training step three times that,
// minus the stem's unused input gradient); executed GFLOP/s counts each conv pass as the algorithm
// the device runs it (Winograd's GEMM and transforms: conv-flops.ts). Both leave out batch norm,
// pooling, the loss and the optimiser, so they are lower bounds on the arithmetic done.

import { SerModel, modelConfig } from '../src/nn/model';
import { Trainer } from '../src/nn/train-step';
import type { BenchCase } from './harness';
import { BATCH, CONV_LAYERS, labelTensor, randomTensor } from './util';
import { executedConvFlops } from './conv-flops';
import type { Gpu } from '../src/gpu';

const DENSE = [
  [128, 256],
  [256, 128],
  [128, 8],
] as const;

const convFlops = CONV_LAYERS.map((l) => 2 * BATCH * l.H * l.W * l.cout * l.k * l.k * l.cin);
const denseFlops = DENSE.map(([i, o]) => 2 * BATCH * i * o);
export const FORWARD_FLOPS = [...convFlops, ...denseFlops].reduce((a, b) => a + b, 0);
export const STEP_FLOPS = 3 * FORWARD_FLOPS - convFlops[0]!;

/** What the conv passes (as the device runs them) and the dense GEMMs perform: a step, or a forward pass. */
function executedFlops(gpu: Gpu, step: boolean): number {
  const dense = denseFlops.reduce((a, b) => a + b, 0) * (step ? 3 : 1);
  const convs = CONV_LAYERS.map((l, i) =>
    executedConvFlops(gpu, l, 'fwd') + (step ? (i === 0 ? 0 : executedConvFlops(gpu, l, 'dgrad')) + executedConvFlops(gpu, l, 'wgrad') : 0));
  return dense + convs.reduce((a, b) => a + b, 0);
}

function modelCase(name: 'train step' | 'inference', guard: boolean): BenchCase {
  return {
    group: 'model',
    name: `${name} batch ${BATCH}`,
    flops: name === 'train step' ? STEP_FLOPS : FORWARD_FLOPS,
    items: { count: BATCH, unit: 'samples' },
    guard,
    setup(gpu) {
      const model = new SerModel(gpu, modelConfig(), 1);
      const trainer = new Trainer(model, { learningRate: 1e-3, clipnorm: 1 });
      const x = randomTensor(gpu, [BATCH, 82, 64, 1]);
      const labels = labelTensor(gpu, BATCH, 8);
      return {
        run: () => (name === 'train step' ? trainer.step(x, labels) : trainer.predict(x)).dispose(),
        executedFlops: executedFlops(gpu, name === 'train step'),
        dispose: () => {
          trainer.dispose();
          model.dispose();
          x.dispose();
          labels.dispose();
        },
      };
    },
  };
}

export function modelCases(): BenchCase[] {
  return [modelCase('train step', false), modelCase('inference', false)];
}

// Memory-bound layer cases at the SER model's activation shapes (batch 32): batch norm (training
// forward, inference forward, backward with the fused-ReLU mask), 2x2 max pooling and its backward,
// global average pooling and its backward, dropout and its backward, and the residual add / ReLU.
// GB/s counts the full-size tensor reads and writes of every pass a kernel makes (e.g. training
// batch norm reads x twice, statistics then normalise, and writes y: 12 bytes per element); the
// per-channel vectors are left out.

import type { Gpu, Tensor } from '../src/gpu';
import { batchNormBackward, batchNormInference, batchNormTrain } from '../src/kernels/batchnorm';
import { dropout, dropoutBackward, dropoutState } from '../src/kernels/dropout';
import { add, relu, reluBackward } from '../src/kernels/elementwise';
import { globalAvgPool, globalAvgPoolBackward, maxPool2x2, maxPool2x2Backward } from '../src/kernels/pool';
import type { BenchCase, CaseRun } from './harness';
import { ACTIVATIONS, BATCH, randomTensor, sizeOfShape } from './util';

type Shape = readonly number[];

/** A case whose inputs are tensors built once; run() records the kernel and frees its outputs. */
function simple(group: string, name: string, bytesPerElement: number, shape: Shape, guard: boolean, build: (gpu: Gpu) => { run: () => Tensor[]; inputs: Tensor[] }): BenchCase {
  return {
    group,
    name: `${name} ${shape.join('x')}`,
    bytes: bytesPerElement * sizeOfShape(shape),
    guard,
    setup(gpu): CaseRun {
      const { run, inputs } = build(gpu);
      return { run: () => run().forEach((t) => t.dispose()), dispose: () => inputs.forEach((t) => t.dispose()) };
    },
  };
}

function bnParams(gpu: Gpu, C: number) {
  return {
    gamma: randomTensor(gpu, [C]),
    beta: randomTensor(gpu, [C]),
    movingMean: gpu.zeros([C]),
    movingVar: gpu.upload(new Float32Array(C).fill(1), [C]),
  };
}

function batchNormCases(shape: Shape, guard: boolean): BenchCase[] {
  const C = shape[shape.length - 1]!;
  return [
    simple('batchnorm', 'train fwd', 12, shape, guard, (gpu) => {
      const x = randomTensor(gpu, shape);
      const p = bnParams(gpu, C);
      return { inputs: [x, ...Object.values(p)], run: () => Object.values(batchNormTrain(gpu, x, p)) };
    }),
    simple('batchnorm', 'inference fwd', 8, shape, false, (gpu) => {
      const x = randomTensor(gpu, shape);
      const p = bnParams(gpu, C);
      return { inputs: [x, ...Object.values(p)], run: () => [batchNormInference(gpu, x, p)] };
    }),
    // With the ReLU mask (as after the stem and conv_a): passes read dy, x, y and write dx.
    simple('batchnorm', 'bwd (relu)', 28, shape, guard, (gpu) => {
      const x = randomTensor(gpu, shape);
      const dy = randomTensor(gpu, shape);
      const p = bnParams(gpu, C);
      const { y, mean, invstd } = batchNormTrain(gpu, x, p, { relu: true });
      return {
        inputs: [x, dy, y, mean, invstd, ...Object.values(p)],
        run: () => Object.values(batchNormBackward(gpu, dy, x, p.gamma, { mean, invstd }, { reluOutput: y })),
      };
    }),
  ];
}

function poolCases(shape: Shape, guard: boolean): BenchCase[] {
  return [
    // Reads x, writes y and argmax at a quarter of the size each.
    simple('pool', 'maxpool2x2 fwd', 6, shape, guard, (gpu) => {
      const x = randomTensor(gpu, shape);
      return { inputs: [x], run: () => Object.values(maxPool2x2(gpu, x)) };
    }),
    simple('pool', 'maxpool2x2 bwd', 6, shape, guard, (gpu) => {
      const x = randomTensor(gpu, shape);
      const { y, argmax } = maxPool2x2(gpu, x);
      const dy = randomTensor(gpu, y.shape);
      return { inputs: [x, y, argmax, dy], run: () => [maxPool2x2Backward(gpu, dy, argmax, shape)] };
    }),
  ];
}

function elementwiseCases(shape: Shape): BenchCase[] {
  const pair = (gpu: Gpu) => [randomTensor(gpu, shape), randomTensor(gpu, shape)] as const;
  return [
    simple('elementwise', 'residual add', 12, shape, false, (gpu) => {
      const [a, b] = pair(gpu);
      return { inputs: [a, b], run: () => [add(gpu, a, b)] };
    }),
    simple('elementwise', 'relu', 8, shape, false, (gpu) => {
      const [a] = pair(gpu);
      return { inputs: [a], run: () => [relu(gpu, a)] };
    }),
    simple('elementwise', 'relu bwd', 12, shape, false, (gpu) => {
      const [dy, y] = pair(gpu);
      return { inputs: [dy, y], run: () => [reluBackward(gpu, dy, y)] };
    }),
    simple('elementwise', 'dropout 0.3 fwd', 8, shape, true, (gpu) => {
      const [x] = pair(gpu);
      const state = dropoutState(gpu, 7);
      return { inputs: [x, state], run: () => [dropout(gpu, x, state, { rate: 0.3 })] };
    }),
    simple('elementwise', 'dropout 0.3 bwd', 8, shape, false, (gpu) => {
      const [dy] = pair(gpu);
      const state = dropoutState(gpu, 7);
      return { inputs: [dy, state], run: () => [dropoutBackward(gpu, dy, state, { rate: 0.3 })] };
    }),
  ];
}

export function layerCases(): BenchCase[] {
  const gapShape = [BATCH, 10, 8, 128];
  return [
    ...ACTIVATIONS.flatMap((a, i) => batchNormCases(a.shape, i !== 1)),
    ...ACTIVATIONS.flatMap((a, i) => poolCases(a.shape, i === 0)),
    simple('pool', 'global avg pool fwd', 4, gapShape, false, (gpu) => {
      const x = randomTensor(gpu, gapShape);
      return { inputs: [x], run: () => [globalAvgPool(gpu, x)] };
    }),
    // The model's pooled input is small (launch-bound); the guard times the kernel on a larger one.
    simple('pool', 'global avg pool fwd', 4, ACTIVATIONS[1]!.shape, true, (gpu) => {
      const x = randomTensor(gpu, ACTIVATIONS[1]!.shape);
      return { inputs: [x], run: () => [globalAvgPool(gpu, x)] };
    }),
    simple('pool', 'global avg pool bwd', 4, gapShape, false, (gpu) => {
      const dy = randomTensor(gpu, [BATCH, 128]);
      return { inputs: [dy], run: () => [globalAvgPoolBackward(gpu, dy, gapShape)] };
    }),
    ...elementwiseCases(ACTIVATIONS[1]!.shape),
  ];
}

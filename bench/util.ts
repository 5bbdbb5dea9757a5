// Shared by the case files: deterministic inputs and the SER model's shapes at batch 32 (NHWC,
// 82 x 64 x 1 inputs; every stage halves H and W by 2x2 max pooling, floor).

import type { Gpu, Tensor } from '../src/gpu';

export const BATCH = 32;

/** A tensor of deterministic values in [-0.5, 0.5] (no RNG state to thread through). */
export function randomTensor(gpu: Gpu, shape: readonly number[], label = 'bench.input'): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(i * 12.9898) * 0.5;
  return gpu.upload(data, shape, 'f32', label);
}

/** u32 class labels 0..classes-1 for a batch. */
export function labelTensor(gpu: Gpu, n: number, classes: number): Tensor {
  return gpu.upload(Uint32Array.from({ length: n }, (_, i) => i % classes), [n], 'u32', 'bench.labels');
}

export interface ConvLayer {
  name: string;
  H: number;
  W: number;
  cin: number;
  cout: number;
  k: number;
}

/**
 * Every conv layer of the seed model, named as main's bench/conv2d.ts named them (the peer cases pair
 * with these names): the stem (1->32), block 1 (3x3 32->64 and 64->64, 1x1 shortcut 32->64) and
 * block 2 (3x3 64->128 and 128->128, 1x1 shortcut 64->128).
 */
export const CONV_LAYERS: readonly ConvLayer[] = [
  { name: 'conv3x3 1->32 @82x64', H: 82, W: 64, cin: 1, cout: 32, k: 3 },
  { name: 'conv3x3 32->64 @41x32', H: 41, W: 32, cin: 32, cout: 64, k: 3 },
  { name: 'conv3x3 64->64 @41x32', H: 41, W: 32, cin: 64, cout: 64, k: 3 },
  { name: 'conv1x1 32->64 @41x32', H: 41, W: 32, cin: 32, cout: 64, k: 1 },
  { name: 'conv3x3 64->128 @20x16', H: 20, W: 16, cin: 64, cout: 128, k: 3 },
  { name: 'conv3x3 128->128 @20x16', H: 20, W: 16, cin: 128, cout: 128, k: 3 },
  { name: 'conv1x1 64->128 @20x16', H: 20, W: 16, cin: 64, cout: 128, k: 1 },
];

/** The activation shapes batch norm, ReLU and pooling see: one per stage. */
export const ACTIVATIONS: readonly { name: string; shape: [number, number, number, number] }[] = [
  { name: '32x82x64x32', shape: [BATCH, 82, 64, 32] },
  { name: '32x41x32x64', shape: [BATCH, 41, 32, 64] },
  { name: '32x20x16x128', shape: [BATCH, 20, 16, 128] },
];

export const sizeOfShape = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

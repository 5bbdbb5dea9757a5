// Matmul cases: the 1024^3 throughput probe and the dense layers of the SER model at batch 32
// (forward, and both gradient products: dX = dY·Wᵀ, dW = Xᵀ·dY).

import type { Gpu, Tensor } from '../src/gpu';
import { matmul } from '../src/kernels/matmul';
import type { BenchCase } from './harness';

function randomTensor(gpu: Gpu, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(i * 12.9898) * 0.5;
  return gpu.upload(data, shape);
}

function matmulCase(name: string, M: number, N: number, K: number, transA = false, transB = false, reps = 1): BenchCase {
  return {
    group: 'matmul',
    name: reps > 1 ? `${name} x${reps}` : name,
    flops: 2 * M * N * K * reps,
    setup(gpu) {
      const a = randomTensor(gpu, transA ? [K, M] : [M, K]);
      const b = randomTensor(gpu, transB ? [N, K] : [K, N]);
      return {
        run: () => {
          for (let i = 0; i < reps; i++) matmul(gpu, a, b, { transA, transB }).dispose();
        },
        dispose: () => {
          a.dispose();
          b.dispose();
        },
      };
    },
  };
}

export function matmulCases(): BenchCase[] {
  // The dense shapes are tiny; repeat them within one submit so launch overhead does not dominate.
  return [
    matmulCase('1024x1024x1024', 1024, 1024, 1024),
    matmulCase('dense1 fwd 32x128·128x256', 32, 256, 128, false, false, 50),
    matmulCase('dense1 dX 32x256·(128x256)ᵀ', 32, 128, 256, false, true, 50),
    matmulCase('dense1 dW (32x128)ᵀ·32x256', 128, 256, 32, true, false, 50),
    matmulCase('dense2 fwd 32x256·256x128', 32, 128, 256, false, false, 50),
    matmulCase('dense3 fwd 32x128·128x8', 32, 8, 128, false, false, 50),
  ];
}

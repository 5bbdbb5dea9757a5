// Matmul cases: the square throughput probes (512^3 is the regression guard's reference kernel) and
// the dense layers of the SER model at batch 32 (forward, and both gradient products: dX = dY·Wᵀ,
// dW = Xᵀ·dY). The dense shapes are tiny; they are repeated within one submit so that launch and
// sync overhead does not dominate. The square probes run the register-blocked kernel (the FLOP peak
// and the guard's reference, as before the compact kernel became the default); the dense cases run
// what training runs (the tuner's choice for the shape, else the compact default).

import type { Tensor } from '../src/gpu';
import { matmul, type MatmulVariant } from '../src/kernels/matmul';
import type { BenchCase } from './harness';
import { randomTensor } from './util';

/** The guard divides every kernel's time by this case's time, measured in the same run. */
export const REFERENCE_CASE = 'matmul/512x512x512';

export function matmulCase(name: string, M: number, N: number, K: number, transA = false, transB = false, reps = 1, guard = false, variant?: MatmulVariant): BenchCase {
  return {
    group: 'matmul',
    name: reps > 1 ? `${name} x${reps}` : name,
    flops: 2 * M * N * K * reps,
    guard,
    setup(gpu) {
      const a = randomTensor(gpu, transA ? [K, M] : [M, K]);
      const b = randomTensor(gpu, transB ? [N, K] : [K, N]);
      return {
        run: () => {
          for (let i = 0; i < reps; i++) matmul(gpu, a, b, { transA, transB, variant }).dispose();
        },
        dispose: () => [a, b].forEach((t: Tensor) => t.dispose()),
      };
    },
  };
}

export const squareMatmul = (n: number, guard = false): BenchCase => matmulCase(`${n}x${n}x${n}`, n, n, n, false, false, 1, guard, 'register');

export function matmulCases(): BenchCase[] {
  return [
    squareMatmul(512, true),
    squareMatmul(1024),
    matmulCase('dense1 fwd 32x128·128x256', 32, 256, 128, false, false, 50, true),
    matmulCase('dense1 dX 32x256·(128x256)ᵀ', 32, 128, 256, false, true, 50, true),
    matmulCase('dense1 dW (32x128)ᵀ·32x256', 128, 256, 32, true, false, 50, true),
    matmulCase('dense2 fwd 32x256·256x128', 32, 128, 256, false, false, 50),
    matmulCase('dense3 fwd 32x128·128x8', 32, 8, 128, false, false, 50),
  ];
}

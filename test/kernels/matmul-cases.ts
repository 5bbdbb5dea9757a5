// One matmul check shared by the matmul kernels' tests (matmul.test.ts: compact and register;
// matmul-tiled.test.ts: tiled8 and tiled16): random operands for op(A) [M,K] · op(B) [K,N] with the
// given transposes (and optional bias and ReLU), the product by `variant`, compared with the float64
// reference on the harness's NaN-poisoned runtime.

import { expect } from 'vitest';
import type { Gpu } from '../../src/gpu';
import { matmul, type MatmulVariant } from '../../src/kernels/matmul';
import { TOL_F32, expectClose, randn, rng } from '../harness';
import { matmulRef } from '../ref/linalg';

export interface MatmulCheck {
  M: number;
  N: number;
  K: number;
  transA?: boolean;
  transB?: boolean;
  bias?: boolean;
  relu?: boolean;
}

/** Runs the product with `variant` and expects it to match the reference. */
export async function expectMatmulMatches(g: Gpu, variant: MatmulVariant, c: MatmulCheck): Promise<void> {
  const { M, N, K, transA = false, transB = false } = c;
  const rr = rng(M * 1000 + N * 10 + K);
  const a = Float32Array.from(randn(M * K, rr));
  const b = Float32Array.from(randn(K * N, rr));
  const bias = c.bias ? Float32Array.from(randn(N, rr)) : undefined;
  const out = matmul(g, g.upload(a, transA ? [K, M] : [M, K]), g.upload(b, transB ? [N, K] : [K, N]), {
    transA, transB, variant, bias: bias && g.upload(bias, [N]), activation: c.relu ? 'relu' : 'none',
  });
  expect(out.shape).toEqual([M, N]);
  expectClose(await out.read(), matmulRef(a, b, M, N, K, transA, transB, bias, !!c.relu), TOL_F32, `matmul ${variant} ${JSON.stringify(c)}`);
}

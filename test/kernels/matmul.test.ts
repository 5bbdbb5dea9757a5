// Matmul with every transpose combination, fused bias and ReLU, on shapes that are not multiples of
// the 32x32 tile nor of 4 (the scalar load paths) as well as multiples (the vec4 paths).

import { describe, expect, it } from 'vitest';
import { matmul } from '../../src/kernels/matmul';
import { ShapeError } from '../../src/gpu';
import { TOL_F32, expectClose, randint, randn, rng, useGpu } from '../harness';
import { matmulRef } from '../ref/linalg';

const gpu = useGpu();

describe('matmul matches the float64 reference', () => {
  const r = rng(42);
  const shapes: [number, number, number][] = [[1, 1, 1], [3, 5, 7], [32, 32, 32], [64, 8, 36], [33, 65, 17], [128, 256, 64]];
  for (let i = 0; i < 4; i++) shapes.push([randint(1, 90, r), randint(1, 90, r), randint(1, 90, r)]);
  for (const [M, N, K] of shapes) {
    for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      it(`[${M}x${K}]${transA ? 'ᵀ' : ''} · [${K}x${N}]${transB ? 'ᵀ' : ''}`, async () => {
        const rr = rng(M * 1000 + N * 10 + K);
        const a = Float32Array.from(randn(M * K, rr));
        const b = Float32Array.from(randn(K * N, rr));
        const g = gpu();
        const c = matmul(g, g.upload(a, transA ? [K, M] : [M, K]), g.upload(b, transB ? [N, K] : [K, N]), { transA, transB });
        expect(c.shape).toEqual([M, N]);
        expectClose(await c.read(), matmulRef(a, b, M, N, K, transA, transB), TOL_F32, 'matmul');
      });
    }
  }

  it('fuses a bias and ReLU (the dense layer forward)', async () => {
    const [M, N, K] = [37, 29, 13];
    const rr = rng(9);
    const a = Float32Array.from(randn(M * K, rr));
    const b = Float32Array.from(randn(K * N, rr));
    const bias = Float32Array.from(randn(N, rr));
    const g = gpu();
    const c = matmul(g, g.upload(a, [M, K]), g.upload(b, [K, N]), { bias: g.upload(bias, [N]), activation: 'relu' });
    expectClose(await c.read(), matmulRef(a, b, M, N, K, false, false, bias, true), TOL_F32, 'matmul+bias+relu');
  });

  it('refuses inner dimensions that differ, naming both shapes', () => {
    const g = gpu();
    expect(() => matmul(g, g.zeros([3, 4]), g.zeros([5, 6]))).toThrow(ShapeError);
    expect(() => matmul(g, g.zeros([3, 4]), g.zeros([5, 6]))).toThrow(/matmul: inner dimensions differ: A \[3, 4\] and B \[5, 6\] \(4 vs 5\)/);
    expect(() => matmul(g, g.zeros([3, 4]), g.zeros([4, 6]), { bias: g.zeros([5]) })).toThrow(/bias \[5\] does not match 6 output columns/);
  });
});

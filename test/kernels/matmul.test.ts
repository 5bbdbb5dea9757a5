// Matmul with every transpose combination, fused bias and ReLU, on shapes that are not multiples of
// the 32x32 tile nor of 4 (the scalar load paths) as well as multiples (the vec4 paths), for both
// kernels of matmul.ts's own family: the compact one (the default: one shader for every layout) and the
// register-blocked one (the tiled ones: matmul-tiled.test.ts). Outputs are NaN-poisoned (harness).

import { describe, expect, it } from 'vitest';
import { MATMUL_VARIANTS, matmul } from '../../src/kernels/matmul';
import { ShapeError } from '../../src/gpu';
import { createNodeGpu } from '../../src/gpu/node.node';
import { TOL_F32, expectClose, randn, rng, useGpu } from '../harness';
import { expectMatmulMatches } from './matmul-cases';
import { matmulRef } from '../ref/linalg';

const gpu = useGpu();

const VARIANTS = ['compact', 'register'] as const;

describe('matmul matches the float64 reference', () => {
  // [M, N, K]. Every shape is a pipeline per transpose combination (shapes are baked into the WGSL),
  // so each one covers paths the others do not: scalar loads with tails ([1,1,1], [3,5,7], [33,65,17]),
  // vec4 loads of both operands on whole tiles ([32,32,32], [128,256,64]) and on a partial tile
  // ([64,8,36]), and vec4 loads of one operand only, B ([56,64,87]: N % 4 = 0) or A ([49,53,84]:
  // K % 4 = 0), with tails in M, N and K.
  const shapes: [number, number, number][] = [[1, 1, 1], [3, 5, 7], [32, 32, 32], [64, 8, 36], [33, 65, 17], [128, 256, 64], [56, 64, 87], [49, 53, 84]];
  for (const variant of VARIANTS) {
    for (const [M, N, K] of shapes) {
      for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        it(`${variant}: [${M}x${K}]${transA ? 'ᵀ' : ''} · [${K}x${N}]${transB ? 'ᵀ' : ''}`, () => expectMatmulMatches(gpu(), variant, { M, N, K, transA, transB }));
      }
    }
    it(`${variant}: fuses a bias and ReLU (the dense layer forward), and a bias alone`, async () => {
      await expectMatmulMatches(gpu(), variant, { M: 37, N: 29, K: 13, bias: true, relu: true });
      await expectMatmulMatches(gpu(), variant, { M: 37, N: 29, K: 13, bias: true });
    });
  }

  it('the default is the compact kernel, and it compiles one pipeline for every layout, bias and ReLU', async () => {
    expect(MATMUL_VARIANTS[0]).toBe('compact');
    const g = await createNodeGpu({ poison: true }); // a runtime of its own: nothing compiled yet
    try {
      const rr = rng(5);
      const [M, N, K] = [6, 20, 12];
      const a = Float32Array.from(randn(M * K, rr));
      const b = Float32Array.from(randn(K * N, rr));
      const bias = Float32Array.from(randn(N, rr));
      const biasT = g.upload(bias, [N]);
      for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        for (const [withBias, relu] of [[false, false], [true, false], [true, true]]) {
          const opts = { bias: withBias ? biasT : undefined, activation: relu ? 'relu' as const : 'none' as const };
          const c = matmul(g, g.upload(a, transA ? [K, M] : [M, K]), g.upload(b, transB ? [N, K] : [K, N]), { transA, transB, ...opts });
          expectClose(await c.read(), matmulRef(a, b, M, N, K, transA, transB, withBias ? bias : undefined, relu), TOL_F32, `transA ${transA}, transB ${transB}, bias ${withBias}, relu ${relu}`);
        }
      }
      const { fill, ...families } = g.pipelines.statistics().byFamily; // fill: the NaN poisoning
      expect(families).toEqual({ 'matmul.compact': 1 });
    } finally {
      g.destroy();
    }
  });

  it('refuses inner dimensions that differ, naming both shapes', () => {
    const g = gpu();
    expect(() => matmul(g, g.zeros([3, 4]), g.zeros([5, 6]))).toThrow(ShapeError);
    expect(() => matmul(g, g.zeros([3, 4]), g.zeros([5, 6]))).toThrow(/matmul: inner dimensions differ: A \[3, 4\] and B \[5, 6\] \(4 vs 5\)/);
    expect(() => matmul(g, g.zeros([3, 4]), g.zeros([4, 6]), { bias: g.zeros([5]) })).toThrow(/bias \[5\] does not match 6 output columns/);
  });
});

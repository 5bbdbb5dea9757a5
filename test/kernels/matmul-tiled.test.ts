// The workgroup-memory tiled matmul (matmul-tiled.ts), both lane counts, against the float64
// reference: every transpose combination on a shape that is not a multiple of the 32/64 tile, of the
// k step 16 nor of 4 (scalar load paths, more than one k step), and the vec4 load and store paths
// (batched and split-K use: test/kernels/winograd-gemm-tiled.test.ts);
// bias and ReLU fused; the tuner's choice reaching the kernel. Outputs start as NaN (poisoned runtime).

import { describe, expect, it } from 'vitest';
import { MATMUL_FAMILY, matmul, matmulShapeKey, type MatmulVariant } from '../../src/kernels/matmul';
import { withVariant } from '../../src/gpu/choices';
import { TOL_F32, expectClose, randn, rng, useGpu } from '../harness';
import { matmulRef } from '../ref/linalg';
import { expectMatmulMatches } from './matmul-cases';

const gpu = useGpu();
const VARIANTS: MatmulVariant[] = ['tiled8', 'tiled16'];

describe('tiled matmul matches the float64 reference', () => {
  // Odd sizes with every transpose (scalar loads, partial workgroups, two k steps), then vec4 loads
  // with K not a multiple of the k step: A along k, and Aᵀ along m (staged as vec4 of four rows). Few shapes: each is a pipeline, slow to compile on lavapipe.
  const ALL = [[false, false], [true, false], [false, true], [true, true]] as const;
  const shapes: [number, number, number, readonly (readonly [boolean, boolean])[]][] = [[33, 65, 17, ALL], [64, 36, 40, [[false, false], [true, false]]]];
  for (const variant of VARIANTS) {
    for (const [M, N, K, transposes] of shapes) {
      for (const [transA, transB] of transposes) {
        it(`${variant} [${M}x${K}]${transA ? 'ᵀ' : ''} · [${K}x${N}]${transB ? 'ᵀ' : ''}`, async () => {
          const g = gpu();
          await expectMatmulMatches(g, variant, { M, N, K, transA, transB });
          expect(g.pipelines.keys()).toContain(`matmul.${variant}:${M}:${N}:${K}:${transA}:${transB}:false:false`);
        });
      }
    }
    it(`${variant} fuses a bias and ReLU`, () => expectMatmulMatches(gpu(), variant, { M: 37, N: 29, K: 13, bias: true, relu: true }));
  }

  it('follows the tuned choice for the shape, and only for that shape', async () => {
    const g = gpu();
    const [M, N, K] = [12, 20, 8];
    const rr = rng(5);
    const a = Float32Array.from(randn(M * K, rr));
    const b = Float32Array.from(randn(K * N, rr));
    const c = withVariant(g, MATMUL_FAMILY, matmulShapeKey(M, N, K, false, false), 'tiled16', () => matmul(g, g.upload(a, [M, K]), g.upload(b, [K, N])));
    expectClose(await c.read(), matmulRef(a, b, M, N, K, false, false), TOL_F32, 'tuned matmul');
    expect(g.pipelines.keys()).toContain(`matmul.tiled16:${M}:${N}:${K}:false:false:false:false`);
    withVariant(g, MATMUL_FAMILY, matmulShapeKey(M, N, K, false, false), 'tiled16', () => matmul(g, g.upload(a, [K, M]), g.upload(b, [K, N]), { transA: true }));
    expect(g.pipelines.keys()).toContain(`matmul.compact:${M}:${N}:${K}:true:false:false:false`); // the default
  });

  it('ignores an unknown tuned name and refuses an unknown explicit one', () => {
    const g = gpu();
    withVariant(g, MATMUL_FAMILY, matmulShapeKey(3, 3, 3, false, false), 'bogus', () => matmul(g, g.zeros([3, 3]), g.zeros([3, 3])));
    expect(g.pipelines.keys()).toContain('matmul.compact:3:3:3:false:false:false:false'); // the default
    expect(() => matmul(g, g.zeros([3, 3]), g.zeros([3, 3]), { variant: 'huge' as MatmulVariant })).toThrow(/variant "huge" must be one of compact, register, tiled8, tiled16/);
  });
});

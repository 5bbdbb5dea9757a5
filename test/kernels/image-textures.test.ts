// Winograd tile transforms reading their image through a texture (src/gpu/textures.ts): the conv's
// forward, input gradient and filter gradient on a runtime that stages images and on one that does not
// (`imageTextures: false`), against the float64 references, on NaN-poisoned outputs. The shapes make
// W * C/4 a multiple of 16 texels (the copy's row alignment) for some passes and not for others, so
// both paths run in one conv; kernel keys say which took the texture. Plus the runtime's refusals.

import { beforeAll, describe, expect, it } from 'vitest';
import { GpuError, type Gpu } from '../../src/gpu';
import { conv2d } from '../../src/kernels/conv2d';
import { conv2dBackwardFilter, conv2dBackwardInput } from '../../src/kernels/conv2d-grad';
import { TOL_F32, expectClose, randn, rng, useGpus } from '../harness';
import { conv2dBackward, conv2dForward } from '../ref/conv';
import { tensor } from '../ref/tensor';

const gpus = useGpus({ imageTextures: false }, {});
let buffers: Gpu;
let images: Gpu;
beforeAll(() => {
  [buffers, images] = gpus() as [Gpu, Gpu];
});

const imageKeys = (g: Gpu) => g.pipelines.keys().filter((k) => /^winograd\.(input|output-grad):/.test(k));

describe('Winograd transforms from textures', () => {
  // [N, H, W, Cin] -> Cout, 'same': x's rows are W * Cin/4 texels (64, 64, 32, 16), dy's W * Cout/4.
  const CASES: [number[], number][] = [[[2, 9, 8, 32], 64], [[1, 7, 16, 16], 8], [[3, 5, 4, 32], 12], [[1, 6, 2, 32], 4]];
  CASES.forEach(([xShape, cout], i) => {
    it(`x[${xShape.join(',')}] 3x3 ->${cout}: y, dx, dw from textures and from buffers`, async () => {
      const r = rng(1100 + i);
      const wShape = [3, 3, xShape[3]!, cout];
      const x = randn(xShape.reduce((p, q) => p * q, 1), r);
      const w = randn(wShape.reduce((p, q) => p * q, 1), r);
      const yShape = [...xShape.slice(0, 3), cout];
      const dy = randn(yShape.reduce((p, q) => p * q, 1), r);
      const opts = { padding: 'same' as const, algorithm: 'winograd' as const };
      const yRef = conv2dForward(tensor(xShape, x), tensor(wShape, w), null, opts).data;
      const ref = conv2dBackward(tensor(yShape, dy), tensor(xShape, x), tensor(wShape, w), opts);
      for (const g of [buffers, images]) {
        const xT = g.upload(Float32Array.from(x), xShape);
        const wT = g.upload(Float32Array.from(w), wShape);
        const dyT = g.upload(Float32Array.from(dy), yShape);
        const [yv, dxv, dwv] = await g.readMany([conv2d(g, xT, wT, opts), conv2dBackwardInput(g, dyT, wT, xShape, opts), conv2dBackwardFilter(g, xT, dyT, wShape, opts)]);
        const what = g === images ? 'textures' : 'buffers';
        expectClose(yv!, yRef, TOL_F32, `y, ${what}`);
        expectClose(dxv!, ref.dx.data, TOL_F32, `dx, ${what}`);
        expectClose(dwv!, ref.dw.data, TOL_F32, `dw, ${what}`);
      }
    });
  });

  it('took the texture wherever the row alignment allows, and never with imageTextures: false', () => {
    expect(imageKeys(buffers).length).toBeGreaterThan(0);
    expect(imageKeys(buffers).every((k) => k.endsWith(':false'))).toBe(true);
    const staged = imageKeys(images).filter((k) => k.endsWith(':true'));
    const plain = imageKeys(images).filter((k) => k.endsWith(':false'));
    expect(staged.length).toBeGreaterThanOrEqual(4);
    expect(plain.length).toBeGreaterThanOrEqual(1); // e.g. x[3,5,4,32]'s dy: 4 * 3 texels per row
  });

  it('refuses to stage what does not fit, naming the tensor', () => {
    expect(images.canStageImage(16, 4)).toBe(true);
    expect(images.canStageImage(12, 4)).toBe(false); // 192-byte rows
    expect(images.canStageImage(16, images.limits.maxTextureDimension2D + 1)).toBe(false);
    expect(buffers.canStageImage(16, 4)).toBe(false);
    const t = images.zeros([4, 16, 4], 'f32', 'img');
    expect(() => images.imageOf(t, 16, 5)).toThrow(GpuError);
    expect(() => images.imageOf(t, 16, 5)).toThrow(/'img' \[4, 16, 4\]/);
    t.dispose();
  });
});

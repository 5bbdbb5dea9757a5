// The tiled variants of the stem conv forward (stem-tiled.ts), forced through the runtime's choice
// table and run by conv2d()'s 'auto' call, against the float64 reference on fresh random inputs with
// NaN-poisoned outputs (relative L2 TOL_F32 = 1e-5; stem-cases.ts): the model's stem at batch 2
// (82x64 -> 32, 'same'), ragged tiles (sizes not multiples of 16, 8 or 32 in either direction, an image
// smaller than one tile), ragged channel blocks (12 and 36 channels: lanes past Cout masked; 36 needs
// two blocks), 'valid' padding without bias and with the fused ReLU. The pipeline keys show the tiled kernel ran and the
// gather kernel did not. Also the fits-check: a variant the device cannot run, an unknown name or a
// layer that is not a stem leaves the default.

import { describe, expect, it } from 'vitest';
import type { Gpu } from '../../src/gpu';
import { withVariant } from '../../src/gpu/choices';
import { conv2dGeometry } from '../../src/kernels/conv2d';
import { STEM_FORWARD_FAMILY, STEM_FORWARD_VARIANTS, stemShapeKey, tiledStemVariant } from '../../src/kernels/stem-tiled';
import { useGpu } from '../harness';
import { STEM_KEYS, type StemCall, stemForward } from './stem-cases';

const gpu = useGpu();
const TILED = STEM_FORWARD_VARIANTS.slice(1);
const SAME: StemCall = { padding: 'same', bias: true, relu: false };

/**
 * [x shape, Cout, call, variants]: the model's stem, ragged tiles and channel blocks, the other call
 * options. Each shape compiles its own pipelines (lavapipe: 7-17 s each on a loaded machine), so not
 * every variant runs at every shape; 19x37 -> 12 is test/tune/dispatch.test.ts's shape (a warm shader
 * cache shares its pipelines).
 */
const SHAPES: [number[], number, StemCall, string[]][] = [
  [[3, 19, 37, 1], 12, SAME, TILED],
  [[2, 82, 64, 1], 32, SAME, ['tile16x16']],
  [[1, 5, 3, 1], 36, SAME, ['tile8x32']],
  [[2, 17, 33, 1], 8, { padding: 'valid', bias: false, relu: true }, ['tile16x16']],
];

describe('the stem conv forward with the tiled variants forced', () => {
  SHAPES.forEach(([xShape, cout, call, variants], i) => {
    for (const variant of variants) {
      it(`${variant}: x[${xShape.join(',')}] 3x3 -> ${cout} ${call.padding}${call.bias ? ' +bias' : ''}${call.relu ? ' relu' : ''}`, async () => {
        const keys = await stemForward(gpu(), xShape, cout, 700 + 10 * i + variant.length, variant, call);
        expect(keys.filter((k) => STEM_KEYS[variant]!.test(k)), keys.join(' ')).toHaveLength(1);
        expect(keys.some((k) => STEM_KEYS.gather!.test(k)), keys.join(' ')).toBe(false);
      });
    }
  });

  it('runs the gather kernel with nothing installed', async () => {
    const keys = await stemForward(gpu(), [1, 6, 7, 1], 8, 77, undefined);
    expect(keys.some((k) => STEM_KEYS.gather!.test(k)), keys.join(' ')).toBe(true);
  });
});

describe('the fits-check', () => {
  const g = conv2dGeometry('test', [32, 82, 64, 1], [3, 3, 1, 32], { padding: 'same' });
  // WebGPU's default limits (the ones the fits-check reads).
  const WEBGPU_DEFAULTS = { maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupStorageSize: 16384, maxComputeWorkgroupsPerDimension: 65535 };
  /** The variant the stem forward would run with `variant` chosen on a device with these limits. */
  const chosenWith = (variant: string, limits: Partial<Gpu['limits']> = {}, geometry = g) => {
    const fake = { limits: { ...WEBGPU_DEFAULTS, ...limits } } as Gpu;
    return withVariant(fake, STEM_FORWARD_FAMILY, stemShapeKey(geometry), variant, () => tiledStemVariant(fake, geometry));
  };

  it('runs the chosen tiled variant where it fits, the default elsewhere', () => {
    expect(stemShapeKey(g)).toBe('82x64x1->32 p1,1,1,1');
    expect(chosenWith('tile16x16')).toBe('tile16x16');
    expect(chosenWith('tile8x32')).toBe('tile8x32');
    expect(chosenWith('gather')).toBeNull();
    expect(chosenWith('tile99')).toBeNull(); // an old or edited cache
    expect(chosenWith('tile16x16', { maxComputeInvocationsPerWorkgroup: 128 })).toBeNull();
    expect(chosenWith('tile8x32', { maxComputeWorkgroupSizeX: 128 })).toBeNull();
    expect(chosenWith('tile16x16', { maxComputeWorkgroupStorageSize: 1024 })).toBeNull(); // 18x18 floats
    expect(chosenWith('tile16x16', { maxComputeWorkgroupsPerDimension: 31 })).toBeNull(); // a batch of 32
    const strided = conv2dGeometry('test', [1, 82, 64, 1], [3, 3, 1, 32], { padding: 'same', stride: [2, 2] });
    expect(chosenWith('tile16x16', {}, strided)).toBeNull();
    const twoChannels = conv2dGeometry('test', [1, 82, 64, 2], [3, 3, 2, 32], { padding: 'same' });
    expect(chosenWith('tile16x16', {}, twoChannels)).toBeNull();
    const other = { limits: WEBGPU_DEFAULTS } as unknown as Gpu; // no choice installed: the default
    expect(tiledStemVariant(other, g)).toBeNull();
  });
});

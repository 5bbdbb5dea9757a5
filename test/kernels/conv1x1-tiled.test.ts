// The tiled variants of the 1x1 conv's three passes (conv1x1-tiled.ts on matmul-tiled.ts), both lane
// counts, forced per pass through the runtime's choice table and run by the model's 'auto' calls, against
// float64 references on fresh random inputs with NaN-poisoned outputs (relative L2 TOL_F32 = 1e-5;
// conv1x1-cases.ts): the model's shortcut channel counts (32 -> 64, 64 -> 128) at its resolutions and at
// ragged pixel counts (not multiples of the 32/64-row tile nor of the k step: ragged blocks and a ragged
// last chunk of the filter gradient's split-K), and odd channel counts (12 -> 20, 4 -> 8).
// The pipeline keys show the tiled kernels ran and the defaults did not. Also the fits-check: a variant
// the device cannot run, or an unknown name, leaves the default.

import { describe, expect, it } from 'vitest';
import type { Gpu } from '../../src/gpu';
import { withVariant } from '../../src/gpu/choices';
import type { ConvPass } from '../../src/kernels/conv-variants';
import { CONV1X1_FAMILY, conv1x1ShapeKey, tiledConv1x1Lanes } from '../../src/kernels/conv1x1-tiled';
import { reduceChunkTiles } from '../../src/kernels/winograd-gemm-tiled';
import { useGpu } from '../harness';
import { CONV1X1_KEYS, conv1x1Passes } from './conv1x1-cases';

const gpu = useGpu();
const PASSES: ConvPass[] = ['forward', 'input-grad', 'filter-grad'];

/**
 * [x shape, Cout, variants]: the model's shortcuts at batch 2, ragged pixel counts, odd channel counts.
 * tiled16 at one shape only: its pipelines take lavapipe 40 s and more each to compile (they are the
 * dispatch test's, so a warm shader cache shares them); the gate test runs it at the model's 20x16x64->128.
 */
const SHAPES: [number[], number, ('tiled8' | 'tiled16')[]][] = [
  [[2, 41, 32, 32], 64, ['tiled8']],
  [[2, 20, 16, 64], 128, ['tiled8']],
  [[2, 9, 7, 32], 64, ['tiled8']],
  [[1, 5, 13, 64], 128, ['tiled8']],
  [[3, 5, 3, 12], 20, ['tiled8', 'tiled16']],
  [[1, 3, 3, 4], 8, ['tiled8']],
];

describe('1x1 conv passes with the tiled variants forced', () => {
  SHAPES.forEach(([xShape, cout, variants], i) => {
    for (const variant of variants) {
      it(`${variant}: x[${xShape.join(',')}] 1x1 -> ${cout}, forward + both gradients`, async () => {
        const forced = Object.fromEntries(PASSES.map((p) => [p, variant]));
        const used = await conv1x1Passes(gpu(), xShape, cout, 900 + 10 * i + variant.length, forced);
        for (const p of PASSES) {
          const keys = Object.entries(CONV1X1_KEYS[p]);
          expect(used[p].filter((k) => CONV1X1_KEYS[p][variant]!.test(k)).length, `${p}: ${used[p].join(' ')}`).toBe(1);
          expect(used[p].some((k) => keys.some(([v, re]) => v !== variant && re.test(k))), `${p}: ${used[p].join(' ')}`).toBe(false);
        }
      });
    }
  });

  it('splits the filter gradient into chunks of whole k steps, the last one ragged', () => {
    expect(reduceChunkTiles(1, 2 * 9 * 7, 32, 64, 8)).toBe(16); // 126 pixels: 8 chunks, the last of 14
    expect(reduceChunkTiles(1, 32 * 41 * 32, 32, 64, 16) % 16).toBe(0);
  });
});

describe('the fits-check', () => {
  const [xShape, cout] = [[32, 41, 32, 32], 64];
  const shape = conv1x1ShapeKey(41, 32, 32, 64);
  // WebGPU's default limits (the ones the fits-check reads).
  const WEBGPU_DEFAULTS = { maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupSizeY: 256, maxComputeWorkgroupStorageSize: 16384, maxComputeWorkgroupsPerDimension: 65535 };
  /** The lanes the forward would run with `variant` chosen on a device with these limits. */
  const lanesWith = (variant: string, limits: Partial<Gpu['limits']> = {}, pass: ConvPass = 'forward') => {
    const fake = { limits: { ...WEBGPU_DEFAULTS, ...limits } } as Gpu;
    return withVariant(fake, CONV1X1_FAMILY[pass], shape, variant, () => tiledConv1x1Lanes(fake, pass, xShape, cout));
  };

  it('runs the chosen tiled variant where it fits, the default elsewhere', () => {
    expect(lanesWith('tiled8')).toBe(8);
    expect(lanesWith('tiled16', {}, 'filter-grad')).toBe(16);
    expect(lanesWith('lanes')).toBeNull();
    expect(lanesWith('direct', {}, 'filter-grad')).toBeNull();
    expect(lanesWith('tiled99')).toBeNull(); // an old or edited cache
    expect(lanesWith('tiled16', { maxComputeInvocationsPerWorkgroup: 128 })).toBeNull();
    expect(lanesWith('tiled8', { maxComputeInvocationsPerWorkgroup: 128 })).toBe(8);
    expect(lanesWith('tiled8', { maxComputeWorkgroupsPerDimension: 1000 })).toBeNull(); // 41984 pixels / 32 rows
    expect(lanesWith('tiled16', { maxComputeWorkgroupStorageSize: 4096 })).toBeNull();
    const other = { limits: WEBGPU_DEFAULTS } as unknown as Gpu; // no choice installed: the default
    expect(tiledConv1x1Lanes(other, 'forward', xShape, cout)).toBeNull();
  });
});

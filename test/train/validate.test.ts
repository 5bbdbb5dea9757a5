// Device-fit checks of a training run (pure arithmetic on the model config and the device limits).
import { describe, expect, it } from 'vitest';
import { modelConfig } from '../../src/nn/model';
import { checkFitsDevice, largestActivationBytesPerExample } from '../../src/train/data/validate';

const limits = { maxStorageBufferBindingSize: 128 * 2 ** 20, maxBufferSize: 256 * 2 ** 20 };

describe('checkFitsDevice', () => {
  const seed = modelConfig();
  it('counts the stem conv output as the largest activation of the seed model', () => {
    // 82 x 64 pixels x 32 filters vs 41 x 32 x 64 and 20 x 16 x 128
    expect(largestActivationBytesPerExample(seed)).toBe(82 * 64 * 32 * 4);
    expect(largestActivationBytesPerExample({ ...seed, stem: { filters: 8, dropout: 0 } })).toBe(41 * 32 * 64 * 4);
  });
  it('accepts the seed batch and refuses one past the smaller limit, naming the largest that fits', () => {
    expect(() => checkFitsDevice(limits, seed, 32)).not.toThrow();
    const fits = Math.floor((128 * 2 ** 20) / (82 * 64 * 32 * 4));
    expect(() => checkFitsDevice(limits, seed, fits)).not.toThrow();
    expect(() => checkFitsDevice(limits, seed, fits + 1)).toThrow(`use --batch ${fits} or less`);
  });
});

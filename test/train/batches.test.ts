// Host batch assembly (batches.ts batchFeatures): whole maps and windows of examples in any order,
// repeats included, are the examples' own values; unknown examples, maps of another size and windows
// past the map are refused with the example named.

import { describe, expect, it } from 'vitest';
import { batchFeatures, exampleMaps, type ExampleFeatures } from '../../src/train/loop/batches';
import { randn, rng } from '../harness';

const [N, H, S] = [5, 3, 10];
const block = Float32Array.from(randn(N * H * S, rng(2)));
const whole: ExampleFeatures = { x: exampleMaps(block, N), rows: H, frames: S };
const at = (i: number, h: number, t: number) => block[(i * H + h) * S + t]!;

describe('batchFeatures', () => {
  it('copies whole maps of examples in the order given', () => {
    const ids = [3, 0, 3, 4];
    const got = batchFeatures(whole, ids);
    expect(got.length).toBe(ids.length * H * S);
    ids.forEach((i, b) => {
      for (let h = 0; h < H; h++) for (let t = 0; t < S; t++) expect(got[(b * H + h) * S + t]).toBe(at(i, h, t));
    });
  });

  it('copies a window of W frames per example at its start (0 when no starts are given)', () => {
    const W = 4;
    const data = { ...whole, windows: { frames: W, evalWindows: 1, lengths: new Uint32Array(N).fill(S) } };
    const ids = [1, 4, 1];
    const starts = [6, 0, 2];
    const got = batchFeatures(data, ids, starts);
    const zero = batchFeatures(data, ids);
    expect(got.length).toBe(ids.length * H * W);
    ids.forEach((i, b) => {
      for (let h = 0; h < H; h++) {
        for (let w = 0; w < W; w++) {
          expect(got[(b * H + h) * W + w]).toBe(at(i, h, starts[b]! + w));
          expect(zero[(b * H + h) * W + w]).toBe(at(i, h, w));
        }
      }
    });
  });

  it('refuses unknown examples, maps of another size and windows past the map', () => {
    expect(() => batchFeatures(whole, [0, 5])).toThrow('batch: example 5 is not among the 5 examples');
    expect(() => batchFeatures({ ...whole, x: [...whole.x.slice(0, 2), new Float32Array(7)] }, [2])).toThrow('batch: example 2 has 7 values, expected 3 x 10');
    const data = { ...whole, windows: { frames: 4, evalWindows: 1, lengths: new Uint32Array(N).fill(S) } };
    expect(() => batchFeatures(data, [1], [7])).toThrow("a window of 4 frames at 7 runs past example 1's 10 frames");
    expect(() => exampleMaps(new Float32Array(10), 3)).toThrow('a block of 10 values does not split into 3 examples');
  });
});

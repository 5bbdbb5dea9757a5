// The bench's FLOP columns (bench/harness.ts, peak.ts, conv-flops.ts), without a GPU: a Winograd
// layer's executed count (GEMM plus transforms, counted by hand below) is what "of peak" divides, the
// nominal direct-conv rate is shown beside it, and no fraction passes 100% (a case faster than the
// matmul becomes the peak, named).

import { describe, expect, it } from 'vitest';
import { nominalConvFlops, winogradConvFlops } from '../../bench/conv-flops';
import { type BenchResult, markdownTable } from '../../bench/harness';
import { type Peak, peakFraction, withCasePeaks } from '../../bench/peak';

describe('executed FLOPs of a Winograd layer', () => {
  it('F(2x2,3x3) on a 4x4x4 -> 4 layer: GEMM plus transforms, as counted by hand', () => {
    // m = 2, a = 4, T = 2 x 2 tiles, S = D = 4; nonzeros: Bᵀ 8, G 8, Aᵀ 6. Multiply-adds:
    // input 4 tiles x 4 ch x (4 + 4) x 8 = 1024; filters 16 x (4 + 3) x 8 = 896; GEMM 16 x 4 x 16 = 1024;
    // inverse 4 tiles x 4 ch x (4 + 2) x 6 = 576; total 3520 = 7040 flops.
    const layer = { name: 'tiny', H: 4, W: 4, cin: 4, cout: 4, k: 3 };
    expect(winogradConvFlops(layer, 'fwd', 2, 1)).toBe(7040);
    expect(nominalConvFlops(layer, 1)).toBe(2 * 16 * 4 * 9 * 4);
  });

  it('F(4x4,3x3) on the model\'s 64 -> 64 layer does about a third of the nominal work', () => {
    const layer = { name: 'conv3x3 64->64 @41x32', H: 41, W: 32, cin: 64, cout: 64, k: 3 };
    for (const pass of ['fwd', 'dgrad', 'wgrad'] as const) {
      const ratio = winogradConvFlops(layer, pass, 4) / nominalConvFlops(layer);
      expect(ratio, pass).toBeGreaterThan(0.25);
      expect(ratio, pass).toBeLessThan(0.4);
    }
  });
});

describe('of peak', () => {
  const peak: Peak = { gflops: 10, gflopsFrom: 'matmul 1024^3', gbps: 20, gbpsFrom: 'copy', method: '' };
  const result = (name: string, gflops: number, executedGflops: number): BenchResult => ({ group: 'conv2d', name, medianMs: 1, iqrMs: 0, minMs: 1, samples: 5, gflops, executedGflops });

  it('divides the executed GFLOP/s, not the nominal', () => {
    expect(peakFraction(result('winograd', 40, 8), peak)).toBeCloseTo(0.8, 12);
    expect(peakFraction({ ...result('plain', 5, 5), executedGflops: undefined }, peak)).toBeCloseTo(0.5, 12);
  });

  it('is never over 100%: a case faster than the matmul becomes the peak, and both rates show', () => {
    const results = [result('fast', 60, 15), result('slow', 3, 3), { group: 'pool', name: 'copyish', medianMs: 1, iqrMs: 0, minMs: 1, samples: 5, gbps: 30 }];
    const { peak: p, raised } = withCasePeaks(peak, results);
    expect(p.gflops).toBe(15);
    expect(p.gflopsFrom).toBe('conv2d/fast, faster than matmul 1024^3');
    expect(p.gbps).toBe(30);
    expect(raised).toHaveLength(2);
    for (const r of results) {
      r.peakFraction = peakFraction(r, p);
      expect(r.peakFraction!).toBeLessThanOrEqual(1);
    }
    const table = markdownTable(results);
    expect(table).toMatch(/\| nominal GFLOP\/s \| executed GFLOP\/s \| GB\/s \| of peak \|/);
    expect(table).toMatch(/\| conv2d \| fast \| .* \| 60\.0 \| 15\.0 \|  \| 100\.0% \|/);
    expect(table).toMatch(/\| conv2d \| slow \| .* \| 3\.00 \| 3\.00 \|  \| 20\.0% \|/);
  });
});

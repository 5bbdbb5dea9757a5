// Conv2d cases on the SER model's layers at batch 32 (input 82x64x1): forward (with bias, as the
// model calls it; BN and ReLU follow in their own kernels), input gradient and filter gradient of
// each layer (the stem's input gradient is never needed), and the bias gradient at each stage's output
// shape. Layers where the default ('auto') picks Winograd F(4x4,3x3) also run as F(2x2,3x3)
// ("... winograd2") and with the direct gather kernel ("... direct"), side by side. Nominal GFLOP/s
// counts 2*M*N*K of the direct GEMM (M = N*Ho*Wo pixels, N = Cout, K = KH*KW*Cin) for every pass and
// algorithm, so Winograd's nominal figure is an effective rate (its GEMM performs about 4x (F(2,3):
// 2.25x) fewer multiplies); executed GFLOP/s counts what the algorithm the device runs performs,
// transforms included (conv-flops.ts), and is what "of peak" uses.

import { type Conv2dAlgorithm, conv2d, conv2dGeometry } from '../src/kernels/conv2d';
import { winogradFits } from '../src/kernels/winograd';
import { conv2dBackwardBias, conv2dBackwardFilter, conv2dBackwardInput } from '../src/kernels/conv2d-grad';
import type { Tensor } from '../src/gpu';
import type { BenchCase } from './harness';
import { BATCH, CONV_LAYERS, type ConvLayer, randomTensor, sizeOfShape } from './util';
import { executedConvFlops, nominalConvFlops } from './conv-flops';

type Pass = 'fwd' | 'dgrad' | 'wgrad';

/** Layers and passes in the regression guard: one per kind of layer shape, all three passes. */
const GUARDED = new Set(['conv3x3 1->32 @82x64 fwd', 'conv3x3 64->64 @41x32', 'conv3x3 128->128 @20x16', 'conv1x1 64->128 @20x16 fwd']);

type Variant = 'auto' | 'direct' | 'winograd2';

function layerCase(l: ConvLayer, pass: Pass, variant: Variant = 'auto'): BenchCase {
  const xShape = [BATCH, l.H, l.W, l.cin];
  const wShape = [l.k, l.k, l.cin, l.cout];
  const yShape = [BATCH, l.H, l.W, l.cout]; // 'same', stride 1
  const name = `${l.name} ${pass}${variant === 'auto' ? '' : ` ${variant}`}`;
  return {
    group: 'conv2d',
    name,
    flops: nominalConvFlops(l),
    guard: variant === 'auto' && (GUARDED.has(name) || GUARDED.has(l.name)),
    setup(gpu) {
      const x = randomTensor(gpu, xShape);
      const w = randomTensor(gpu, wShape);
      const bias = randomTensor(gpu, [l.cout]);
      const dy = randomTensor(gpu, yShape);
      const algorithm: Conv2dAlgorithm = variant === 'direct' ? 'direct' : 'auto';
      const opts = { padding: 'same' as const, algorithm, winogradTile: variant === 'winograd2' ? (2 as const) : undefined };
      const runs: Record<Pass, () => Tensor> = {
        fwd: () => conv2d(gpu, x, w, { ...opts, bias }),
        dgrad: () => conv2dBackwardInput(gpu, dy, w, xShape, opts),
        wgrad: () => conv2dBackwardFilter(gpu, x, dy, wShape, opts),
      };
      return {
        run: () => runs[pass]().dispose(),
        dispose: () => [x, w, bias, dy].forEach((t) => t.dispose()),
        executedFlops: executedConvFlops(gpu, l, pass, algorithm, opts.winogradTile),
      };
    },
  };
}

function biasGradCase(l: ConvLayer): BenchCase {
  const yShape = [BATCH, l.H, l.W, l.cout];
  return {
    group: 'conv2d',
    name: `bias grad ${yShape.join('x')}`,
    bytes: 4 * sizeOfShape(yShape),
    setup(gpu) {
      const dy = randomTensor(gpu, yShape);
      return { run: () => conv2dBackwardBias(gpu, dy).dispose(), dispose: () => dy.dispose() };
    },
  };
}

export function conv2dCases(): BenchCase[] {
  // The stem's input gradient is never computed (the input needs none), so it has no case.
  const passes = CONV_LAYERS.flatMap((l, i) => (i === 0 ? (['fwd', 'wgrad'] as const) : (['fwd', 'dgrad', 'wgrad'] as const)).flatMap((p) => {
    const geometry = conv2dGeometry('bench', [BATCH, l.H, l.W, l.cin], [l.k, l.k, l.cin, l.cout], { padding: 'same' });
    // The 128 MiB binding limit of lavapipe is the smallest we target; real GPUs allow more.
    const winograd = winogradFits(geometry, 128 * 1024 * 1024);
    return winograd ? [layerCase(l, p), layerCase(l, p, 'winograd2'), layerCase(l, p, 'direct')] : [layerCase(l, p)];
  }));
  const outputShapes = [CONV_LAYERS[0]!, CONV_LAYERS[1]!, CONV_LAYERS[4]!];
  return [...passes, ...outputShapes.map(biasGradCase)];
}

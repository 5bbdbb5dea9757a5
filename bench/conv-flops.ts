// The arithmetic a conv case actually performs, beside its nominal count. Nominal: the direct
// convolution's 2*M*N*K (M = N*Ho*Wo pixels, N = Cout, K = KH*KW*Cin) whatever the algorithm, so a
// Winograd layer's nominal GFLOP/s is an effective rate that can pass the FLOP peak. Executed: what the
// chosen algorithm does, asked of the same functions the kernels decide with (useWinograd,
// usePointwiseGemm): direct and pointwise layers do the nominal work; a Winograd F(m x m, 3x3) layer
// (a = m + 2, T = N*ceil(DH/m)*ceil(DW/m) tiles) does its GEMM, 2*a²*T*S*D for S source and D
// destination channels, plus its transforms, counted as 2 flops per nonzero coefficient per use
// (L X Lᵀ with L q x r costs (q + r) * nnz(L) multiply-adds):
//   forward / input gradient  Bᵀ d B per tile and source channel, G g Gᵀ per filter, Aᵀ M A per tile
//                             and destination channel;
//   filter gradient           Bᵀ d B per tile and input channel, A dY Aᵀ per tile and output channel,
//                             the GEMM reducing over tiles, Gᵀ dU G per filter.
// Bias, ReLU and the zero padding are left out, as in the nominal count.

import type { Gpu } from '../src/gpu';
import { conv2dGeometry, type Conv2dAlgorithm, usePointwiseGemm, useWinograd } from '../src/kernels/conv2d';
import { DEFAULT_TILE, MATRICES, type WinogradTile } from '../src/kernels/winograd-matrices';
import { BATCH, type ConvLayer } from './util';

export type ConvPass = 'fwd' | 'dgrad' | 'wgrad';

const nnz = (m: number[][]) => m.flat().filter((c) => c !== 0).length;

/** The direct convolution's FLOPs for one pass of `l` at batch `n` (every pass does the same MACs). */
export function nominalConvFlops(l: ConvLayer, n = BATCH): number {
  return 2 * n * l.H * l.W * l.cout * l.k * l.k * l.cin;
}

/** FLOPs of one Winograd F(m x m, 3x3) pass of a 'same' 3x3 layer (see the header). */
export function winogradConvFlops(l: ConvLayer, pass: ConvPass, m: WinogradTile, n = BATCH): number {
  const { BT, G, AT } = MATRICES[m];
  const a = m + 2;
  const T = n * Math.ceil(l.H / m) * Math.ceil(l.W / m);
  const [S, D] = pass === 'dgrad' ? [l.cout, l.cin] : [l.cin, l.cout];
  const input = T * S * 2 * a * nnz(BT);
  const filter = S * D * (a + 3) * nnz(G);
  const gemm = a * a * T * S * D;
  const outputSide = T * D * (a + m) * nnz(AT); // Aᵀ M A (fwd, dgrad) or A dY Aᵀ (wgrad)
  return 2 * (input + filter + gemm + outputSide);
}

/** FLOPs the kernels perform for this pass on this device: Winograd's where it runs, else nominal. */
export function executedConvFlops(gpu: Gpu, l: ConvLayer, pass: ConvPass, algorithm: Conv2dAlgorithm = 'auto', tile: WinogradTile = DEFAULT_TILE, n = BATCH): number {
  const g = conv2dGeometry('bench', [n, l.H, l.W, l.cin], [l.k, l.k, l.cin, l.cout], { padding: 'same' });
  if (pass !== 'wgrad' && usePointwiseGemm(gpu, g, algorithm)) return nominalConvFlops(l, n);
  return useWinograd('bench', gpu, g, algorithm, tile) ? winogradConvFlops(l, pass, tile, n) : nominalConvFlops(l, n);
}

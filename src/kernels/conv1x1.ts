// 1x1 stride-1 convolution without padding as a plain GEMM: NHWC x [N, H, W, Cin] is the matrix
// [N*H*W, Cin], the filter [1, 1, Cin, Cout] is [Cin, Cout], so y = x · w (+ bias) with no im2col at all.
// It runs on the Winograd GEMM (winograd.ts, batchedGemm with one position): lanes over vec4s of output
// channels, 8 or 32 pixels per workgroup whose input rows are workgroup-uniform (shared by subgroup
// broadcast where the device allows). On lavapipe that is faster than the direct gather kernel of
// conv2d.ts for the model's shortcuts (bench/RESULTS.md); conv2d() takes it for every 1x1 stride-1
// unpadded conv without ReLU under 'auto', in training too (usePointwiseGemm).
// The tuner may replace it per layer by a workgroup-memory tiled GEMM (conv1x1-tiled.ts: family
// conv1x1.forward; the gradients' families are applied in conv2d-grad.ts).
// Limits (conv1x1Fits; callers fall back to conv2d.ts): Cin, Cout multiples of 4, Cout <= 1024 (Cout/4
// lanes per workgroup), ceil(N*H*W / 8) <= 65535 workgroups, both operands within one storage binding.

import { ShapeError, fmtShape, type Gpu, type Tensor } from '../gpu';
import { expectDtype, expectRank } from './checks';
import { batchedGemm } from './winograd';
import { conv1x1ForwardTiled, tiledConv1x1Lanes } from './conv1x1-tiled';

const ROWS = 8;
const MAX_GROUPS = 65535;

/** Whether conv1x1 handles an input [N, H, W, Cin] with `cout` output channels on this device. */
export function conv1x1Fits(xShape: readonly number[], cout: number, maxBinding: number): boolean {
  const [N, H, W, Cin] = xShape as [number, number, number, number];
  const M = N * H * W;
  if (Cin % 4 !== 0 || cout % 4 !== 0 || cout > 1024) return false;
  return Math.ceil(M / ROWS) <= MAX_GROUPS && M * Math.max(Cin, cout) * 4 <= maxBinding;
}

/** y [N, H, W, Cout] = x [N, H, W, Cin] · w [1, 1, Cin, Cout] + bias. */
export function conv1x1(gpu: Gpu, x: Tensor, w: Tensor, bias?: Tensor): Tensor {
  const op = 'conv1x1';
  expectDtype(op, x, 'f32');
  expectDtype(op, w, 'f32');
  expectRank(op, x, 4);
  expectRank(op, w, 4);
  const [N, H, W, Cin] = x.shape as [number, number, number, number];
  const [KH, KW, wCin, Cout] = w.shape as [number, number, number, number];
  if (KH !== 1 || KW !== 1 || wCin !== Cin) throw new ShapeError(`${op}: filter ${fmtShape(w.shape)} must be [1, 1, ${Cin}, Cout] for input ${fmtShape(x.shape)}`);
  if (bias && bias.size !== Cout) throw new ShapeError(`${op}: bias ${fmtShape(bias.shape)} does not match ${Cout} output channels`);
  if (!conv1x1Fits(x.shape, Cout, gpu.limits.maxStorageBufferBindingSize)) {
    throw new ShapeError(`${op}: input ${fmtShape(x.shape)} with ${Cout} output channels does not fit (channels multiples of 4, Cout <= 1024, N*H*W <= ${ROWS * MAX_GROUPS})`);
  }
  const lanes = tiledConv1x1Lanes(gpu, 'forward', x.shape, Cout);
  if (lanes) return conv1x1ForwardTiled(gpu, x, w, bias, lanes);
  return gpu.scope(() => batchedGemm(gpu, x.reshape([1, N * H * W, Cin]), w.reshape([1, Cin, Cout]), bias, op).reshape([N, H, W, Cout]));
}

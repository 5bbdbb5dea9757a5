// Differentiable ops on the tape: each runs its forward kernels and records its backward beside it.
// Gradient formulas (dy = gradient of the output):
//   relu:   dx = dy * (y > 0)
//   add:    da = dy, db = dy
//   dense:  y = x W + b;  dx = dy Wᵀ,  dW = xᵀ dy,  db = column sums of dy (as 1ᵀ dy, a matmul)

import { ShapeError, fmtShape, type Gpu, type Tensor } from '../gpu';
import { add as addKernel, relu as reluKernel, reluBackward } from '../kernels/elementwise';
import { matmul } from '../kernels/matmul';
import type { Tape, Var } from './tape';

export function relu(tape: Tape, x: Var): Var {
  const y = reluKernel(tape.gpu, x.value);
  return tape.record([x], y, (dy) => [reluBackward(tape.gpu, dy!, y)]);
}

/** A copy of t: each input of an op receives its own gradient tensor, which the tape frees separately. */
function clone(gpu: Gpu, t: Tensor): Tensor {
  const c = gpu.empty(t.shape, t.dtype, 'grad');
  gpu.copy(t, c);
  return c;
}

export function add(tape: Tape, a: Var, b: Var): Var {
  const gpu = tape.gpu;
  const y = addKernel(gpu, a.value, b.value);
  return tape.record([a, b], y, (dy) => [clone(gpu, dy!), clone(gpu, dy!)]);
}

/** x [N, in] · W [in, out] + b [out], optionally followed by ReLU (fused into the matmul). */
export function dense(tape: Tape, x: Var, w: Var, b: Var, activation: 'none' | 'relu' = 'none'): Var {
  const gpu = tape.gpu;
  const [n, fin] = x.shape as [number, number];
  if (x.shape.length !== 2 || w.shape.length !== 2 || w.shape[0] !== fin || b.value.size !== w.shape[1]) {
    throw new ShapeError(`dense: input ${fmtShape(x.shape)}, weights ${fmtShape(w.shape)} and bias ${fmtShape(b.shape)} do not fit`);
  }
  const y = matmul(gpu, x.value, w.value, { bias: b.value, activation });
  const ones = gpu.upload(new Float32Array(n).fill(1), [1, n], 'f32', 'dense.ones');
  return tape.record(
    [x, w, b],
    y,
    (dyIn) => {
      const dy = activation === 'relu' ? reluBackward(gpu, dyIn!, y) : dyIn!;
      const dx = x.requiresGrad ? matmul(gpu, dy, w.value, { transB: true }) : null;
      const dw = matmul(gpu, x.value, dy, { transA: true });
      const colSums = matmul(gpu, ones, dy);
      const db = colSums.reshape([w.shape[1]!]);
      colSums.dispose();
      if (dy !== dyIn) dy.dispose();
      return [dx, dw, db];
    },
    [ones],
  );
}

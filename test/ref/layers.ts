// Reference element-wise and pooling layers in float64, forward and backward: ReLU, 2x2/2 max pooling,
// residual add, global average pooling and dense. Images are NHWC; dense is x [N, in] W [in, out] + b.

import { type Tensor, tensor } from './tensor';

export function reluForward(x: Tensor): Tensor {
  return { data: x.data.map((v) => (v > 0 ? v : 0)), shape: [...x.shape] };
}

/** The derivative at exactly 0 is taken as 0 (as TensorFlow's ReluGrad does). */
export function reluBackward(dy: Tensor, x: Tensor): Tensor {
  return { data: dy.data.map((g, i) => (x.data[i]! > 0 ? g : 0)), shape: [...x.shape] };
}

export interface MaxPoolResult {
  y: Tensor;
  /** For each output element, the flat index into x of the input it took. */
  argmax: Int32Array;
}

/**
 * 2x2 windows, stride 2, no padding: OH = floor(H / 2), OW = floor(W / 2) (a trailing odd row or column
 * is dropped, as Keras MaxPooling2D with padding='valid'). On ties the first maximum in row-major window
 * order wins: (0,0), (0,1), (1,0), (1,1), so backward routes the whole gradient to that one input.
 */
export function maxPool2x2Forward(x: Tensor): MaxPoolResult {
  const [N, H, W, C] = x.shape as [number, number, number, number];
  const OH = Math.floor(H / 2);
  const OW = Math.floor(W / 2);
  if (OH < 1 || OW < 1) throw new Error(`maxPool2x2: input [${x.shape}] is smaller than one window`);
  const y = tensor([N, OH, OW, C]);
  const argmax = new Int32Array(y.data.length);
  for (let n = 0; n < N; n++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) for (let c = 0; c < C; c++) {
    let best = -Infinity;
    let bestIndex = -1;
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) {
      const xi = ((n * H + 2 * oh + i) * W + 2 * ow + j) * C + c;
      if (x.data[xi]! > best || bestIndex < 0) {
        best = x.data[xi]!;
        bestIndex = xi;
      }
    }
    const yi = ((n * OH + oh) * OW + ow) * C + c;
    y.data[yi] = best;
    argmax[yi] = bestIndex;
  }
  return { y, argmax };
}

export function maxPool2x2Backward(dy: Tensor, forward: MaxPoolResult, xShape: number[]): Tensor {
  const dx = tensor(xShape);
  for (let p = 0; p < dy.data.length; p++) dx.data[forward.argmax[p]!] += dy.data[p]!;
  return dx;
}

export function addForward(a: Tensor, b: Tensor): Tensor {
  if (a.shape.join() !== b.shape.join()) throw new Error(`add: shapes [${a.shape}] and [${b.shape}] differ`);
  return { data: a.data.map((v, i) => v + b.data[i]!), shape: [...a.shape] };
}

/** Both summands receive the upstream gradient unchanged. */
export function addBackward(dy: Tensor): { da: Tensor; db: Tensor } {
  return { da: tensor(dy.shape, dy.data), db: tensor(dy.shape, dy.data) };
}

/** [N, H, W, C] -> [N, C], the mean over H and W. */
export function globalAvgPoolForward(x: Tensor): Tensor {
  const [N, H, W, C] = x.shape as [number, number, number, number];
  const y = tensor([N, C]);
  for (let p = 0; p < x.data.length; p++) {
    const n = Math.floor(p / (H * W * C));
    y.data[n * C + (p % C)] += x.data[p]! / (H * W);
  }
  return y;
}

export function globalAvgPoolBackward(dy: Tensor, xShape: number[]): Tensor {
  const [, H, W, C] = xShape as [number, number, number, number];
  const dx = tensor(xShape);
  for (let p = 0; p < dx.data.length; p++) {
    const n = Math.floor(p / (H * W * C));
    dx.data[p] = dy.data[n * C + (p % C)]! / (H * W);
  }
  return dx;
}

export function denseForward(x: Tensor, w: Tensor, b: Tensor | null): Tensor {
  const [N, I] = x.shape as [number, number];
  const [wi, O] = w.shape as [number, number];
  if (x.shape.length !== 2 || wi !== I) throw new Error(`dense: x [${x.shape}] and w [${w.shape}] do not fit`);
  const y = tensor([N, O]);
  for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) {
    let s = b ? b.data[o]! : 0;
    for (let i = 0; i < I; i++) s += x.data[n * I + i]! * w.data[i * O + o]!;
    y.data[n * O + o] = s;
  }
  return y;
}

/** dx = dy W^T, dw = x^T dy, db = column sums of dy. */
export function denseBackward(dy: Tensor, x: Tensor, w: Tensor): { dx: Tensor; dw: Tensor; db: Tensor } {
  const [N, I] = x.shape as [number, number];
  const O = w.shape[1]!;
  const dx = tensor(x.shape);
  const dw = tensor(w.shape);
  const db = tensor([O]);
  for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) {
    const g = dy.data[n * O + o]!;
    db.data[o] += g;
    for (let i = 0; i < I; i++) {
      dx.data[n * I + i] += g * w.data[i * O + o]!;
      dw.data[i * O + o] += g * x.data[n * I + i]!;
    }
  }
  return { dx, dw, db };
}

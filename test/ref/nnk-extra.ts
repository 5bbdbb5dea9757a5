// Float64 references for the training kernels (batch norm, pooling, per-channel sums, softmax
// cross-entropy, clipping, Adam), written plainly, loop by loop, from the formulas in the kernel
// headers. Layout NHWC / [R, C] row-major like the kernels.

/** Per-channel batch statistics and the normalised output of training-mode batch norm. */
export function batchNormTrainRef(
  x: ArrayLike<number>, R: number, C: number, gamma: ArrayLike<number>, beta: ArrayLike<number>, eps: number, relu: boolean,
): { y: Float64Array; mean: Float64Array; variance: Float64Array; invstd: Float64Array } {
  const mean = new Float64Array(C);
  const variance = new Float64Array(C);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) mean[c]! += x[r * C + c]! / R;
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) variance[c]! += (x[r * C + c]! - mean[c]!) ** 2 / R;
  const invstd = variance.map((v) => 1 / Math.sqrt(v + eps));
  const y = batchNormApplyRef(x, R, C, mean, invstd, gamma, beta, relu);
  return { y, mean, variance, invstd };
}

export function batchNormApplyRef(
  x: ArrayLike<number>, R: number, C: number, mean: ArrayLike<number>, invstd: ArrayLike<number>,
  gamma: ArrayLike<number>, beta: ArrayLike<number>, relu: boolean,
): Float64Array {
  const y = new Float64Array(R * C);
  for (let r = 0; r < R; r++) {
    for (let c = 0; c < C; c++) {
      const v = (x[r * C + c]! - mean[c]!) * invstd[c]! * gamma[c]! + beta[c]!;
      y[r * C + c] = relu ? Math.max(0, v) : v;
    }
  }
  return y;
}

/** Backward of training-mode batch norm by the chain rule through mean and variance, term by term. */
export function batchNormBackwardRef(
  dy: ArrayLike<number>, x: ArrayLike<number>, R: number, C: number, gamma: ArrayLike<number>, eps: number,
  reluOutput?: ArrayLike<number>,
): { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array } {
  const { mean, variance } = batchNormTrainRef(x, R, C, gamma, gamma, eps, false);
  const g = Float64Array.from({ length: R * C }, (_, i) => (reluOutput && reluOutput[i]! <= 0 ? 0 : dy[i]!));
  const dgamma = new Float64Array(C);
  const dbeta = new Float64Array(C);
  const dvar = new Float64Array(C);
  const dmean = new Float64Array(C);
  for (let r = 0; r < R; r++) {
    for (let c = 0; c < C; c++) {
      const i = r * C + c;
      const sd = Math.sqrt(variance[c]! + eps);
      const xc = x[i]! - mean[c]!;
      dbeta[c]! += g[i]!;
      dgamma[c]! += (g[i]! * xc) / sd;
      dvar[c]! += g[i]! * gamma[c]! * xc * -0.5 * sd ** -3;
      dmean[c]! += (-g[i]! * gamma[c]!) / sd;
    }
  }
  const dx = new Float64Array(R * C);
  for (let r = 0; r < R; r++) {
    for (let c = 0; c < C; c++) {
      const i = r * C + c;
      const sd = Math.sqrt(variance[c]! + eps);
      dx[i] = (g[i]! * gamma[c]!) / sd + (dvar[c]! * 2 * (x[i]! - mean[c]!)) / R + dmean[c]! / R;
    }
  }
  return { dx, dgamma, dbeta };
}

/** 2x2 stride-2 max pooling (floor), with the flat input index of each maximum (first on ties). */
export function maxPoolRef(x: ArrayLike<number>, N: number, H: number, W: number, C: number): { y: Float64Array; argmax: number[] } {
  const Ho = Math.floor(H / 2);
  const Wo = Math.floor(W / 2);
  const y = new Float64Array(N * Ho * Wo * C);
  const argmax: number[] = [];
  for (let n = 0; n < N; n++) {
    for (let ho = 0; ho < Ho; ho++) {
      for (let wo = 0; wo < Wo; wo++) {
        for (let c = 0; c < C; c++) {
          let best = -Infinity;
          let bi = -1;
          for (const [dh, dw] of [[0, 0], [0, 1], [1, 0], [1, 1]] as const) {
            const i = ((n * H + 2 * ho + dh) * W + 2 * wo + dw) * C + c;
            if (x[i]! > best) {
              best = x[i]!;
              bi = i;
            }
          }
          y[argmax.length] = best;
          argmax.push(bi);
        }
      }
    }
  }
  return { y, argmax };
}

export function maxPoolBackwardRef(dy: ArrayLike<number>, argmax: readonly number[], xSize: number): Float64Array {
  const dx = new Float64Array(xSize);
  argmax.forEach((i, o) => (dx[i] = dx[i]! + dy[o]!));
  return dx;
}

export function globalAvgPoolRef(x: ArrayLike<number>, N: number, HW: number, C: number): Float64Array {
  const y = new Float64Array(N * C);
  for (let n = 0; n < N; n++) for (let p = 0; p < HW; p++) for (let c = 0; c < C; c++) y[n * C + c]! += x[(n * HW + p) * C + c]! / HW;
  return y;
}

export function sumToLastAxisRef(x: ArrayLike<number>, R: number, C: number): Float64Array {
  const s = new Float64Array(C);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) s[c]! += x[r * C + c]!;
  return s;
}

/** Keras categorical cross-entropy from logits with label smoothing s, per example, and its gradient. */
export function softmaxCrossEntropyRef(
  z: ArrayLike<number>, labels: ArrayLike<number>, N: number, K: number, smoothing: number,
): { loss: Float64Array; mean: number; dz: Float64Array; correct: number[] } {
  const loss = new Float64Array(N);
  const dz = new Float64Array(N * K);
  const correct: number[] = [];
  for (let n = 0; n < N; n++) {
    const row = Array.from({ length: K }, (_, k) => z[n * K + k]!);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
    let arg = 0;
    row.forEach((v, k) => {
      const t = (k === labels[n] ? 1 - smoothing : 0) + smoothing / K;
      loss[n]! -= t * (v - lse);
      dz[n * K + k] = (Math.exp(v - lse) - t) / N;
      if (v > row[arg]!) arg = k;
    });
    correct.push(arg === labels[n] ? 1 : 0);
  }
  return { loss, mean: loss.reduce((a, v) => a + v, 0) / N, dz, correct };
}

export interface AdamRefOptions {
  lr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  clipnorm?: number;
  globalClipnorm?: number;
}

/** Keras' gradient clipping: each tensor (clipnorm) or all together (global) times c / max(norm, c). */
export function clipRef(grads: Float64Array[], o: { clipnorm?: number; globalClipnorm?: number }): Float64Array[] {
  const sq = grads.map((g) => g.reduce((a, v) => a + v * v, 0));
  if (o.clipnorm !== undefined) return grads.map((g, i) => g.map((v) => (v * o.clipnorm!) / Math.max(Math.sqrt(sq[i]!), o.clipnorm!)));
  if (o.globalClipnorm !== undefined) {
    const norm = Math.sqrt(sq.reduce((a, v) => a + v, 0));
    return grads.map((g) => g.map((v) => (v * o.globalClipnorm!) / Math.max(norm, o.globalClipnorm!)));
  }
  return grads.map((g) => Float64Array.from(g));
}

/** One Keras Adam step (t counts from 1) on float64 copies, updating w, m, v in place. */
export function adamStepRef(w: Float64Array[], g: Float64Array[], m: Float64Array[], v: Float64Array[], t: number, o: AdamRefOptions): void {
  const clipped = clipRef(g, o);
  const alpha = (o.lr * Math.sqrt(1 - o.beta2 ** t)) / (1 - o.beta1 ** t);
  w.forEach((wi, j) => {
    for (let i = 0; i < wi.length; i++) {
      const gi = clipped[j]![i]!;
      m[j]![i] = o.beta1 * m[j]![i]! + (1 - o.beta1) * gi;
      v[j]![i] = o.beta2 * v[j]![i]! + (1 - o.beta2) * gi * gi;
      wi[i] = wi[i]! - (alpha * m[j]![i]!) / (Math.sqrt(v[j]![i]!) + o.epsilon);
    }
  });
}


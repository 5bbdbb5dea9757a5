// Float64 references for the basic kernels: elementwise ops, reductions, matmul, transpose.

export function matmulRef(
  a: ArrayLike<number>, b: ArrayLike<number>, M: number, N: number, K: number,
  transA = false, transB = false, bias?: ArrayLike<number>, relu = false,
): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = bias ? bias[j]! : 0;
      for (let k = 0; k < K; k++) {
        const av = transA ? a[k * M + i]! : a[i * K + k]!;
        const bv = transB ? b[j * K + k]! : b[k * N + j]!;
        s += av * bv;
      }
      c[i * N + j] = relu ? Math.max(0, s) : s;
    }
  }
  return c;
}

export function transposeRef(x: ArrayLike<number>, batch: number, R: number, C: number): Float64Array {
  const y = new Float64Array(batch * R * C);
  for (let b = 0; b < batch; b++) {
    for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) y[b * R * C + c * R + r] = x[b * R * C + r * C + c]!;
  }
  return y;
}

export function rowMaxArgmaxRef(x: ArrayLike<number>, rows: number, cols: number): { max: number[]; argmax: number[] } {
  const max: number[] = [];
  const argmax: number[] = [];
  for (let r = 0; r < rows; r++) {
    let best = -Infinity;
    let bi = 0;
    for (let c = 0; c < cols; c++) {
      const v = x[r * cols + c]!;
      if (v > best) {
        best = v;
        bi = c;
      }
    }
    max.push(best);
    argmax.push(bi);
  }
  return { max, argmax };
}

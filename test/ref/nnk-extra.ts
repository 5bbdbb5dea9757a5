// Float64 references the training kernels need beyond nn-ref's (test/ref/*.ts): the per-channel sum
// and the per-example part of the fused softmax cross-entropy. Layout [R, C] / [N, K], row-major.

export function sumToLastAxisRef(x: ArrayLike<number>, R: number, C: number): Float64Array {
  const s = new Float64Array(C);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) s[c]! += x[r * C + c]!;
  return s;
}

/** Per-example softmax cross-entropy (label smoothing s) and hits (first argmax == label): what the
 *  fused kernel adds to test/ref/loss.ts, which gives the batch mean and the gradient. */
export function crossEntropyPerExampleRef(
  z: ArrayLike<number>, labels: ArrayLike<number>, N: number, K: number, smoothing: number, classWeights?: ArrayLike<number>,
): { loss: Float64Array; correct: number[] } {
  const loss = new Float64Array(N);
  const correct: number[] = [];
  for (let n = 0; n < N; n++) {
    const row = Array.from({ length: K }, (_, k) => z[n * K + k]!);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
    let arg = 0;
    row.forEach((v, k) => {
      loss[n]! -= (classWeights ? classWeights[labels[n]!]! : 1) * ((k === labels[n] ? 1 - smoothing : 0) + smoothing / K) * (v - lse);
      if (v > row[arg]!) arg = k;
    });
    correct.push(arg === labels[n] ? 1 : 0);
  }
  return { loss, correct };
}

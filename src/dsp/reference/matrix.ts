// Row-major dense matrix used by the float64 reference features. Orientation follows librosa:
// one row per bin or feature, one column per frame (so |X| is [1 + nFft/2][frames]).

export interface Matrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

export function zeros(rows: number, cols: number): Matrix {
  return { rows, cols, data: new Float64Array(rows * cols) };
}

export function row(m: Matrix, r: number): Float64Array {
  return m.data.subarray(r * m.cols, (r + 1) * m.cols);
}

/** (rows x inner, stored as Float32Array or Float64Array) times an inner x cols Matrix. */
export function matmul(a: ArrayLike<number>, aRows: number, b: Matrix): Matrix {
  const inner = b.rows;
  const out = zeros(aRows, b.cols);
  for (let i = 0; i < aRows; i++) {
    const o = row(out, i);
    for (let k = 0; k < inner; k++) {
      const w = a[i * inner + k];
      if (w === 0) continue;
      const br = row(b, k);
      for (let j = 0; j < b.cols; j++) o[j] += w * br[j];
    }
  }
  return out;
}

/** Element-wise map into a new matrix. */
export function map(m: Matrix, f: (x: number) => number): Matrix {
  const out = zeros(m.rows, m.cols);
  for (let i = 0; i < m.data.length; i++) out.data[i] = f(m.data[i]);
  return out;
}

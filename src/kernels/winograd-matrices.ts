// The fixed parts of Winograd F(m x m, 3x3) (winograd.ts): the transform matrices Bᵀ, G, Aᵀ for m = 2
// and 4, the WGSL generator that unrolls a transform L X Lᵀ from them (zero coefficients skipped, exact
// float literals), the workgroup size of the transform passes and the geometry of one pass. Imported by
// the forward/input-gradient passes, the inverse transform and the filter gradient alike; no GPU work.

export const WG = 64;

export type WinogradTile = 2 | 4;
/** The output tile used by 'auto' (measured faster than 2 on lavapipe: bench/RESULTS.md). */
export const DEFAULT_TILE: WinogradTile = 4;

export type Mat = number[][];
interface Matrices { BT: Mat; G: Mat; AT: Mat }
export const MATRICES: Record<WinogradTile, Matrices> = {
  2: {
    BT: [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
    G: [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]],
    AT: [[1, 1, 1, 0], [0, 1, -1, -1]],
  },
  // Lavin & Gray (2016), interpolation points 0, ±1, ±2, ∞.
  4: {
    BT: [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0], [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]],
    G: [[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6], [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]],
    AT: [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]],
  },
};
export const transposed = (m: Mat): Mat => m[0]!.map((_, j) => m.map((row) => row[j]!));

/** WGSL expression Σ_k row[k] · terms[k], skipping zeros (exact float literals; `zero` when all vanish). */
function combine(row: number[], terms: string[], zero: string): string {
  const parts: string[] = [];
  row.forEach((c, k) => {
    if (c === 0) return;
    const lit = Number.isInteger(c) ? `${c}.0` : `${c}`;
    if (c === 1) parts.push(`+ ${terms[k]}`);
    else if (c === -1) parts.push(`- ${terms[k]}`);
    else parts.push(`+ ${lit} * ${terms[k]}`);
  });
  if (parts.length === 0) return zero;
  const s = parts.join(' ');
  return s.startsWith('+ ') ? s.slice(2) : `-${s.slice(2)}`;
}

/**
 * WGSL lines computing out_i_j = (L X Lᵀ)[i][j] for an input named by `x(k, l)` (r x r) and L (q x r),
 * through temporaries `${tmp}_i_l`.
 */
export function sandwich(L: Mat, x: (k: number, l: number) => string, out: string, tmp: string, zero: string): string {
  const q = L.length;
  const r = L[0]!.length;
  const lines: string[] = [];
  for (let i = 0; i < q; i++) {
    for (let l = 0; l < r; l++) lines.push(`  let ${tmp}_${i}_${l} = ${combine(L[i]!, [...Array(r).keys()].map((k) => x(k, l)), zero)};`);
  }
  for (let i = 0; i < q; i++) {
    for (let j = 0; j < q; j++) lines.push(`  let ${out}_${i}_${j} = ${combine(L[j]!, [...Array(r).keys()].map((l) => `${tmp}_${i}_${l}`), zero)};`);
  }
  return lines.join('\n');
}

/**
 * WGSL lines computing out_k_j = (X Lᵀ)[k][j] = Σ_l L[j][l] x(k, l) for k < rows: L (q x r) applied along
 * each of the `rows` rows of X (the first half of L X Lᵀ, done the other way round).
 */
export function rowTransform(L: Mat, rows: number, x: (k: number, l: number) => string, out: string, zero: string): string {
  const r = L[0]!.length;
  const lines: string[] = [];
  for (let k = 0; k < rows; k++) {
    for (let j = 0; j < L.length; j++) lines.push(`  let ${out}_${k}_${j} = ${combine(L[j]!, [...Array(r).keys()].map((l) => x(k, l)), zero)};`);
  }
  return lines.join('\n');
}

/** WGSL `array<array<f32, r>, q>` literal of L (q x r), for indexing a row at run time. */
export const matrixLiteral = (L: Mat): string =>
  `array<array<f32, ${L[0]!.length}>, ${L.length}>(${L.map((row) => `array<f32, ${row.length}>(${row.map((c) => (Number.isInteger(c) ? `${c}.0` : `${c}`)).join(', ')})`).join(', ')})`;

/** Source / destination geometry of one Winograd pass. */
export interface Pass {
  N: number;
  DH: number; DW: number; D: number;
  top: number; left: number;
}

// Runs in headless Chromium (bundled by kernels.test.ts): a representative slice of the kernel tests
// (matmul in every transpose combination, conv2d forward with 'same'/'valid' and strides, the stem
// conv's tiled variants (stem-tiled.ts, forced through the choice table), fused
// softmax cross-entropy, the real FFT) on the browser's WebGPU adapter, each against the float64
// references of test/ref and src/dsp/reference computed here in the page. Shapes include odd ones
// (not multiples of any tile or of 4). Leaves { adapter, results: [{ name, relL2 }] } or { error }
// in window.__kernels; the test asserts the tolerances.

import { createRng } from '../../src/common/random';
import { fft } from '../../src/dsp/reference/fft';
import { createBrowserGpu } from '../../src/gpu/browser';
import { withVariant } from '../../src/gpu/choices';
import { conv2d, conv2dGeometry } from '../../src/kernels/conv2d';
import { STEM_FORWARD_FAMILY, STEM_FORWARD_VARIANTS, stemShapeKey } from '../../src/kernels/stem-tiled';
import { rfft, twiddleTable } from '../../src/kernels/fft';
import { softmaxCrossEntropy } from '../../src/kernels/loss';
import { matmul } from '../../src/kernels/matmul';
import { conv2dForward } from '../ref/conv';
import { matmulRef } from '../ref/linalg';
import { softmaxCrossEntropy as crossEntropyRef } from '../ref/loss';
import { crossEntropyPerExampleRef } from '../ref/nnk-extra';
import { tensor } from '../ref/tensor';

interface Result {
  name: string;
  relL2: number;
}

function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    if (!Number.isFinite(a[i]!)) return Infinity;
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

function randn(n: number, seed: number): Float32Array {
  const r = createRng(seed);
  return Float32Array.from({ length: n }, () => r.normal());
}

async function run(): Promise<{ adapter: unknown; results: Result[] }> {
  const g = await createBrowserGpu({ poison: true });
  const results: Result[] = [];
  const push = (name: string, actual: ArrayLike<number>, expected: ArrayLike<number>) => results.push({ name, relL2: relL2(actual, expected) });

  for (const [M, N, K] of [[3, 5, 7], [33, 65, 17], [64, 8, 36], [128, 96, 64]] as const) {
    for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const a = randn(M * K, M + N + K);
      const b = randn(K * N, M * N * K);
      const c = matmul(g, g.upload(a, transA ? [K, M] : [M, K]), g.upload(b, transB ? [N, K] : [K, N]), { transA, transB });
      push(`matmul ${M}x${K}${transA ? 'ᵀ' : ''} · ${K}x${N}${transB ? 'ᵀ' : ''}`, await c.read(), matmulRef(a, b, M, N, K, transA, transB));
    }
  }

  const convCases: { x: [number, number, number, number]; k: number; cout: number; stride: [number, number]; padding: 'same' | 'valid' }[] = [
    { x: [2, 9, 7, 1], k: 3, cout: 8, stride: [1, 1], padding: 'same' },
    { x: [2, 11, 6, 8], k: 3, cout: 12, stride: [2, 2], padding: 'same' },
    { x: [1, 9, 10, 6], k: 3, cout: 7, stride: [2, 1], padding: 'valid' },
    { x: [1, 10, 9, 8], k: 1, cout: 16, stride: [1, 1], padding: 'same' },
    { x: [2, 82, 64, 1], k: 3, cout: 4, stride: [1, 1], padding: 'same' },
  ];
  for (const [i, c] of convCases.entries()) {
    const wShape = [c.k, c.k, c.x[3], c.cout];
    const x = randn(c.x.reduce((p, q) => p * q, 1), 100 + i);
    const w = randn(wShape.reduce((p, q) => p * q, 1), 200 + i);
    const y = conv2d(g, g.upload(x, c.x), g.upload(w, wShape), { stride: c.stride, padding: c.padding });
    const ref = conv2dForward(tensor(c.x, x), tensor(wShape, w), null, { stride: c.stride, padding: c.padding });
    push(`conv2d x[${c.x}] k${c.k} ->${c.cout} s${c.stride} ${c.padding}`, await y.read(), ref.data);
  }
  // The stem's tiled variants (the tuner's stem.forward family), forced: ragged tiles and channel block.
  for (const variant of STEM_FORWARD_VARIANTS.slice(1)) {
    const [xs, ws] = [[2, 19, 37, 1], [3, 3, 1, 12]];
    const [x, w, b] = [randn(2 * 19 * 37, 300), randn(108, 301), randn(12, 302)];
    const shape = stemShapeKey(conv2dGeometry('t', xs, ws, { padding: 'same' }));
    const y = withVariant(g, STEM_FORWARD_FAMILY, shape, variant, () => conv2d(g, g.upload(x, xs), g.upload(w, ws), { padding: 'same', bias: g.upload(b, [12]) }));
    push(`stem conv ${variant} x[${xs}] ->12 same +bias`, await y.read(), conv2dForward(tensor(xs, x), tensor(ws, w), tensor([12], b), { padding: 'same' }).data);
  }

  for (const [N, K, s] of [[7, 8, 0.1], [33, 13, 0.2], [300, 8, 0]] as const) {
    const z = randn(N * K, N * 31 + K);
    const labels = Array.from({ length: N }, (_, n) => (n * 7 + 3) % K);
    const out = softmaxCrossEntropy(g, g.upload(z, [N, K]), g.upload(labels, [N], 'u32'), { labelSmoothing: s });
    const [loss, dz] = await g.readMany([out.loss, out.dlogits]);
    push(`softmax-CE loss N=${N} K=${K} smoothing ${s}`, loss!, crossEntropyPerExampleRef(z, labels, N, K, s).loss);
    push(`softmax-CE dlogits N=${N} K=${K} smoothing ${s}`, dz!, crossEntropyRef(tensor([N, K], z), labels, { labelSmoothing: s }).dlogits.data);
  }

  for (const [n, rows] of [[16, 3], [256, 5], [2048, 37], [4096, 2]] as const) {
    const x = randn(rows * n, n + rows);
    const out = await rfft(g, g.upload(x, [rows, n]), g.upload(twiddleTable(n), [2 * n])).read();
    const bins = n / 2 + 1;
    const ref = new Float64Array(rows * bins * 2);
    for (let r = 0; r < rows; r++) {
      const re = Float64Array.from(x.subarray(r * n, (r + 1) * n));
      const im = new Float64Array(n);
      fft(re, im);
      for (let k = 0; k < bins; k++) [ref[(r * bins + k) * 2], ref[(r * bins + k) * 2 + 1]] = [re[k]!, im[k]!];
    }
    push(`rfft N=${n} rows=${rows}`, out, ref);
  }
  const adapter = g.adapter;
  g.destroy();
  return { adapter, results };
}

const w = window as unknown as { __kernels: unknown };
run().then(
  (r) => void (w.__kernels = r),
  (e: Error) => void (w.__kernels = { error: `${e.name}: ${e.message}` }),
);

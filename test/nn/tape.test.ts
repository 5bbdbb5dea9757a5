// The tape: gradients of a small graph with a reused value (a residual branch) against central finite
// differences of a float64 evaluation of the same function; no-grad mode; release frees everything.

import { describe, expect, it } from 'vitest';
import { mul } from '../../src/kernels/elementwise';
import { sum } from '../../src/kernels/reduce';
import { add, dense, relu } from '../../src/nn/ops';
import { Tape, Var, Parameter } from '../../src/nn/tape';
import { expectClose, randn, rng, useGpu } from '../harness';

const gpu = useGpu();

// f(x, W1, b1, W2, b2) = sum(r * relu(h + (h W2 + b2))), h = relu(x W1 + b1)
function f64(p: Record<string, Float64Array>, r: Float64Array, N: number, I: number, H: number): number {
  const h = new Float64Array(N * H);
  for (let n = 0; n < N; n++) for (let j = 0; j < H; j++) {
    let s = p.b1![j]!;
    for (let i = 0; i < I; i++) s += p.x![n * I + i]! * p.W1![i * H + j]!;
    h[n * H + j] = Math.max(0, s);
  }
  let loss = 0;
  for (let n = 0; n < N; n++) for (let j = 0; j < H; j++) {
    let s = p.b2![j]!;
    for (let k = 0; k < H; k++) s += h[n * H + k]! * p.W2![k * H + j]!;
    loss += r[n * H + j]! * Math.max(0, h[n * H + j]! + s);
  }
  return loss;
}

describe('tape', () => {
  it('back-propagates through dense, ReLU and a residual add, matching finite differences', async () => {
    const [N, I, H] = [5, 7, 6];
    const rand = rng(3);
    const p: Record<string, Float64Array> = {
      x: randn(N * I, rand), W1: randn(I * H, rand), b1: randn(H, rand), W2: randn(H * H, rand).map((v) => v * 0.5), b2: randn(H, rand),
    };
    const r = randn(N * H, rand);
    const g = gpu();
    const tape = new Tape(g);
    const up = (k: string, shape: number[]) => new Parameter(g.upload(Float32Array.from(p[k]!), shape), k);
    const vars = { x: up('x', [N, I]), W1: up('W1', [I, H]), b1: up('b1', [H]), W2: up('W2', [H, H]), b2: up('b2', [H]) };
    const h = dense(tape, vars.x, vars.W1, vars.b1, 'relu');
    const z = relu(tape, add(tape, h, dense(tape, h, vars.W2, vars.b2)));
    const rT = g.upload(Float32Array.from(r), [N, H]);
    const lossT = sum(g, mul(g, z.value, rT));
    const loss = tape.record([z], lossT, () => {
      const c = g.empty(rT.shape);
      g.copy(rT, c);
      return [c];
    });
    tape.backward(loss);
    expect((await loss.value.read())[0]).toBeCloseTo(f64(p, r, N, I, H), 3);
    for (const [k, v] of Object.entries(vars) as [string, Var][]) {
      const num = new Float64Array(p[k]!.length);
      for (let i = 0; i < num.length; i++) {
        const e = 1e-5;
        const save = p[k]![i]!;
        p[k]![i] = save + e;
        const fp = f64(p, r, N, I, H);
        p[k]![i] = save - e;
        const fm = f64(p, r, N, I, H);
        p[k]![i] = save;
        num[i] = (fp - fm) / (2 * e);
      }
      expectClose(await v.grad!.read(), num, 1e-4, `d loss / d ${k}`);
    }
    tape.release();
    expect(h.value.disposed && z.value.disposed).toBe(true);
    expect(vars.W1.value.disposed).toBe(false);
  });

  it('records nothing in no-grad mode and frees intermediates on release', async () => {
    const g = gpu();
    const tape = new Tape(g);
    const w = new Parameter(g.upload([1, 2, 3, 4], [2, 2]), 'w');
    const b = new Parameter(g.upload([0, 0], [2]), 'b');
    const x = tape.input(g.upload([1, 1], [1, 2]));
    await g.sync();
    const before = g.poolStats().inUseBytes;
    const y = tape.noGrad(() => relu(tape, dense(tape, x, w, b)));
    expect(tape.size).toBe(0);
    expect(Array.from(await y.value.read())).toEqual([4, 6]);
    tape.release();
    expect(g.poolStats().inUseBytes).toBe(before);
  });
});

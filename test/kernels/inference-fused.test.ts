// The fused inference kernels against float64 references (test/ref): the stem conv + ReLU + max pool
// (src/kernels/stem-conv.ts), the 1x1 conv as a GEMM (conv1x1.ts) and the Winograd inverse transform's
// epilogue with a residual, ReLU and 2x2 max pool (winograd-inverse.ts, through winogradConv), on
// NaN-poisoned outputs and fresh random inputs with odd heights and widths (dropped pool rows/columns,
// partial edge tiles). Then the model: inference with the fused kernels against the layer-by-layer
// inference (folded BN) and the unfolded inference-mode forward, for the seed architecture and for
// shapes that fall back (channel counts not multiples of 4, odd input sizes). Tolerance: relative L2 1e-5.

import { afterAll, describe, expect, it } from 'vitest';
import { conv1x1, conv1x1Fits } from '../../src/kernels/conv1x1';
import { conv2dGeometry, type Conv2dPadding } from '../../src/kernels/conv2d';
import { stemConvFits, stemConvPool } from '../../src/kernels/stem-conv';
import { forwardPass, winogradConv, winogradFilter, type WinogradTile } from '../../src/kernels/winograd';
import { ShapeError } from '../../src/gpu';
import { SerModel, modelConfig, type ModelConfig } from '../../src/nn/model';
import { Tape } from '../../src/nn/tape';
import { predictLogits } from '../../src/nn/train-step';
import { TOL_F32, expectClose, randint, randn, relL2, rng, useGpu } from '../harness';
import { conv2dForward } from '../ref/conv';
import { maxPool2x2Forward, reluForward } from '../ref/layers';
import { type Tensor as RefTensor, tensor } from '../ref/tensor';

const gpu = useGpu();
const errors: number[] = [];
afterAll(() => console.log(`inference-fused: largest relative L2 error ${Math.max(...errors).toExponential(2)}`));

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const f32 = (n: number, r: () => number) => Float32Array.from(randn(n, r));
const add = (a: RefTensor, b: RefTensor): RefTensor => ({ data: a.data.map((v, i) => v + b.data[i]!), shape: [...a.shape] });

function check(actual: Float32Array, expected: Float64Array, what: string) {
  expectClose(actual, expected, TOL_F32, what);
  errors.push(relL2(actual, expected));
}

describe('stemConvPool (3x3 conv on one channel + bias + ReLU + 2x2 max pool)', () => {
  const cases: { x: [number, number, number, number]; cout: number; padding: Conv2dPadding }[] = [
    { x: [2, 82, 64, 1], cout: 32, padding: 'same' }, // the model's stem
    { x: [3, 7, 9, 1], cout: 8, padding: 'same' },
    { x: [1, 5, 4, 1], cout: 4, padding: 'valid' },
    { x: [2, 6, 7, 1], cout: 12, padding: { top: 2, bottom: 0, left: 0, right: 1 } },
  ];
  const r = rng(71);
  cases.push({ x: [randint(1, 3, r), randint(2, 15, r), randint(2, 15, r), 1], cout: 4 * randint(1, 9, r), padding: 'same' });
  cases.forEach((c, i) => {
    it(`x[${c.x.join(',')}] ->${c.cout} ${JSON.stringify(c.padding)}`, async () => {
      const g = gpu();
      const rr = rng(700 + i);
      const wShape = [3, 3, 1, c.cout];
      const x = f32(size(c.x), rr);
      const w = f32(size(wShape), rr);
      const b = f32(c.cout, rr);
      const geo = conv2dGeometry('test', c.x, wShape, { padding: c.padding });
      expect(stemConvFits(geo)).toBe(true);
      const y = stemConvPool(g, geo, g.upload(x, c.x), g.upload(w, wShape), g.upload(b, [c.cout]));
      const conv = conv2dForward(tensor(c.x, x), tensor(wShape, w), tensor([c.cout], b), { padding: c.padding });
      const ref = maxPool2x2Forward(reluForward(conv)).y;
      expect(y.shape).toEqual(ref.shape);
      check((await g.read(y)) as Float32Array, ref.data, 'y');
    });
  });

  it('fits only one input channel, 3x3 stride 1, Cout % 4 == 0', () => {
    const fits = (x: number[], w: number[], stride: [number, number] = [1, 1]) => stemConvFits(conv2dGeometry('t', x, w, { padding: 'same', stride }));
    expect(fits([1, 8, 8, 1], [3, 3, 1, 8])).toBe(true);
    expect(fits([1, 8, 8, 2], [3, 3, 2, 8])).toBe(false);
    expect(fits([1, 8, 8, 1], [3, 3, 1, 6])).toBe(false);
    expect(fits([1, 8, 8, 1], [1, 1, 1, 8])).toBe(false);
    expect(fits([1, 8, 8, 1], [3, 3, 1, 8], [2, 2])).toBe(false);
    expect(fits([1, 1, 8, 1], [3, 3, 1, 8])).toBe(false);
  });
});

describe('conv1x1 (1x1 conv as a GEMM, + bias)', () => {
  const cases: [number[], number][] = [[[2, 41, 32, 32], 64], [[1, 20, 16, 64], 128], [[3, 5, 7, 4], 8], [[1, 3, 3, 12], 4]];
  const r = rng(81);
  cases.push([[randint(1, 3, r), randint(1, 13, r), randint(1, 13, r), 4 * randint(1, 8, r)], 4 * randint(1, 8, r)]);
  cases.forEach(([xShape, cout], i) => {
    it(`x[${xShape.join(',')}] ->${cout}`, async () => {
      const g = gpu();
      const rr = rng(800 + i);
      const wShape = [1, 1, xShape[3]!, cout];
      const x = f32(size(xShape), rr);
      const w = f32(size(wShape), rr);
      const b = f32(cout, rr);
      expect(conv1x1Fits(xShape, cout, g.limits.maxStorageBufferBindingSize)).toBe(true);
      const y = conv1x1(g, g.upload(x, xShape), g.upload(w, wShape), g.upload(b, [cout]));
      const ref = conv2dForward(tensor(xShape, x), tensor(wShape, w), tensor([cout], b), { padding: 'valid' });
      expect(y.shape).toEqual(ref.shape);
      check((await g.read(y)) as Float32Array, ref.data, 'y');
    });
  });

  it('refuses what does not fit', () => {
    const g = gpu();
    expect(conv1x1Fits([1, 4, 4, 6], 8, 1 << 30)).toBe(false);
    expect(conv1x1Fits([1, 4, 4, 8], 6, 1 << 30)).toBe(false);
    expect(conv1x1Fits([1, 4, 4, 8], 2048, 1 << 30)).toBe(false);
    expect(conv1x1Fits([1024, 32, 32, 8], 8, 1 << 30)).toBe(false);
    expect(() => conv1x1(g, g.zeros([1, 4, 4, 8]), g.zeros([3, 3, 8, 8]))).toThrow(ShapeError);
    expect(() => conv1x1(g, g.zeros([1, 4, 4, 6]), g.zeros([1, 1, 6, 8]))).toThrow(ShapeError);
  });
});

describe.each([4, 2] as const)('Winograd F(%i, 3) inverse epilogue: + residual, ReLU, 2x2 max pool', (tile: WinogradTile) => {
  const cases: { x: [number, number, number, number]; cout: number; residual: boolean; pool: boolean }[] = [
    { x: [2, 41, 32, 8], cout: 8, residual: true, pool: true }, // the block-64 shape (channels cut)
    { x: [2, 11, 9, 8], cout: 12, residual: true, pool: true },
    { x: [1, 5, 6, 4], cout: 4, residual: true, pool: true },
    { x: [3, 3, 2, 4], cout: 8, residual: true, pool: true },
    { x: [1, 7, 5, 4], cout: 8, residual: true, pool: false },
    { x: [2, 9, 10, 12], cout: 4, residual: false, pool: true },
  ];
  const r = rng(91 + tile);
  cases.push({ x: [randint(1, 3, r), randint(2, 14, r), randint(2, 14, r), 4 * randint(1, 5, r)], cout: 4 * randint(1, 5, r), residual: true, pool: true });
  cases.forEach((c, i) => {
    it(`x[${c.x.join(',')}] ->${c.cout}${c.residual ? ' +residual' : ''} relu${c.pool ? ' pool' : ''}`, async () => {
      const g = gpu();
      const rr = rng(900 + i + 50 * tile);
      const wShape = [3, 3, c.x[3], c.cout];
      const yShape = [c.x[0], c.x[1], c.x[2], c.cout];
      const x = f32(size(c.x), rr);
      const w = f32(size(wShape), rr);
      const b = f32(c.cout, rr);
      const res = f32(size(yShape), rr);
      const geo = conv2dGeometry('test', c.x, wShape, { padding: 'same' });
      const y = g.scope(() => winogradConv(g, forwardPass(geo), g.upload(x, c.x), winogradFilter(g, g.upload(w, wShape), false, tile), {
        bias: g.upload(b, [c.cout]), residual: c.residual ? g.upload(res, yShape) : undefined, relu: true, pool: c.pool,
      }, 'test', tile));
      let ref = conv2dForward(tensor(c.x, x), tensor(wShape, w), tensor([c.cout], b), { padding: 'same' });
      if (c.residual) ref = add(ref, tensor(yShape, res));
      ref = reluForward(ref);
      if (c.pool) ref = maxPool2x2Forward(ref).y;
      expect(y.shape).toEqual(ref.shape);
      check((await g.read(y)) as Float32Array, ref.data, 'y');
    });
  });

  it('refuses a residual smaller than the output and a pool of a 1-row output', () => {
    const g = gpu();
    const geo = conv2dGeometry('test', [1, 4, 4, 4], [3, 3, 4, 4], { padding: 'same' });
    const u = winogradFilter(g, g.zeros([3, 3, 4, 4]), false, tile);
    expect(() => winogradConv(g, forwardPass(geo), g.zeros([1, 4, 4, 4]), u, { relu: true, residual: g.zeros([1, 3, 4, 4]) }, 't', tile)).toThrow(/residual/);
    const thin = conv2dGeometry('test', [1, 1, 4, 4], [3, 3, 4, 4], { padding: 'same' });
    expect(() => winogradConv(g, forwardPass(thin), g.zeros([1, 1, 4, 4]), u, { relu: true, pool: true }, 't', tile)).toThrow(/at least 2x2/);
  });
});

describe('model inference with the fused kernels', () => {
  // Moving statistics and BN affine parameters away from their initial values, so folding and every
  // fused bias matter; then fused inference vs layer-by-layer inference vs the unfolded forward.
  const cases: [string, Partial<ModelConfig>][] = [
    ['seed architecture', {}],
    ['odd input 21x14 (odd sizes at every stage)', { inputRows: 21, inputFrames: 14 }],
    ['channel counts not multiples of 4 (fallbacks)', { inputRows: 18, inputFrames: 12, stem: { filters: 6, dropout: 0.2 }, blocks: [{ filters: 8, dropout: 0.3 }, { filters: 10, dropout: 0.3 }] }],
  ];
  cases.forEach(([what, partial], ci) => {
    it(`${what}: the logits of the layer-by-layer path`, async () => {
      const g = gpu();
      const config = modelConfig({ classes: 8, ...partial });
      const model = new SerModel(g, config, 5 + ci);
      const rr = rng(60 + ci);
      for (const [name, shape] of model.tensorShapes()) {
        const m = /\.bn\.(gamma|beta|moving_mean|moving_var)$/.exec(name);
        if (!m && !/\.b$/.test(name)) continue;
        const v = randn(shape[0]!, rr);
        const data = Float32Array.from(v, (z) => (m?.[1] === 'gamma' ? 1 + 0.3 * z : m?.[1] === 'moving_var' ? 0.2 + 2 * Math.abs(z) : m?.[1] === 'moving_mean' ? 2 * z + 1 : 0.5 * z));
        model.importTensors(new Map([[name, { shape: [...shape], data }]]));
      }
      const n = 3;
      const x = g.upload(f32(n * config.inputRows * config.inputFrames, rng(19 + ci)), [n, config.inputRows, config.inputFrames, 1]);
      const fused = predictLogits(model, x);
      model.fuseInference = false;
      const layered = predictLogits(model, x);
      const tape = new Tape(g);
      tape.training = false; // gradients on: conv, then batchNormInference, layer by layer
      const unfolded = model.forward(tape, tape.input(x));
      const [a, b, u] = await g.readMany([fused, layered, unfolded.value]);
      tape.release();
      expectClose(a!, b!, TOL_F32, 'fused vs layer-by-layer logits');
      expectClose(a!, u!, TOL_F32, 'fused vs unfolded logits');
      errors.push(relL2(a!, b!), relL2(a!, u!));
      model.dispose();
    });
  });
});

// Softmax cross-entropy with label smoothing against a hand-computed value and finite differences;
// clipnorm / global_clipnorm and Keras Adam on tiny cases computed by hand (values from an independent
// Python evaluation of the same formulas).

import { describe, expect, it } from 'vitest';
import { gradCheck } from './gradcheck';
import { softmaxCrossEntropy } from './loss';
import { adamInit, adamStep, clipByGlobalNorm, clipByNorm, globalNorm } from './optim';
import { mulberry32, randn, tensor } from './tensor';

describe('softmax cross-entropy reference', () => {
  it('matches a hand-computed value with label smoothing 0.1 (Keras targets onehot*(1-s) + s/K)', () => {
    // z = [1, 2, 3], label 2, K = 3: t = [1/30, 1/30, 28/30]; loss = logsumexp(z) - t.z
    const { loss, probs, dlogits } = softmaxCrossEntropy(tensor([1, 3], [1, 2, 3]), [2], { labelSmoothing: 0.1 });
    expect(loss).toBeCloseTo(0.5076059644443801, 14);
    const e = [Math.E, Math.E ** 2, Math.E ** 3];
    const z = e[0]! + e[1]! + e[2]!;
    expect(probs.data[2]).toBeCloseTo(e[2]! / z, 14);
    expect(dlogits.data[0]).toBeCloseTo(e[0]! / z - 1 / 30, 14);
  });

  it('without smoothing is -log p(label), averaged over the batch, and stays finite for huge logits', () => {
    const { loss } = softmaxCrossEntropy(tensor([2, 2], [0, 0, 1000, 0]), [1, 0]);
    expect(loss).toBeCloseTo((Math.log(2) + Math.log1p(Math.exp(-1000))) / 2, 14);
    expect(softmaxCrossEntropy(tensor([1, 2], [0, 1000]), [0]).loss).toBeCloseTo(1000, 10);
  });

  it('dlogits = (softmax - t) / N matches finite differences (N = 5, K = 7, s = 0.1)', () => {
    const rand = mulberry32(3);
    const logits = randn([5, 7], rand, 3);
    const labels = [0, 6, 3, 3, 1];
    const { dlogits } = softmaxCrossEntropy(logits, labels, { labelSmoothing: 0.1 });
    const report = gradCheck(([z]) => softmaxCrossEntropy({ data: z!, shape: [5, 7] }, labels, { labelSmoothing: 0.1 }).loss,
      [logits.data], [dlogits.data]);
    expect(report.failures).toEqual([]);
  });

  it('class weights scale each example by its label\'s weight; the gradient matches finite differences', () => {
    const rand = mulberry32(4);
    const logits = randn([6, 4], rand, 2);
    const labels = [0, 1, 2, 3, 3, 0];
    const classWeights = [2.5, 0.5, 1, 0.25];
    const o = { labelSmoothing: 0.1, classWeights };
    const { loss, dlogits } = softmaxCrossEntropy(logits, labels, o);
    const plain = [0, 1, 2, 3, 4, 5].map((n) => softmaxCrossEntropy({ data: logits.data.slice(n * 4, n * 4 + 4), shape: [1, 4] }, [labels[n]!], { labelSmoothing: 0.1 }).loss);
    expect(loss).toBeCloseTo(plain.reduce((a, l, n) => a + classWeights[labels[n]!]! * l, 0) / 6, 12);
    const report = gradCheck(([z]) => softmaxCrossEntropy({ data: z!, shape: [6, 4] }, labels, o).loss, [logits.data], [dlogits.data]);
    expect(report.failures).toEqual([]);
  });

  it('mixup targets give w * CE(label) + (1 - w) * CE(partner); the gradient matches finite differences', () => {
    const rand = mulberry32(5);
    const logits = randn([6, 5], rand, 2);
    const labels = [0, 1, 2, 3, 4, 0];
    const partners = [3, 1, 4, 0, 2, 2];
    const o = { labelSmoothing: 0.1, mix: { partners, weight: 0.7 } };
    const { loss, dlogits } = softmaxCrossEntropy(logits, labels, o);
    const own = softmaxCrossEntropy(logits, labels, { labelSmoothing: 0.1 }).loss;
    const other = softmaxCrossEntropy(logits, partners, { labelSmoothing: 0.1 }).loss;
    expect(loss).toBeCloseTo(0.7 * own + 0.3 * other, 12);
    const report = gradCheck(([z]) => softmaxCrossEntropy({ data: z!, shape: [6, 5] }, labels, o).loss, [logits.data], [dlogits.data]);
    expect(report.failures).toEqual([]);
    // A share of 1 is the plain loss whatever the partners.
    expect(softmaxCrossEntropy(logits, labels, { labelSmoothing: 0.1, mix: { partners, weight: 1 } }).loss).toBeCloseTo(own, 14);
    expect(() => softmaxCrossEntropy(logits, labels, { mix: { partners, weight: 0.5 }, classWeights: [1, 1, 1, 1, 1] })).toThrow(/not combined/);
  });

  it('a class mask restricts each row to its classes: the loss of the row sliced to them; the gradient matches finite differences and is 0 off the mask', () => {
    const rand = mulberry32(6);
    const logits = randn([4, 5], rand, 2);
    const labels = [0, 2, 4, 1];
    const classMask = [1, 1, 1, 1, 1, /**/ 1, 0, 1, 0, 1, /**/ 0, 1, 0, 1, 1, /**/ 1, 1, 0, 0, 0];
    const o = { labelSmoothing: 0.1, classMask };
    const { loss, dlogits } = softmaxCrossEntropy(logits, labels, o);
    // Each row alone, over its allowed classes only, with the label re-indexed among them.
    const sliced = [0, 1, 2, 3].map((n) => {
      const ks = [0, 1, 2, 3, 4].filter((k) => classMask[n * 5 + k] === 1);
      return softmaxCrossEntropy(tensor([1, ks.length], ks.map((k) => logits.data[n * 5 + k]!)), [ks.indexOf(labels[n]!)], { labelSmoothing: 0.1 }).loss;
    });
    expect(loss).toBeCloseTo(sliced.reduce((a, l) => a + l, 0) / 4, 12);
    expect(loss).not.toBeCloseTo(softmaxCrossEntropy(logits, labels, { labelSmoothing: 0.1 }).loss, 3);
    classMask.forEach((m, i) => m === 0 && expect(dlogits.data[i]).toBe(0));
    const report = gradCheck(([z]) => softmaxCrossEntropy({ data: z!, shape: [4, 5] }, labels, o).loss, [logits.data], [dlogits.data]);
    expect(report.failures).toEqual([]);
    expect(() => softmaxCrossEntropy(logits, [1, 1, 0, 0], o)).toThrow(/masked out/);
  });

  it('refuses labels outside [0, K)', () => {
    expect(() => softmaxCrossEntropy(tensor([1, 3]), [3])).toThrow(/not in \[0, 3\)/);
  });
});

describe('gradient clipping reference', () => {
  const grads = () => [Float64Array.from([3, 4]), Float64Array.from([0, 0.5]), new Float64Array(2)];

  it('clipnorm rescales each tensor on its own, leaving small and zero ones alone', () => {
    const clipped = clipByNorm(grads(), 1);
    expect(Array.from(clipped[0]!)).toEqual([0.6000000000000001, 0.8]);
    expect(Array.from(clipped[1]!)).toEqual([0, 0.5]);
    expect(Array.from(clipped[2]!)).toEqual([0, 0]);
  });

  it('global_clipnorm scales every tensor by min(1, c / global norm)', () => {
    const g = grads();
    expect(globalNorm(g)).toBeCloseTo(Math.sqrt(25.25), 14);
    const { grads: clipped, scale } = clipByGlobalNorm(g, 1);
    expect(scale).toBeCloseTo(1 / Math.sqrt(25.25), 14);
    expect(clipped[1]![1]).toBeCloseTo(0.5 / Math.sqrt(25.25), 14);
    expect(clipped[0]![0]).toBeCloseTo(3 / Math.sqrt(25.25), 14);
    expect(clipByGlobalNorm(g, 10).scale).toBe(1);
  });
});

describe('Adam reference (Keras)', () => {
  it('AdamW decays each chosen variable by w * wd * lr before the update', () => {
    // Zero gradients: Adam moves nothing (0 / (0 + eps)), so only the decay shows: 2 - 2 * 0.1 * 0.5.
    const w = [Float64Array.from([2, -4]), Float64Array.from([2])];
    adamStep(w, [new Float64Array(2), new Float64Array(1)], adamInit(w), { learningRate: 0.5, weightDecay: 0.1, decayed: [true, false] });
    expect(Array.from(w[0]!)).toEqual([1.9, -3.8]);
    expect(w[1]![0]).toBe(2);
    // With a gradient, the update applies to the decayed weight: one step of Adam moves by lr (|m_hat / sqrt(v_hat)| = 1).
    const u = [Float64Array.from([1])];
    adamStep(u, [Float64Array.from([3])], adamInit(u), { learningRate: 0.01, weightDecay: 0.5, epsilon: 1e-12 });
    expect(u[0]![0]).toBeCloseTo(1 - 1 * 0.5 * 0.01 - 0.01, 10);
  });

  it('takes two hand-computed steps with the defaults lr 1e-3, b1 0.9, b2 0.999, eps 1e-7', () => {
    const w = [Float64Array.from([1])];
    const state = adamInit(w);
    adamStep(w, [Float64Array.from([0.5])], state);
    expect(w[0]![0]).toBeCloseTo(0.9990000063245154, 15);
    adamStep(w, [Float64Array.from([-1])], state);
    expect(w[0]![0]).toBeCloseTo(0.9993661088159534, 15);
    expect(state.step).toBe(2);
    expect(state.m[0]![0]).toBeCloseTo(0.9 * 0.05 - 0.1, 15);
    expect(state.v[0]![0]).toBeCloseTo(0.999 * 0.00025 + 0.001, 15);
  });

  it('adds eps to sqrt(v) outside the bias correction, as Keras does (visible for tiny gradients)', () => {
    const w = [Float64Array.from([1])];
    adamStep(w, [Float64Array.from([1e-9])], adamInit(w));
    // The paper's form m_hat / (sqrt(v_hat) + eps) would move w by about lr * 0.0099 = 9.9e-6 here.
    expect(w[0]![0]).toBeCloseTo(0.9999996838722024, 15);
  });

  it('honours explicit options and updates several tensors independently', () => {
    const w = [Float64Array.from([0, 0]), Float64Array.from([5])];
    adamStep(w, [Float64Array.from([2, -3]), Float64Array.from([0])], adamInit(w), { learningRate: 0.1 });
    // First step: m / sqrt(v) = sign(g) * 0.1 / sqrt(0.001), lr_t = lr * sqrt(0.001) / 0.1.
    expect(w[0]![0]).toBeCloseTo(-0.1 * 2 / (2 + 1e-7 / Math.sqrt(0.001)), 12);
    expect(w[0]![1]).toBeCloseTo(0.1 * 3 / (3 + 1e-7 / Math.sqrt(0.001)), 12);
    expect(w[1]![0]).toBe(5);
  });
});

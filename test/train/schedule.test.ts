// The epoch book-keeping of the training loop (scheduleAfterEpoch): best epoch and early-stopping count
// by validation accuracy, learning rate halved only when the validation loss stops falling (Keras'
// ReduceLROnPlateau with min_delta 1e-4), the training-accuracy fallback without validation, and
// checkpoints written before bestValLoss existed; the cosine rate; class-balanced epochs and the windows
// of repeated clips; balanced class weights; swapped augmentation.

import { describe, expect, it } from 'vitest';
import { randomStarts } from '../../src/train/loop/batches';
import { type LoopState, scheduleAfterEpoch } from '../../src/train/loop/loop';
import { balancedClassWeights, balancedExamples, cosineRate, swappedExamples } from '../../src/train/loop/schedule';

const opts = { lrPatience: 2, lrFactor: 0.5, minLr: 1e-4 };
const fresh = (): LoopState => ({ epoch: 0, history: [], bestEpoch: -1, bestValAccuracy: -Infinity, bestValLoss: null, sinceBest: 0, sinceLrChange: 0 });

/** Feed (accuracy, loss) epochs; the learning rate after each and the final state. */
function run(epochs: [number, number | null][], state = fresh(), lr = 1e-3) {
  const lrs: number[] = [];
  const improved: boolean[] = [];
  for (const [acc, loss] of epochs) {
    const r = scheduleAfterEpoch(state, acc, loss, lr, opts);
    lr = r.learningRate;
    lrs.push(lr);
    improved.push(r.improved);
    state.epoch++;
  }
  return { lrs, improved, state };
}

describe('scheduleAfterEpoch', () => {
  it('keeps the rate while the validation loss falls, even when accuracy does not improve', () => {
    const { lrs, state } = run([[0.3, 1.9], [0.3, 1.8], [0.29, 1.7], [0.3, 1.6], [0.3, 1.5]]);
    expect(lrs).toEqual([1e-3, 1e-3, 1e-3, 1e-3, 1e-3]);
    expect(state.bestEpoch).toBe(1);
    expect(state.sinceBest).toBe(4); // early stopping still counts epochs without better accuracy
    expect(state.bestValLoss).toBe(1.5);
  });

  it('halves the rate after lrPatience epochs without a loss drop of 1e-4, and again after as many more', () => {
    const { lrs, state } = run([[0.3, 1.9], [0.35, 1.90005], [0.36, 1.95], [0.37, 1.9], [0.38, 2.0], [0.39, 1.5]]);
    expect(lrs).toEqual([1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4, 2.5e-4]);
    expect(state.bestEpoch).toBe(6);
    expect(state.sinceBest).toBe(0);
    expect(state.sinceLrChange).toBe(0);
  });

  it('never goes below minLr', () => {
    const { lrs } = run(Array.from({ length: 12 }, (): [number, number] => [0.3, 2]));
    expect(Math.min(...lrs)).toBe(1e-4);
  });

  it('without validation, follows the training accuracy', () => {
    const { lrs, improved } = run([[0.3, null], [0.2, null], [0.2, null], [0.4, null]]);
    expect(improved).toEqual([true, false, false, true]);
    expect(lrs).toEqual([1e-3, 1e-3, 5e-4, 5e-4]);
  });

  it('resumes a checkpoint written before bestValLoss existed', () => {
    const old = { epoch: 3, history: [], bestEpoch: 2, bestValAccuracy: 0.4, sinceBest: 1, sinceLrChange: 1 } as LoopState;
    const { lrs, state } = run([[0.41, 1.7]], old);
    expect(lrs).toEqual([1e-3]);
    expect(state.bestValLoss).toBe(1.7);
    expect(state.bestEpoch).toBe(4);
  });
});

describe('cosineRate', () => {
  it('starts at lr, falls every epoch, reaches half way at the middle and stays above minLr', () => {
    const rates = Array.from({ length: 40 }, (_, e) => cosineRate(1e-3, 1e-5, e, 40));
    expect(rates[0]).toBe(1e-3);
    expect(rates[20]).toBeCloseTo((1e-3 + 1e-5) / 2, 12);
    for (let e = 1; e < 40; e++) expect(rates[e]!).toBeLessThan(rates[e - 1]!);
    expect(rates[39]!).toBeGreaterThan(1e-5);
    expect(rates[39]!).toBeLessThan(1.2e-5);
    expect(cosineRate(1e-6, 1e-5, 7, 10)).toBe(1e-6); // a rate under the floor does not rise
  });
});

describe('balancedExamples', () => {
  // Class 0 has 3 clips, class 1 has 10, class 2 has 7 (indices are not grouped by class).
  const labels = Array.from({ length: 20 }, (_, i) => (i % 4 === 0 && i < 12 ? 0 : i % 2 ? 1 : 2));
  const counts = (ids: number[]) => ids.reduce((c, i) => ((c[labels[i]!] += 1), c), [0, 0, 0]);
  const train = [...labels.keys()].filter((i) => i !== 19); // one clip of class 1 held out: 3, 9, 7

  it('draws every class as often as the largest, every training clip at least once and nothing else', () => {
    expect(counts(train)).toEqual([3, 9, 7]);
    const b = balancedExamples(train, labels, 5, 2);
    expect(counts(b)).toEqual([9, 9, 9]);
    expect(b.slice(0, train.length)).toEqual(train);
    expect(new Set(b)).toEqual(new Set(train));
  });

  it('repeats the clips of a small class evenly, and draws the repeats afresh per seed and epoch', () => {
    const b = balancedExamples(train, labels, 5, 2);
    const times = new Map<number, number>();
    for (const i of b) times.set(i, (times.get(i) ?? 0) + 1);
    expect(train.filter((i) => labels[i] === 0).map((i) => times.get(i))).toEqual([3, 3, 3]);
    const seven = train.filter((i) => labels[i] === 2).map((i) => times.get(i)!);
    expect(Math.max(...seven) - Math.min(...seven)).toBeLessThanOrEqual(1);
    expect(balancedExamples(train, labels, 5, 2)).toEqual(b);
    const extrasOf = (seed: number, epoch: number) => balancedExamples(train, labels, seed, epoch).slice(train.length).join();
    const others = [extrasOf(5, 3), extrasOf(6, 2), extrasOf(5, 4)];
    expect(others.some((o) => o !== extrasOf(5, 2))).toBe(true);
  });

  it('leaves a balanced set as it is', () => {
    const even = [0, 1, 2, 3, 4, 5];
    expect(balancedExamples(even, [0, 1, 2, 0, 1, 2], 1, 1)).toEqual(even);
  });
});

describe('balancedClassWeights', () => {
  it('is n / (present classes x count) over the training examples only, 1 for an absent class', () => {
    // labels of 8 examples; training uses 6 of them: class 0 x3, class 1 x2, class 3 x1; class 2 absent.
    const labels = [0, 0, 0, 1, 1, 3, 2, 2];
    const w = balancedClassWeights([0, 1, 2, 3, 4, 5], labels, 4);
    expect(w).toEqual([6 / 9, 6 / 6, 1, 6 / 3]);
    // Over the training examples the weights average 1, so the loss keeps its scale.
    expect([0, 1, 2, 3, 4, 5].reduce((a, i) => a + w[labels[i]!]!, 0) / 6).toBeCloseTo(1, 12);
    expect(balancedClassWeights([0, 3, 5], labels, 4)).toEqual([1, 1, 1, 1]);
  });
});

describe('randomStarts of repeated clips', () => {
  it('gives a repeat its own window, and the first occurrence the window it has without repeats', () => {
    const lengths = new Uint32Array([128, 128, 128]);
    const once = randomStarts([0, 1, 2], lengths, 64, 128, 3, 1);
    const twice = randomStarts([0, 1, 2, 1, 1], lengths, 64, 128, 3, 1);
    expect([...twice.subarray(0, 3)]).toEqual([...once]);
    expect(new Set([twice[1], twice[3], twice[4]]).size).toBeGreaterThan(1);
    for (const s of twice) expect(s).toBeLessThanOrEqual(64);
  });
});

describe('swappedExamples', () => {
  // 400 originals 0..399, each with two copies at 1000 + 2i and 1001 + 2i except the multiples of 10 (none).
  const examples = Array.from({ length: 400 }, (_, i) => i);
  const copiesOf = new Map(examples.filter((i) => i % 10 !== 0).map((i) => [i, [1000 + 2 * i, 1001 + 2 * i]] as [number, number[]]));

  it('draws each example as itself or one of its own copies, about p of them swapped, both copies used', () => {
    const s = swappedExamples(examples, copiesOf, 0.5, 3, 7);
    expect(s).toHaveLength(examples.length);
    s.forEach((v, k) => expect(v === k || copiesOf.get(k)!.includes(v)).toBe(true));
    expect(examples.filter((i) => i % 10 === 0).every((i) => s[i] === i)).toBe(true);
    const swapped = s.filter((v, k) => v !== k).length / copiesOf.size;
    expect(swapped).toBeGreaterThan(0.4);
    expect(swapped).toBeLessThan(0.6);
    const second = s.filter((v, k) => v !== k && v === copiesOf.get(k)![1]).length;
    expect(second / s.filter((v, k) => v !== k).length).toBeGreaterThan(0.35);
    expect(second / s.filter((v, k) => v !== k).length).toBeLessThan(0.65);
    // p = 1 swaps every example that has copies.
    expect(swappedExamples(examples, copiesOf, 1, 3, 7).every((v, k) => (k % 10 === 0 ? v === k : v >= 1000))).toBe(true);
  });

  it('is a pure function of (seed, epoch, examples): a resumed run draws the same; other epochs and seeds differ', () => {
    const a = swappedExamples(examples, copiesOf, 0.3, 3, 7);
    expect(swappedExamples(examples, copiesOf, 0.3, 3, 7)).toEqual(a);
    expect(swappedExamples(examples, copiesOf, 0.3, 3, 8)).not.toEqual(a);
    expect(swappedExamples(examples, copiesOf, 0.3, 4, 7)).not.toEqual(a);
    // A repeated example (balanced epochs) draws independently at each occurrence.
    const twice = swappedExamples([...examples, ...examples], copiesOf, 0.5, 3, 7);
    expect(twice.slice(400)).not.toEqual(twice.slice(0, 400));
  });

  it('refuses a probability outside (0, 1]', () => {
    for (const p of [0, -0.1, 1.5, NaN]) expect(() => swappedExamples(examples, copiesOf, p, 0, 0)).toThrow(/swap probability must be in \(0, 1\]/);
  });
});

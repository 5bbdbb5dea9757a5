// What each epoch trains on and at which rate, as pure functions of (seed, epoch) so that a resumed
// run repeats an uninterrupted one: the plateau rule (Keras' ReduceLROnPlateau: halve the rate when
// the validation loss stops falling, min_delta 1e-4) with the best-epoch book-keeping of early
// stopping; the cosine alternative (the rate follows half a cosine from its starting value at the
// first epoch to minLr at the end of the last, set once per epoch); and class-balanced epochs, where
// every class is drawn as often as the largest one by repeating clips of the smaller classes (each
// repeat gets its own random window: batches.ts randomStarts counts occurrences; feature masks are
// drawn per clip, so a repeat has the same masks); and its alternative, class-weighted loss (each
// example's loss times n / (classes * count of its class), sklearn's 'balanced' weights, so the
// weights average 1 over the training clips and the epoch is unchanged); and swapped augmentation,
// where each example of an epoch is drawn as itself or as one of its augmented copies, so augmentation
// varies the epoch without lengthening it.

import { createRng } from '../../common/random';

/** How the learning rate moves: the plateau rule (default), or cosine decay from `lr` over the run's epochs. */
export type LrSchedule = { kind: 'plateau' } | { kind: 'cosine'; lr: number };

/** The part of the loop's state (loop.ts LoopState) that the best-epoch and plateau book-keeping keeps. */
export interface ScheduleState {
  epoch: number;
  bestEpoch: number;
  bestValAccuracy: number;
  bestValLoss?: number | null;
  sinceBest: number;
  sinceLrChange: number;
}

/** The plateau rule's settings (loop.ts LoopOptions). */
export interface PlateauRule {
  lrPatience: number;
  lrFactor: number;
  minLr: number;
}

/** Keras ReduceLROnPlateau's default min_delta: a smaller drop in validation loss is no improvement. */
const LR_MIN_DELTA = 1e-4;

/**
 * Book-keeping after epoch state.epoch + 1 (before state.epoch is advanced): the best epoch by `metric`
 * (validation accuracy, or training accuracy without validation) for early stopping and the weights
 * kept, and the learning rate, multiplied by lrFactor (not below minLr) after lrPatience epochs in which
 * the validation loss fell by less than LR_MIN_DELTA (by `metric` when there is no validation loss).
 */
export function scheduleAfterEpoch(
  state: ScheduleState,
  metric: number,
  valLoss: number | null,
  learningRate: number,
  opts: PlateauRule,
): { improved: boolean; learningRate: number } {
  const improved = metric > state.bestValAccuracy;
  if (improved) {
    state.bestValAccuracy = metric;
    state.bestEpoch = state.epoch + 1;
    state.sinceBest = 0;
  } else {
    state.sinceBest++;
  }
  const lossImproved = valLoss !== null ? valLoss < (state.bestValLoss ?? Infinity) - LR_MIN_DELTA : improved;
  let lr = learningRate;
  if (lossImproved) {
    if (valLoss !== null) state.bestValLoss = valLoss;
    state.sinceLrChange = 0;
  } else if (++state.sinceLrChange >= opts.lrPatience && lr > opts.minLr) {
    lr = Math.max(opts.minLr, lr * opts.lrFactor);
    state.sinceLrChange = 0;
  }
  return { improved, learningRate: lr };
}

/**
 * The cosine schedule's rate for 0-based `epoch` of `epochs`: `lr` at epoch 0, falling towards `minLr`
 * (a starting rate under minLr stays constant rather than rising).
 */
export function cosineRate(lr: number, minLr: number, epoch: number, epochs: number): number {
  const floor = Math.min(lr, minLr);
  return floor + (lr - floor) * 0.5 * (1 + Math.cos((Math.PI * epoch) / epochs));
}

/**
 * The examples of a class-balanced epoch: every training example once, then for each class smaller than
 * the largest, more of its examples (a fresh shuffle of the class per seed, epoch and class, taken in
 * turn, so no clip repeats twice before every clip of its class has repeated once) until each class
 * has as many as the largest. The length is the same every epoch. Not shuffled: see epochOrder.
 */
export function balancedExamples(train: readonly number[], labels: ArrayLike<number>, seed: number, epoch: number): number[] {
  const byClass = new Map<number, number[]>();
  for (const i of train) {
    const k = labels[i]!;
    if (!byClass.has(k)) byClass.set(k, []);
    byClass.get(k)!.push(i);
  }
  const largest = Math.max(0, ...[...byClass.values()].map((c) => c.length));
  const out = [...train];
  for (const [k, members] of [...byClass].sort((a, b) => a[0] - b[0])) {
    const deck = createRng((seed * 2246822519 + epoch * 3266489917 + k * 668265263 + 5) >>> 0).shuffle([...members]);
    for (let j = 0; j < largest - members.length; j++) out.push(deck[j % deck.length]!);
  }
  return out;
}

/**
 * Swapped augmentation: each of an epoch's examples is replaced, with probability p, by one of its
 * augmented copies (`copiesOf`: an example's copies, as indices of the same data set), chosen
 * uniformly; examples without copies stay. The same length every epoch, a pure function of (seed,
 * epoch, examples), so a resumed run draws what an uninterrupted one would. Not shuffled: see epochOrder.
 */
export function swappedExamples(examples: readonly number[], copiesOf: ReadonlyMap<number, readonly number[]>, p: number, seed: number, epoch: number): number[] {
  if (!(p > 0 && p <= 1)) throw new RangeError(`the swap probability must be in (0, 1], got ${p}`);
  const rng = createRng((seed * 3266489917 + epoch * 2654435761 + 23) >>> 0);
  return examples.map((i) => {
    const copies = copiesOf.get(i);
    const swap = rng.next() < p; // drawn for every example, so one example's copies do not shift the others' draws
    const pick = rng.int(copies?.length || 1);
    return swap && copies && copies.length > 0 ? copies[pick]! : i;
  });
}

/**
 * sklearn's compute_class_weight('balanced') over the training examples: n / (present classes *
 * count_k) for each class k present, 1 for a class with no training example (it never weighs).
 */
export function balancedClassWeights(train: readonly number[], labels: ArrayLike<number>, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const i of train) counts[labels[i]!]!++;
  const present = counts.filter((c) => c > 0).length;
  return counts.map((c) => (c > 0 ? train.length / (present * c) : 1));
}

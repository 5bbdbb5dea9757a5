// The epoch book-keeping of the training loop (scheduleAfterEpoch): best epoch and early-stopping count
// by validation accuracy, learning rate halved only when the validation loss stops falling (Keras'
// ReduceLROnPlateau with min_delta 1e-4), the training-accuracy fallback without validation, and
// checkpoints written before bestValLoss existed.

import { describe, expect, it } from 'vitest';
import { type LoopState, scheduleAfterEpoch } from '../../src/train/loop';

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

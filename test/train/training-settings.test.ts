// The training record (src/train/loop/training-settings.ts) and its one description: every field of the
// record is named by every line that prints it (the seeds summary line, report.md's Schedule line,
// `ser train`'s start-up line), so a field added to the record cannot be silently dropped (run 37's
// seeds summary once left out its weight decay). `everything` is a Required<TrainingSettings>: a new
// field fails the type check here until it is given a value, and then these tests until it has a
// phrase that every line prints.

import { describe, expect, it } from 'vitest';
import { defaultLoopOptions, type LoopOptions } from '../../src/train/loop/loop';
import { seedsSettings } from '../../src/train/protocols/seeds';
import { describeTraining, recordedTraining, trainingLine, trainingSentence, trainingSettings, type TrainingSettings } from '../../src/train/loop/training-settings';

/** Loop options that switch on every recorded setting (some are refused together by `ser train`; the description does not care). */
const loop: LoopOptions = {
  ...defaultLoopOptions, epochs: 40,
  schedule: { kind: 'cosine', lr: 1e-3 }, balance: true, balanceCorpora: true, classWeights: 'balanced', swaFrom: 31,
  mixup: { alpha: 0.4 }, weightDecay: 0.5, logitAdjust: true, augmentSwap: 0.25,
};
const everything: Required<TrainingSettings> = {
  schedule: 'cosine', cosineEpochs: 40, balance: true, balanceCorpora: true, classWeights: 'balanced', swaFrom: 31,
  mixup: 0.4, weightDecay: 0.5, logitAdjust: true, augmentSwap: 0.25,
};
const fields = Object.keys(everything) as (keyof TrainingSettings)[];

describe('the training settings record', () => {
  it('records every setting of the loop options', () => {
    expect(trainingSettings(loop)).toEqual(everything);
  });

  it('stays minimal for a default run, and old records read as one', () => {
    expect(trainingSettings(defaultLoopOptions)).toEqual({ schedule: 'plateau', balance: false });
    expect(recordedTraining(undefined)).toEqual({ schedule: 'plateau', balance: false });
  });
});

describe('the description of the training settings', () => {
  it('has a phrase for every field, in both registers', () => {
    for (const register of ['brief', 'full'] as const) {
      const clauses = describeTraining(everything, register);
      expect(clauses.map((c) => c.field).sort()).toEqual([...fields].sort());
      for (const c of clauses) expect(c.text.length, `${register} ${c.field}`).toBeGreaterThan(0);
    }
  });

  it("names each field's value", () => {
    for (const c of describeTraining(everything, 'full')) {
      const v = everything[c.field];
      if (typeof v === 'number') expect(c.text, c.field).toContain(String(v));
    }
    expect(describeTraining({ schedule: 'plateau', balance: false }, 'brief').map((c) => c.text)).toEqual(['halved on plateaus', 'natural class frequencies']);
  });

  it('leaves the cosine length to a line that states the planned epochs, only when they agree', () => {
    expect(describeTraining(everything, 'brief', 40).some((c) => c.field === 'cosineEpochs')).toBe(false);
    expect(describeTraining(everything, 'brief', 50).some((c) => c.field === 'cosineEpochs')).toBe(true);
  });

  it("is printed whole by report.md's Schedule line", () => {
    const line = trainingSentence(everything);
    for (const c of describeTraining(everything, 'full')) expect(line, c.field).toContain(c.text);
  });

  it("is printed whole by ser train's start-up line", () => {
    const line = trainingLine(everything, 40);
    expect(line).not.toMatch(/cosine over/); // stated by the line's "up to 40 epochs"
    for (const c of describeTraining(everything, 'brief', 40)) expect(line, c.field).toContain(c.text);
  });

  it('is printed whole by the seeds summary line', () => {
    const line = seedsSettings({ lr: 1e-3, loop, augment: true });
    expect(line).toMatch(/^up to 40 epochs/); // the cosine length
    for (const c of describeTraining(everything, 'brief', 40)) expect(line, c.field).toContain(c.text);
    // A swap probability without augmentation is still named rather than dropped.
    expect(seedsSettings({ lr: 1e-3, loop, augment: false })).toContain('no augmentation, augmented copies swapped in with probability 0.25');
  });
});

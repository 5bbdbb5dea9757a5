import { describe, expect, it } from 'vitest';
import { SplitError, speakerKFold, speakerSplit, stratifiedSplit, withAugmented, type SplitExample } from '../../src/train/data/splits';
import { createRng } from '../../src/common/random';

const CLASSES = ['neutral', 'calm', 'happy', 'sad', 'angry'];

/** 10 speakers (odd male) with uneven, seeded numbers of clips per class. */
function corpus(seed = 1): SplitExample[] {
  const rng = createRng(seed);
  const out: SplitExample[] = [];
  for (let s = 1; s <= 10; s++) {
    for (const label of CLASSES) {
      const n = 2 + rng.int(6);
      for (let k = 0; k < n; k++) out.push({ label, speaker: `S${s}`, sex: s % 2 ? 'M' : 'F' });
    }
  }
  return rng.shuffle(out);
}

function expectPartition(train: number[], val: number[], n: number): void {
  expect(new Set([...train, ...val]).size).toBe(n);
  expect(train.length + val.length).toBe(n);
}

describe('stratifiedSplit', () => {
  it('holds out round(n * valFraction) of every class and partitions the indices', () => {
    const ex = corpus();
    const { train, val, description } = stratifiedSplit(ex, { valFraction: 0.25, seed: 7 });
    expectPartition(train, val, ex.length);
    for (const label of CLASSES) {
      const n = ex.filter((e) => e.label === label).length;
      expect(val.filter((i) => ex[i].label === label).length).toBe(Math.round(n * 0.25));
    }
    expect(description).toEqual({ kind: 'stratified', seed: 7, valFraction: 0.25 });
  });

  it('is a function of the seed: same seed same split, another seed another split', () => {
    const ex = corpus();
    expect(stratifiedSplit(ex, { seed: 3 })).toEqual(stratifiedSplit(ex, { seed: 3 }));
    expect(stratifiedSplit(ex, { seed: 3 }).val).not.toEqual(stratifiedSplit(ex, { seed: 4 }).val);
  });

  it('keeps at least one example of a 2-example class on each side, and rejects a 1-example class by name', () => {
    const ex = [...corpus(), { label: 'disgust' }, { label: 'disgust' }];
    const { train, val } = stratifiedSplit(ex, { valFraction: 0.1 });
    expect(val.filter((i) => ex[i].label === 'disgust')).toHaveLength(1);
    expect(train.filter((i) => ex[i].label === 'disgust')).toHaveLength(1);
    expect(() => stratifiedSplit([...corpus(), { label: 'surprised' }])).toThrow(/class 'surprised' has 1 example.*at least 2/);
  });
});

describe('speakerSplit', () => {
  it('never puts a speaker on both sides and balances held-out speakers by sex', () => {
    const ex = corpus();
    const { train, val, description } = speakerSplit(ex, { valFraction: 0.4, seed: 11 });
    expectPartition(train, val, ex.length);
    const trainSpeakers = new Set(train.map((i) => ex[i].speaker));
    const valSpeakers = new Set(val.map((i) => ex[i].speaker));
    expect([...valSpeakers].filter((s) => trainSpeakers.has(s))).toEqual([]);
    expect(description.valSpeakers).toEqual([...valSpeakers].sort());
    expect(valSpeakers.size).toBe(4);
    expect(val.filter((i) => ex[i].sex === 'M').map((i) => ex[i].speaker).filter((s, k, a) => a.indexOf(s) === k)).toHaveLength(2);
  });

  it('holds out exactly the named speakers', () => {
    const ex = corpus();
    const { val, description } = speakerSplit(ex, { valSpeakers: ['S3', 'S8'] });
    expect(new Set(val.map((i) => ex[i].speaker))).toEqual(new Set(['S3', 'S8']));
    expect(val).toHaveLength(ex.filter((e) => e.speaker === 'S3' || e.speaker === 'S8').length);
    expect(description).toMatchObject({ kind: 'speaker', valSpeakers: ['S3', 'S8'] });
  });

  it('is deterministic per seed', () => {
    const ex = corpus();
    expect(speakerSplit(ex, { seed: 5 })).toEqual(speakerSplit(ex, { seed: 5 }));
    const seen = new Set([0, 1, 2, 3, 4, 5].map((seed) => speakerSplit(ex, { seed }).description.valSpeakers!.join()));
    expect(seen.size).toBeGreaterThan(1);
  });

  it('errors when speakers are missing or unknown, or a class would lose all training data', () => {
    const ex = corpus();
    expect(() => speakerSplit([...ex, { label: 'sad' }])).toThrow(/needs a speaker for every example, but 1 of/);
    expect(() => speakerSplit(ex, { valSpeakers: ['S99'] })).toThrow(/unknown validation speaker\(s\) S99/);
    const lonely = [...ex, { label: 'fearful', speaker: 'S1' }, { label: 'fearful', speaker: 'S1' }];
    expect(() => speakerSplit(lonely, { valSpeakers: ['S1'] })).toThrow(SplitError);
    expect(() => speakerSplit(lonely, { valSpeakers: ['S1'] })).toThrow(/no training examples of: fearful/);
  });
});

describe('speakerKFold', () => {
  it('validates every speaker in exactly one fold, partitions each fold, and balances fold sizes', () => {
    const ex = corpus();
    const folds = speakerKFold(ex, { folds: 4, seed: 2 });
    expect(folds).toHaveLength(4);
    const valCount = new Map<string, number>();
    for (const [f, { train, val, description }] of folds.entries()) {
      expectPartition(train, val, ex.length);
      const trainSpeakers = new Set(train.map((i) => ex[i].speaker));
      for (const s of new Set(val.map((i) => ex[i].speaker))) {
        expect(trainSpeakers.has(s)).toBe(false);
        valCount.set(s!, (valCount.get(s!) ?? 0) + 1);
      }
      expect(description).toMatchObject({ kind: 'speaker-kfold', seed: 2, fold: f + 1, folds: 4 });
    }
    expect([...valCount.values()]).toEqual(new Array(10).fill(1));
    const sizes = folds.map((f) => f.val.length);
    const largestSpeaker = Math.max(...[...valCount.keys()].map((s) => ex.filter((e) => e.speaker === s).length));
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(largestSpeaker);
  });

  it('is deterministic per seed and rejects impossible fold counts', () => {
    const ex = corpus();
    expect(speakerKFold(ex, { seed: 9 })).toEqual(speakerKFold(ex, { seed: 9 }));
    expect(() => speakerKFold(ex, { folds: 11 })).toThrow(/2 <= folds <= speakers \(10\)/);
    expect(() => speakerKFold(ex.map((e) => ({ label: e.label })))).toThrow(/needs a speaker/);
  });
});

describe('withAugmented', () => {
  it('appends the training clips\' copies after the originals and maps each clip to its copies\' indices', () => {
    const split = { train: [0, 2, 3], val: [1], description: { kind: 'stratified' as const, seed: 0, valFraction: 0.25 } };
    // Copies of clips 0, 1 (validation), 2, 0, 3, 1 (validation), uploaded after the 4 originals.
    const r = withAugmented(split, [0, 1, 2, 0, 3, 1], 4);
    expect(r.copies).toEqual([0, 2, 3, 4]);
    expect(r.train).toEqual([0, 2, 3, 4, 5, 6, 7]);
    expect([...r.copiesOf]).toEqual([[0, [4, 6]], [2, [5]], [3, [7]]]);
  });
});

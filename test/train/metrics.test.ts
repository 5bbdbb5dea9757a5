import { describe, expect, it } from 'vitest';
import { classificationReport, confusionMatrix, formatReport, topConfusions, unweightedAverageRecall } from '../../src/train/scores/metrics';

const TOL = 1e-12;

describe('classification metrics', () => {
  // counts: [[2,1,1],[0,2,0],[1,0,3]]
  const yTrue = [0, 0, 0, 0, 1, 1, 2, 2, 2, 2];
  const yPred = [0, 0, 1, 2, 1, 1, 2, 2, 2, 0];
  const names = ['angry', 'calm', 'sad'];

  it('computes accuracy, UAR and macro F1 of a hand-worked 3-class case', () => {
    const r = classificationReport(yTrue, yPred, names);
    expect(r.confusion).toEqual([[2, 1, 1], [0, 2, 0], [1, 0, 3]]);
    expect(r.accuracy).toBeCloseTo(0.7, 12);
    expect(r.uar).toBeCloseTo((0.5 + 1 + 0.75) / 3, 12);
    // precision 2/3, 2/3, 3/4; F1 = 4/7, 4/5, 3/4
    expect(r.macroF1).toBeCloseTo((4 / 7 + 0.8 + 0.75) / 3, 12);
    expect(r.perClass.map((m) => m.support)).toEqual([4, 2, 4]);
    expect(Math.abs(r.perClass[0].precision - 2 / 3)).toBeLessThan(TOL);
    expect(Math.abs(r.perClass[0].f1 - 4 / 7)).toBeLessThan(TOL);
    expect(r.confusionRowPercent[0]).toEqual([50, 25, 25]);
  });

  it('unweighted average recall alone: over the classes present in the labels, whatever the vocabulary', () => {
    expect(unweightedAverageRecall(yTrue, yPred, 3)).toBeCloseTo((0.5 + 1 + 0.75) / 3, 12);
    // Class 5 is predicted but never a label: it counts as an error, not as a class.
    expect(unweightedAverageRecall([2, 2, 7, 7], [2, 5, 7, 7], 8)).toBeCloseTo((0.5 + 1) / 2, 12);
    expect(() => unweightedAverageRecall([1, 2], [1], 3)).toThrow(/2 true labels but 1 predictions/);
  });

  it('separates accuracy from UAR on an imbalanced majority-class predictor', () => {
    const t = [...new Array(90).fill(0), ...new Array(10).fill(1)];
    const r = classificationReport(t, new Array(100).fill(0), ['neutral', 'angry']);
    expect(r.accuracy).toBeCloseTo(0.9, 12);
    expect(r.uar).toBeCloseTo(0.5, 12);
    expect(r.perClass[1]).toEqual({ name: 'angry', precision: 0, recall: 0, f1: 0, support: 10 });
    expect(r.macroF1).toBeCloseTo((2 * 0.9) / 1.9 / 2, 12);
  });

  it('leaves a class absent from truth out of UAR but counts it in macro F1 when it is predicted', () => {
    const r = classificationReport([0, 0, 1, 1], [0, 2, 1, 1], ['a', 'b', 'c']);
    expect(r.uar).toBeCloseTo((0.5 + 1) / 2, 12);
    expect(r.macroF1).toBeCloseTo((2 / 3 + 1 + 0) / 3, 12);
    const unused = classificationReport([0, 0, 1, 1], [0, 0, 1, 1], ['a', 'b', 'c']);
    expect(unused.macroF1).toBe(1);
  });

  it('lists the largest off-diagonal confusions first', () => {
    const t = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2];
    const p = [1, 1, 1, 2, 0, 2, 1, 0, 0, 2];
    const top = topConfusions(classificationReport(t, p, ['x', 'y', 'z']), 3);
    expect(top.map((c) => `${c.trueClass}>${c.predicted}:${c.count}`)).toEqual(['x>y:3', 'z>x:2', 'y>x:1']);
    expect(top[0].rowPercent).toBeCloseTo(75, 12);
  });

  it('formats a plain-text table with the summary, every class and the confusions', () => {
    const text = formatReport(classificationReport(yTrue, yPred, names));
    expect(text).toContain('n=10  accuracy 70.0%  UAR 75.0%  macro-F1 70.7%');
    expect(text).toMatch(/calm\s+66\.7\s+100\.0\s+80\.0\s+2/);
    expect(text).toContain('angry -> calm: 1 (25.0% of angry)');
    expect(text.split('\n').length).toBeGreaterThan(10);
  });

  it('rejects mismatched lengths and out-of-range classes', () => {
    expect(() => confusionMatrix([0, 1], [0], 2)).toThrow(/2 true labels but 1 predictions/);
    expect(() => confusionMatrix([0, 2], [0, 1], 2)).toThrow(/outside 0..1/);
  });
});

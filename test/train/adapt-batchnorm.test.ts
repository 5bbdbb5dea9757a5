// Adaptive batch normalisation at inference (predictFeatures' batchNormGroups, `ser evaluate --adapt-bn`):
// each group is predicted with BN statistics of its own blocks (a single batch: exactly its batch
// statistics, i.e. a training-mode forward without dropout), groups do not leak into each other, and
// the model's own statistics are back afterwards.

import { describe, expect, it } from 'vitest';
import { featureConfig } from '../../src/dsp/config';
import { SerModel, modelConfig, type ModelConfig } from '../../src/nn/model';
import { Tape } from '../../src/nn/tape';
import { predictFeatures } from '../../src/train/inference/predict';
import type { LoadedModel } from '../../src/train/model-files/saved-model';
import { createRng } from '../../src/common/random';
import { relL2, useGpu } from '../harness';

const gpu = useGpu();

const TINY: ModelConfig = modelConfig({
  inputRows: 10,
  inputFrames: 8,
  classes: 4,
  stem: { filters: 4, dropout: 0.2 },
  blocks: [{ filters: 8, dropout: 0.2 }],
  dense: [{ units: 6, dropout: 0.2 }],
});
const PER = TINY.inputRows * TINY.inputFrames;

function blocks(n: number, seed: number, shift = 0, scale = 1): Float32Array[] {
  const r = createRng(seed);
  return Array.from({ length: n }, () => Float32Array.from({ length: PER }, () => shift + scale * (2 * r.next() - 1)));
}

function loadedTiny(seed: number): LoadedModel {
  const model = new SerModel(gpu(), TINY, seed);
  // Moving statistics far from any batch's: unadapted predictions are visibly off.
  for (const [name, t] of model.state) gpu().write(t, new Float32Array(t.size).fill(name.endsWith('moving_mean') ? 0.7 : 3));
  const meta = {
    modelConfig: TINY,
    featureConfig: featureConfig({ frames: TINY.inputFrames }),
    scaler: { rows: TINY.inputRows, frames: TINY.inputFrames, mean: new Float32Array(TINY.inputRows), std: new Float32Array(TINY.inputRows).fill(1) },
    classes: ['a', 'b', 'c', 'd'],
  };
  return { model, meta, raw: {} };
}

const probs = (r: { probabilities: Record<string, number> }[]) => r.flatMap((p) => Object.values(p.probabilities));

/** Softmax of a training-mode forward (batch statistics, no dropout) on all of xs at once. */
async function batchStatProbabilities(model: SerModel, xs: Float32Array[]): Promise<number[]> {
  const x = gpu().upload(Float32Array.from(xs.flatMap((b) => Array.from(b))), [xs.length, TINY.inputRows, TINY.inputFrames, 1], 'f32', 'x');
  const tape = new Tape(gpu());
  tape.dropout = false;
  tape.bnMomentum = 0.99; // the moving statistics are not read in training mode, and put back by the caller
  const logits = await tape.noGrad(() => model.forward(tape, tape.input(x))).value.read() as Float32Array;
  tape.release();
  x.dispose();
  const out: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    const row = Array.from(logits.subarray(i * 4, i * 4 + 4));
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    out.push(...e.map((v) => v / s));
  }
  return out;
}

describe('adaptive batch normalisation at inference', () => {
  it('predicts each group with its own batch statistics and puts the model statistics back', async () => {
    const loaded = loadedTiny(1);
    const a = blocks(12, 2);
    const b = blocks(9, 3, 1.5, 2);
    const before = await gpu().readMany([...loaded.model.state.values()]);
    const adapted = await predictFeatures(gpu(), loaded, [...a, ...b], { batchNormGroups: [...a.map(() => 'A'), ...b.map(() => 'B')], batch: 32 });
    const after = await gpu().readMany([...loaded.model.state.values()]);
    before.forEach((t, i) => expect(Array.from(after[i]!)).toEqual(Array.from(t)));

    // One batch per group: the moving statistics become exactly that group's batch statistics, so
    // inference equals a training-mode forward on the group without dropout.
    const refA = await batchStatProbabilities(loaded.model, a);
    const refB = await batchStatProbabilities(loaded.model, b);
    for (const [i, t] of [...loaded.model.state.values()].entries()) gpu().write(t, before[i] as Float32Array);
    expect(relL2(probs(adapted.slice(0, 12)), refA)).toBeLessThan(1e-4);
    expect(relL2(probs(adapted.slice(12)), refB)).toBeLessThan(1e-4);

    // Unadapted predictions (the model's own statistics) are different.
    const plain = await predictFeatures(gpu(), loaded, [...a, ...b], { batch: 32 });
    expect(relL2(probs(plain), probs(adapted))).toBeGreaterThan(0.05);
    loaded.model.dispose();
  });

  it('keeps groups apart, and refuses a group list of the wrong length', async () => {
    const loaded = loadedTiny(4);
    const x = blocks(16, 5);
    const shifted = x.map((f) => f.map((v) => v + 2));
    const alone = await predictFeatures(gpu(), loaded, x, { batchNormGroups: x.map(() => 'g'), batch: 8 });
    // The same clips next to a shifted copy in another group: unchanged (no statistics shared).
    const both = await predictFeatures(gpu(), loaded, [...x, ...shifted], { batchNormGroups: [...x.map(() => 'g'), ...x.map(() => 'h')], batch: 8 });
    expect(relL2(probs(both.slice(0, 16)), probs(alone))).toBeLessThan(1e-6);
    // Predicted together as one group, the statistics are those of both: other probabilities.
    const mixed = await predictFeatures(gpu(), loaded, [...x, ...shifted], { batchNormGroups: [...x, ...x].map(() => 'g'), batch: 8 });
    expect(relL2(probs(mixed.slice(0, 16)), probs(alone))).toBeGreaterThan(0.01);
    await expect(predictFeatures(gpu(), loaded, x, { batchNormGroups: ['g'] })).rejects.toThrow(/16 blocks but 1 batch-norm groups/);
    loaded.model.dispose();
  });
});

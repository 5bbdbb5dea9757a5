// Batch-norm recalibration ("precise BN"): a refresh pass runs the model with batch statistics and no
// dropout and blends them into the moving statistics with the weight it is given; a sequence of passes
// with weights i/(i+1) leaves their running mean. Checked against exact invariants, not tolerances of
// a reference: (1) after one refresh with weight 0, inference on that batch reproduces the training-mode
// forward without dropout; (2) after refreshes on two equal halves, the first BN layer's moving mean is
// the mean over the whole batch; (3) recalibrateBatchNorm over a GPU-resident data set does the same.

import { describe, expect, it } from 'vitest';
import type { Gpu, Tensor } from '../../src/gpu';
import { SerModel, modelConfig, type ModelConfig } from '../../src/nn/model';
import { Tape } from '../../src/nn/tape';
import { Trainer } from '../../src/nn/train-step';
import { exampleMaps, recalibrateBatchNorm } from '../../src/train/loop/batches';
import { expectClose, randn, rng, useGpu } from '../harness';

const gpu = useGpu();

// Dropout everywhere and a Keras momentum: a refresh that kept dropout or the layer's momentum fails.
const CONFIG: ModelConfig = modelConfig({
  inputRows: 12,
  inputFrames: 10,
  classes: 3,
  stem: { filters: 4, dropout: 0.5 },
  blocks: [{ filters: 8, dropout: 0.5 }],
  dense: [{ units: 6, dropout: 0.5 }],
  bnMomentum: 0.99,
});

function batch(g: Gpu, n: number, seed: number): Tensor {
  return g.upload(Float32Array.from(randn(n * 12 * 10, rng(seed)), (v) => 1.5 * v + 0.7), [n, 12, 10, 1]);
}

async function logits(g: Gpu, model: SerModel, x: Tensor, mode: 'inference' | 'batch-stats'): Promise<Float32Array> {
  const tape = new Tape(g);
  tape.training = mode === 'batch-stats';
  tape.dropout = false;
  tape.bnMomentum = 1; // a batch-stats pass must not move the statistics under test
  const out = tape.noGrad(() => model.forward(tape, tape.input(x)));
  const v = (await g.read(out.value)) as Float32Array;
  tape.release();
  return v;
}

describe('batch-norm recalibration', () => {
  it('one refresh with weight 0: inference on the batch equals the training-mode forward without dropout', async () => {
    const g = gpu();
    const model = new SerModel(g, CONFIG, 3);
    const trainer = new Trainer(model);
    const x = batch(g, 9, 1);
    const before = await logits(g, model, x, 'inference');
    trainer.refreshBatchNorm(x, 0);
    const inference = await logits(g, model, x, 'inference');
    const batchStats = await logits(g, model, x, 'batch-stats');
    expectClose(inference, batchStats, 1e-5, 'inference after refresh vs batch statistics');
    // The statistics really changed (the initial ones are mean 0, variance 1).
    expect(Math.max(...before.map((v, i) => Math.abs(v - inference[i]!)))).toBeGreaterThan(1e-3);
    trainer.dispose();
    model.dispose();
    x.dispose();
  });

  it('refreshes with weights 0 then 1/2 leave the mean of the two batches\' statistics', async () => {
    const g = gpu();
    const model = new SerModel(g, CONFIG, 4);
    const trainer = new Trainer(model);
    const whole = batch(g, 8, 2);
    const data = (await g.read(whole)) as Float32Array;
    const half = (k: number) => g.upload(data.slice(k * 4 * 120, (k + 1) * 4 * 120), [4, 12, 10, 1]);
    const [a, b] = [half(0), half(1)];
    trainer.refreshBatchNorm(whole, 0);
    const wholeMean = (await g.read(model.state.get('stem.bn.moving_mean')!)) as Float32Array;
    trainer.refreshBatchNorm(a, 0);
    trainer.refreshBatchNorm(b, 0.5);
    const halvesMean = (await g.read(model.state.get('stem.bn.moving_mean')!)) as Float32Array;
    expectClose(halvesMean, wholeMean, 1e-5, 'stem moving mean: two halves vs the whole batch');
    for (const t of [whole, a, b]) t.dispose();
    trainer.dispose();
    model.dispose();
  });

  it('recalibrateBatchNorm over a data set in batches gives the same statistics', async () => {
    const g = gpu();
    const model = new SerModel(g, CONFIG, 5);
    const trainer = new Trainer(model);
    const x = batch(g, 12, 3);
    const all = (await g.read(x)) as Float32Array;
    const data = { x: exampleMaps(all, 12), rows: 12, frames: 10 };
    const ids = [7, 1, 4, 10, 2, 9];
    await recalibrateBatchNorm(g, trainer, data, ids, 3);
    const got = (await g.read(model.state.get('stem.bn.moving_mean')!)) as Float32Array;
    const picked = g.upload(Float32Array.from(ids.flatMap((i) => Array.from(all.slice(i * 120, (i + 1) * 120)))), [6, 12, 10, 1]);
    trainer.refreshBatchNorm(picked, 0);
    const want = (await g.read(model.state.get('stem.bn.moving_mean')!)) as Float32Array;
    expectClose(got, want, 1e-5, 'stem moving mean: batched recalibration vs one pass');
    for (const t of [x, picked]) t.dispose();
    trainer.dispose();
    model.dispose();
  });
});

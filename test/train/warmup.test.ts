// Compiling pipelines ahead of use (gpu.precompile, PipelineCache.prepare, train/loop/warmup.ts): tracing
// runs nothing and compiles every kernel the traced code dispatches; a training step, a BN
// recalibration and an inference batch of the precompiled sizes then compile nothing; BN blend weights
// (momentum) no longer make one pipeline each; the batch sizes of an epoch are listed exactly. With
// dispatchAhead every traced pipeline is dispatched once (shared with a helper device) and training
// afterwards gives bit-identical results; without it nothing is dispatched.

import { describe, expect, it } from 'vitest';
import { GpuError } from '../../src/gpu';
import { add } from '../../src/kernels/elementwise';
import { modelConfig, SerModel, type ModelConfig } from '../../src/nn/model';
import { predictLogits, Trainer } from '../../src/nn/train-step';
import { chunkSizes, precompileTraining, trainingBatchSizes } from '../../src/train/loop/warmup';
import type { Gpu } from '../../src/gpu';
import { createNodeGpu } from '../../src/gpu/node.node.ts';
import { useGpu } from '../harness';

const gpu = useGpu();

const CONFIG: ModelConfig = modelConfig({
  inputRows: 12,
  inputFrames: 10,
  classes: 3,
  stem: { filters: 4, dropout: 0.2 },
  blocks: [{ filters: 8, dropout: 0.3 }],
  dense: [{ units: 6, dropout: 0.3 }],
  bnMomentum: 0.9,
});

describe('batch sizes of an epoch', () => {
  it('lists the full and the last partial chunk only', () => {
    expect(chunkSizes(152, 16)).toEqual([16, 8]);
    expect(chunkSizes(152, 8)).toEqual([8]);
    expect(chunkSizes(5, 8)).toEqual([5]);
    expect(chunkSizes(0, 8)).toEqual([]);
    expect(trainingBatchSizes(152, 16, 256, 40)).toEqual({ train: [16, 8], recalibrate: [16, 8], evaluate: [16, 8] });
    expect(trainingBatchSizes(152, 16, 100, 48)).toEqual({ train: [16, 8], recalibrate: [16, 4], evaluate: [16] });
    expect(trainingBatchSizes(152, 8, 0, 0)).toEqual({ train: [8], recalibrate: [], evaluate: [] });
  });
});

describe('gpu.precompile', () => {
  it('compiles what the traced code dispatches without running it, and later dispatches reuse it', async () => {
    const g = gpu();
    const a = g.upload([1, 2, 3, 4, 5], [5]);
    const out = g.upload([7, 7, 7, 7, 7], [5]);
    let traced: ReturnType<typeof add> | null = null;
    const compiled = await g.precompile(() => {
      traced = add(g, a, a);
      g.copy(traced, out); // recorded while tracing: discarded, never submitted
    });
    expect(compiled).toBeGreaterThanOrEqual(1);
    expect(Array.from(await out.read()), 'nothing traced ran').toEqual([7, 7, 7, 7, 7]);
    traced!.dispose();
    g.pipelines.resetStats();
    const y = add(g, a, a);
    expect(Array.from(await y.read())).toEqual([2, 4, 6, 8, 10]);
    expect(g.pipelines.statistics().sync, 'the precompiled kernel is found, not compiled again').toBe(0);
    expect(await g.precompile(() => add(g, a, a).dispose()), 'a cached kernel is not compiled again').toBe(0);
  });

  it('rejects a kernel that does not compile, naming its key', async () => {
    const g = gpu();
    await expect(g.pipelines.prepare([{ key: 'broken:1', code: () => '@compute @workgroup_size(1) fn main() { let x: f32 = vec4f(1.0); }' }])).rejects.toThrow(/broken:1/);
    let inner: Promise<number> | null = null;
    await g.precompile(() => void (inner = g.precompile(() => {})));
    await expect(inner!).rejects.toThrow(GpuError);
    await expect(inner!).rejects.toThrow(/already tracing/);
  });
});

describe('precompileTraining', () => {
  it('leaves nothing to compile for a training step, a recalibration and inference of those sizes', async () => {
    const g = gpu();
    const sizes = trainingBatchSizes(7, 4, 7, 5); // train 4 and 3, recalibrate 4 and 3, evaluate 4 and 1
    const { pipelines } = await precompileTraining(g, CONFIG, sizes);
    expect(pipelines).toBeGreaterThan(20);
    const model = new SerModel(g, CONFIG, 5);
    const trainer = new Trainer(model);
    g.pipelines.resetStats();
    const x = (b: number) => g.upload(new Float32Array(b * 12 * 10).map((_, i) => Math.sin(i)), [b, 12, 10, 1]);
    for (const b of sizes.train) {
      const stats = trainer.step(x(b), g.upload(Array.from({ length: b }, (_, i) => i % 3), [b], 'u32'));
      expect(Array.from((await stats.read()) as Float32Array).every(Number.isFinite)).toBe(true);
    }
    // Recalibration blends with a new weight every batch: still the same pipelines.
    sizes.recalibrate.forEach((b, i) => trainer.refreshBatchNorm(x(b), i / (i + 1)));
    trainer.refreshBatchNorm(x(4), 2 / 3);
    for (const b of sizes.evaluate) expect(((await predictLogits(model, x(b)).read()) as Float32Array).length).toBe(b * 3);
    const s = g.pipelines.statistics();
    // Only the tiny fills of the uploads' poison (one per size) may be new.
    expect(Object.keys(s.byFamily).filter((f) => f !== 'fill'), `compiled on first use: ${JSON.stringify(s.byFamily)}`).toEqual([]);
    trainer.dispose();
    model.dispose();
  });
});

describe('precompileTraining with dispatchAhead', () => {
  const sizes = trainingBatchSizes(7, 4, 7, 5);

  /** Two training steps of a fresh seeded model on `g`, after the warm-up (with or without dispatches). */
  async function trainAfterWarmup(g: Gpu, helpers: Gpu[] | null): Promise<Float32Array[]> {
    await precompileTraining(g, CONFIG, sizes, { dispatchAhead: helpers !== null, helpers: helpers ?? [] });
    const model = new SerModel(g, CONFIG, 5);
    const trainer = new Trainer(model);
    const x = g.upload(new Float32Array(4 * 12 * 10).map((_, i) => Math.sin(i)), [4, 12, 10, 1]);
    const y = g.upload([0, 1, 2, 1], [4], 'u32');
    for (let i = 0; i < 2; i++) trainer.step(x, y).dispose();
    const logits = (await predictLogits(model, x).read()) as Float32Array;
    const weights = [...(await model.exportTensors()).values()].map((t) => t.data);
    trainer.dispose();
    model.dispose();
    return [logits, ...weights];
  }

  it('dispatches every distinct traced pipeline once, on both devices; nothing without it', async () => {
    const g = gpu();
    const helper = await createNodeGpu({ poison: true });
    try {
      // Creating the throwaway model dispatches too (initialisation, poison): the off run counts that.
      const count = () => g.counters.dispatches + helper.counters.dispatches;
      let before = count();
      const off = await precompileTraining(g, CONFIG, sizes);
      const modelOnly = count() - before;
      expect([off.dispatched, off.devices]).toEqual([0, 0]);
      before = count();
      const helperBefore = helper.counters.dispatches;
      const on = await precompileTraining(g, CONFIG, sizes, { dispatchAhead: true, helpers: [helper] });
      expect(on.dispatched).toBeGreaterThan(20);
      expect(count() - before - 2 * modelOnly, 'one dispatch per distinct pipeline, beyond two throwaway models').toBe(on.dispatched);
      expect(on.devices).toBe(2);
      expect(helper.counters.dispatches - helperBefore, 'the helper took some').toBeGreaterThan(modelOnly);
    } finally {
      helper.destroy();
    }
  });

  it('leaves training bit-identical to training without it', async () => {
    const [plain, warmed, helper] = await Promise.all([createNodeGpu(), createNodeGpu(), createNodeGpu()]);
    try {
      const a = await trainAfterWarmup(plain!, null);
      const b = await trainAfterWarmup(warmed!, [helper!]);
      expect(a.length).toBe(b.length);
      a.forEach((t, i) => expect(Array.from(b[i]!), `tensor ${i}`).toEqual(Array.from(t)));
      expect(a[0]!.every(Number.isFinite)).toBe(true);
    } finally {
      [plain, warmed, helper].forEach((g) => g!.destroy());
    }
  });
});

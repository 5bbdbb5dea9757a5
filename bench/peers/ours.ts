// Our own whole-stage cases that the peers are paired with (ratio ours/peer in the same process): one
// training step and one inference pass of the SER model at batch 32 on the shared weights and batch of
// bench/peers/weights.ts, and the feature pipeline over the RAVDESS clips of clips.ts (upload, the
// GPU feature kernels and readback; decode/resample/trim happen once before timing).

import { GpuFeatureExtractor } from '../../src/dsp/gpu-features';
import type { Gpu, Tensor } from '../../src/gpu';
import { SerModel } from '../../src/nn/model';
import { Trainer } from '../../src/nn/train-step';
import type { BenchCase } from '../harness';
import { audioItems, loadClips } from './clips';
import { BATCH, reference } from './weights';

function modelCase(name: string, train: boolean): BenchCase {
  return {
    group: 'model',
    name,
    items: { count: BATCH, unit: 'samples' },
    setup(gpu: Gpu) {
      let state: { model: SerModel; trainer: Trainer; x: Tensor; labels: Tensor } | null = null;
      return {
        run: async () => {
          if (!state) {
            const ref = await reference(gpu);
            const model = new SerModel(gpu, ref.config, 0);
            model.importTensors(ref.weights);
            const c = ref.config;
            state = {
              model,
              trainer: new Trainer(model),
              x: gpu.upload(ref.input, [BATCH, c.inputRows, c.inputFrames, 1], 'f32', 'bench.x'),
              labels: gpu.upload(Uint32Array.from(ref.labels), [BATCH], 'u32', 'bench.labels'),
            };
          }
          (train ? state.trainer.step(state.x, state.labels) : state.trainer.predict(state.x)).dispose();
        },
        dispose: () => {
          if (!state) return;
          state.trainer.dispose();
          state.model.dispose();
          state.x.dispose();
          state.labels.dispose();
        },
      };
    },
  };
}

function featureCase(): BenchCase {
  const items = audioItems();
  return {
    group: 'features',
    name: 'ravdess batch 82x64',
    items,
    sampling: { minSamples: 3, maxTime: 2 },
    setup(gpu: Gpu) {
      let state: { extractor: GpuFeatureExtractor; signals: Float32Array[] } | null = null;
      return {
        run: async () => {
          if (!state) {
            const clips = await loadClips();
            items.count = clips.seconds;
            state = { extractor: new GpuFeatureExtractor(gpu, clips.config), signals: clips.signals };
          }
          await state.extractor.extract(state.signals);
        },
        dispose: () => state?.extractor.dispose(),
      };
    },
  };
}

export function ourStageCases(): BenchCase[] {
  return [modelCase('train step b32', true), modelCase('inference b32', false), featureCase()];
}

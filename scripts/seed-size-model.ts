// A model of the seed report's size for the browser's timing runs and tests (the microphone path's
// stop-to-answer latency): the SEED_MODEL network (Conv 32/64/128, dense 256/128, 8 RAVDESS classes)
// with its seeded random initialisation, untrained, and a scaler fitted on the features of the
// fixture clips. Its predictions mean nothing; its cost per prediction is that of any trained model
// of this architecture.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './build-browser';
import { defaultFeatureConfig } from '../src/dsp/config';
import { decodeAudio } from '../src/dsp/decode';
import { GpuFeatureExtractor } from '../src/dsp/gpu-features';
import { FeaturePipeline } from '../src/dsp/pipeline';
import type { Gpu } from '../src/gpu';
import { SEED_MODEL, SerModel } from '../src/nn/model';
import { saveModel } from '../src/train/model-files/saved-model.node.ts';
import { fitScaler } from '../src/train/data/scaler';

export const RAVDESS_CLASSES = ['neutral', 'calm', 'happy', 'sad', 'angry', 'fearful', 'disgust', 'surprised'];
const CLIPS = ['speech_a_m3_22050_mono.wav', 'speech_b_f2_16000_mono_padded.wav', 'speech_c_m1_44100_stereo.wav', 'speech_d_f4_48000_mono.wav'];

/** Writes the seed-size model and returns its folder (model.json + model.safetensors). */
export async function seedSizeModel(gpu: Gpu): Promise<string> {
  const config = { ...defaultFeatureConfig };
  const pipeline = new FeaturePipeline(config, new GpuFeatureExtractor(gpu, config));
  const items = await Promise.all(
    CLIPS.map(async (name) => ({ name, audio: await decodeAudio(readFileSync(join(repoRoot, 'test/fixtures/librosa/audio', name)), { fileName: name }) })),
  );
  const { clips } = await pipeline.fromDecoded(items);
  const scaler = fitScaler(clips.map((c) => c.features), clips.map((_, i) => i));
  const model = new SerModel(gpu, { ...SEED_MODEL, classes: RAVDESS_CLASSES.length }, 7);
  const dir = mkdtempSync(join(tmpdir(), 'ser-seed-model-'));
  await saveModel(dir, model, { modelConfig: model.config, featureConfig: config, scaler, classes: RAVDESS_CLASSES });
  model.dispose();
  return dir;
}

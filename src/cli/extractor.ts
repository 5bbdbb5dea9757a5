// The feature extractor the commands use: the WGSL pipeline on the runtime's device.

import type { FeatureConfig } from '../dsp/config';
import { GpuFeatureExtractor } from '../dsp/gpu-features';
import type { FeatureExtractor } from '../dsp/pipeline';
import type { Gpu } from '../gpu';

export function makeExtractor(gpu: Gpu, config: FeatureConfig): FeatureExtractor {
  return new GpuFeatureExtractor(gpu, config);
}

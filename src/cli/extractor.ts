// The feature extractor the CLI uses.

import type { FeatureConfig } from '../dsp/config';
import { type FeatureExtractor, ReferenceExtractor } from '../dsp/pipeline';
import type { Gpu } from '../gpu';

export function makeExtractor(_gpu: Gpu, config: FeatureConfig): FeatureExtractor {
  return new ReferenceExtractor(config);
}

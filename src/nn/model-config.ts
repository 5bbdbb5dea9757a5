// The model's configuration: the seed report's architecture (SEED_MODEL) and its validation. Kept apart
// from the model (model.ts, which re-exports these) so that option parsing and reports can read the
// architecture without loading the kernels.

import { ShapeError } from '../gpu/errors';

export interface ModelConfig {
  /** Feature rows and frames of one input (channels = 1). */
  inputRows: number;
  inputFrames: number;
  classes: number;
  stem: { filters: number; dropout: number };
  blocks: { filters: number; dropout: number }[];
  dense: { units: number; dropout: number }[];
  labelSmoothing: number;
  bnMomentum: number;
  bnEpsilon: number;
}

/** The seed report's architecture with the defaults. */
export const SEED_MODEL: Readonly<ModelConfig> = Object.freeze({
  inputRows: 82,
  inputFrames: 64,
  classes: 8,
  stem: { filters: 32, dropout: 0.2 },
  blocks: [
    { filters: 64, dropout: 0.3 },
    { filters: 128, dropout: 0.3 },
  ],
  dense: [
    { units: 256, dropout: 0.4 },
    { units: 128, dropout: 0.3 },
  ],
  labelSmoothing: 0.1,
  bnMomentum: 0.99,
  bnEpsilon: 1e-3,
});

export function modelConfig(partial: Partial<ModelConfig> = {}): ModelConfig {
  const c: ModelConfig = { ...structuredClone(SEED_MODEL as ModelConfig), ...partial };
  const bad = (msg: string) => new ShapeError(`model config: ${msg}`);
  for (const [k, v] of [['inputRows', c.inputRows], ['inputFrames', c.inputFrames], ['classes', c.classes]] as const) {
    if (!Number.isInteger(v) || v < 1) throw bad(`${k} must be a positive integer, got ${v}`);
  }
  if (c.classes < 2) throw bad(`classes must be at least 2, got ${c.classes}`);
  const rates = [c.stem.dropout, ...c.blocks.map((b) => b.dropout), ...c.dense.map((d) => d.dropout)];
  if (rates.some((r) => !(r >= 0 && r < 1))) throw bad(`dropout rates must lie in [0, 1), got ${rates.join(', ')}`);
  if (!(c.labelSmoothing >= 0 && c.labelSmoothing < 1)) throw bad(`labelSmoothing must lie in [0, 1), got ${c.labelSmoothing}`);
  // Every stage halves H and W (floor); the input must survive all of them.
  const pools = 1 + c.blocks.length;
  if (c.inputRows >> pools < 1 || c.inputFrames >> pools < 1) throw bad(`an input of ${c.inputRows}x${c.inputFrames} is too small for ${pools} 2x2 poolings`);
  return c;
}

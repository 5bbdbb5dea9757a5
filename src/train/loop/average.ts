// Stochastic weight averaging (Izmailov et al. 2018, "Averaging Weights Leads to Wider Optima"): from
// epoch `from` on, the weights at the end of every epoch join a running mean, and validation, the
// best-epoch choice and the saved model use that mean (with BN statistics recalibrated on it, as SWA
// requires) while training continues from the raw weights. The mean is book-keeping once per epoch
// on a few hundred thousand floats read back anyway for checkpoints, so it is kept on the CPU.
// Browser-safe.

import type { NamedTensors } from '../../nn/model';

export interface WeightAverage {
  /** Epochs averaged so far. */
  count: number;
  /** The running mean of each averaged tensor. */
  tensors: NamedTensors;
}

/** Checkpoint tensor names of the average: `swa.<name>`. */
export const AVERAGE_PREFIX = 'swa.';

/**
 * The average with `current`'s tensors `names` joined (mean += (x - mean) / (count + 1)); a fresh
 * average of them when `average` is null. Refuses a tensor whose shape changed.
 */
export function accumulateAverage(average: WeightAverage | null, current: NamedTensors, names: readonly string[]): WeightAverage {
  const count = (average?.count ?? 0) + 1;
  const tensors: NamedTensors = new Map();
  for (const name of names) {
    const x = current.get(name);
    if (!x) throw new RangeError(`weight average: no tensor '${name}'`);
    const prev = average?.tensors.get(name);
    if (!prev) {
      if (average) throw new RangeError(`weight average: '${name}' was not averaged before`);
      tensors.set(name, { shape: [...x.shape], data: Float32Array.from(x.data) });
      continue;
    }
    if (prev.shape.join() !== x.shape.join()) throw new RangeError(`weight average: '${name}' is [${x.shape}], averaged as [${prev.shape}]`);
    tensors.set(name, { shape: prev.shape, data: Float32Array.from(prev.data, (m, i) => m + (x.data[i]! - m) / count) });
  }
  return { count, tensors };
}

/** The average as checkpoint tensors (prefixed names). */
export function averageTensors(average: WeightAverage): NamedTensors {
  return new Map([...average.tensors].map(([n, t]) => [`${AVERAGE_PREFIX}${n}`, t]));
}

/** The average stored in checkpoint tensors, or null when there is none (count 0). */
export function averageFromTensors(tensors: NamedTensors, count: number, names: readonly string[]): WeightAverage | null {
  if (count === 0) return null;
  const out: NamedTensors = new Map();
  for (const n of names) {
    const t = tensors.get(`${AVERAGE_PREFIX}${n}`);
    if (!t) throw new RangeError(`checkpoint: weight average of '${n}' is missing`);
    out.set(n, t);
  }
  return { count, tensors: out };
}

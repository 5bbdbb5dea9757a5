// The kernels' dispatch hook for variants chosen per adapter: per runtime, a table from (kernel family,
// shape) to the name of the variant chosen by measurement on this adapter (by the layer above the
// runtime, which installs it). A kernel with more than one implementation asks chosenVariant() before it
// builds its pipeline and keeps its built-in default when the answer is undefined (no table installed,
// or this shape never measured). The table lives beside the
// runtime (a WeakMap), not in it, so the pipeline cache and recording stay untouched; which pipeline a
// variant compiles is already part of that kernel's pipeline key. Browser-safe.

import type { Gpu } from './runtime';

/** The chosen variant of every measured (family, shape): `${family}|${shape}` -> variant name. */
export type VariantTable = ReadonlyMap<string, string>;

const tables = new WeakMap<Gpu, Map<string, string>>();

export const choiceKey = (family: string, shape: string): string => `${family}|${shape}`;

/** Install a table of choices on a runtime (replacing any earlier table). */
export function setChoices(gpu: Gpu, table: VariantTable): void {
  tables.set(gpu, new Map(table));
}

/** The table installed on a runtime, if any (to give another runtime on the same adapter the same choices). */
export function choicesOf(gpu: Gpu): VariantTable | undefined {
  return tables.get(gpu);
}

/** Forget every choice: the kernels go back to their built-in defaults. */
export function clearChoices(gpu: Gpu): void {
  tables.delete(gpu);
}

/** The variant chosen for `family` at `shape` on this runtime, or undefined (use the default). */
export function chosenVariant(gpu: Gpu, family: string, shape: string): string | undefined {
  return tables.get(gpu)?.get(choiceKey(family, shape));
}

/**
 * Run `fn` with `variant` forced for (family, shape) and the table restored afterwards (the timing
 * loop that measures the candidates; tests). Synchronous work only: the kernels read the table while recording.
 */
export function withVariant<T>(gpu: Gpu, family: string, shape: string, variant: string, fn: () => T): T {
  const had = tables.get(gpu);
  const table = new Map(had ?? []);
  table.set(choiceKey(family, shape), variant);
  tables.set(gpu, table);
  try {
    return fn();
  } finally {
    if (had) tables.set(gpu, had);
    else tables.delete(gpu);
  }
}

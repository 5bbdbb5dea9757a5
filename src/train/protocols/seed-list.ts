// What a --seeds list must be, apart from the seeds protocol (seeds.ts) so that option parsing can check it
// without loading the training code.

/** Whether `seeds` is a usable --seeds list: at least two, different, non-negative whole numbers. */
export function validSeeds(seeds: readonly number[]): boolean {
  return seeds.length >= 2 && new Set(seeds).size === seeds.length && seeds.every((s) => Number.isInteger(s) && s >= 0);
}

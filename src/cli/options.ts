// Parsers for numeric command-line options: each failure names the flag and the value.

import { InvalidArgumentError } from 'commander';
import { validSeeds } from '../train/protocols/seed-list';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got '${value}'`);
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a non-negative integer, got '${value}'`);
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number, got '${value}'`);
  return n;
}

export function fraction(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n >= 1) throw new InvalidArgumentError(`expected a fraction strictly between 0 and 1, got '${value}'`);
  return n;
}

/** A probability that is not 0: (0, 1]. */
export function probability(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 1) throw new InvalidArgumentError(`expected a probability above 0 and at most 1, got '${value}'`);
  return n;
}

export function list(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

/** A parser of `lo:hi` (lo <= hi, both within [min, max]). */
export function rangeWithin(min: number, max: number): (value: string) => [number, number] {
  return (value) => {
    const parts = value.split(':').map((p) => Number(p.trim()));
    const [lo, hi] = parts;
    if (parts.length !== 2 || !Number.isFinite(lo) || !Number.isFinite(hi) || lo! > hi! || lo! < min || hi! > max) {
      throw new InvalidArgumentError(`expected lo:hi with ${min} <= lo <= hi <= ${max}, got '${value}'`);
    }
    return [lo!, hi!];
  };
}

/** A parser of a number within [min, max] (integers only when `integer`). */
export function numberWithin(min: number, max: number, integer = false): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got '${value}'`);
    }
    return n;
  };
}

/** A parser of `count:width` (whole numbers: count within [counts], width within [widths]). */
export function countWidth(counts: readonly [number, number], widths: readonly [number, number]): (value: string) => [number, number] {
  return (value) => {
    const parts = value.split(':').map((p) => (p.trim() === '' ? NaN : Number(p)));
    const [k, w] = parts;
    if (parts.length !== 2 || !Number.isInteger(k) || !Number.isInteger(w) || k! < counts[0] || k! > counts[1] || w! < widths[0] || w! > widths[1]) {
      throw new InvalidArgumentError(`expected count:width with whole numbers, count ${counts.join('..')} and width ${widths.join('..')}, got '${value}'`);
    }
    return [k!, w!];
  };
}

/** A parser of fold numbers: `2`, `1,3` or a range `2-4` (whole numbers from 1, no repeats). */
export function foldList(value: string): number[] {
  const range = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(value);
  const folds = range ? Array.from({ length: Math.max(0, Number(range[2]) - Number(range[1]) + 1) }, (_, i) => Number(range[1]) + i) : value.split(',').map((v) => (v.trim() === '' ? NaN : Number(v)));
  if (folds.length === 0 || new Set(folds).size !== folds.length || !folds.every((f) => Number.isInteger(f) && f >= 1)) {
    throw new InvalidArgumentError(`expected fold numbers from 1, different, as a,b or lo-hi, got '${value}'`);
  }
  return folds;
}

/** A parser of seeds: `0,1,2` or a range `0-4` (whole numbers, no repeats). */
export function seedList(value: string): number[] {
  const range = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(value);
  const seeds = range ? Array.from({ length: Math.max(0, Number(range[2]) - Number(range[1]) + 1) }, (_, i) => Number(range[1]) + i) : value.split(',').map((v) => (v.trim() === '' ? NaN : Number(v)));
  if (!validSeeds(seeds)) {
    throw new InvalidArgumentError(`expected at least two different non-negative whole numbers as a,b,c or lo-hi, got '${value}'`);
  }
  return seeds;
}

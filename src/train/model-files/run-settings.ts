// The settings a `ser train` run started with, as its command line gave them: every train option's
// effective value (defaults included) by commander's attribute name, which of them were on the command
// line, and the working folder that relative paths were given from. Every checkpoint carries them
// (checkpoint.json `settings`), so that `ser train --resume DIR` alone continues the run exactly as it
// started (cli/train-settings.ts restores them); a --seeds run's seed folders carry the record of
// their own seed (forSeed). `data` is always recorded as the list of values given (none: the
// synthetic corpus), so that a single `--data DIR` and several (`--data NAME=DIR ...`) both restore.
// Browser-safe (plain data).

export const RUN_SETTINGS_FORMAT = 'ser-train-settings/1';

export interface RunSettings {
  format: typeof RUN_SETTINGS_FORMAT;
  /** Effective option values by attribute name (`batch`, `lrSchedule`, ...); absent: not set. */
  values: Record<string, unknown>;
  /** Attribute names of the options given on the command line (the rest took their defaults). */
  given: string[];
  /** The working folder of the command (relative --data and --cache paths are relative to it). */
  cwd: string;
}

/** `--data` as the list of values given, whether the option held one string or an array. */
export function dataList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

/** A --seeds run's record as the single run of one of its seeds (what `--resume OUT/seed-<s>` restores). */
export function forSeed(settings: RunSettings, seed: number): RunSettings {
  const { seeds: _seeds, ...values } = settings.values;
  return { ...settings, values: { ...values, seed }, given: [...settings.given.filter((k) => k !== 'seeds' && k !== 'seed'), 'seed'] };
}

/** True for a parsed value that is a run-settings record of this format. */
export function isRunSettings(v: unknown): v is RunSettings {
  const s = v as RunSettings | null;
  return !!s && typeof s === 'object' && s.format === RUN_SETTINGS_FORMAT && typeof s.values === 'object' && Array.isArray(s.given) && typeof s.cwd === 'string';
}

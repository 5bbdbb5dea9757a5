// `ser train --resume DIR` restores the run: the settings the run started with (run-settings.ts, in
// DIR/checkpoint.json) replace every option not given now, so `--resume DIR` alone continues with the
// same data, split, batch, epochs, schedule, augmentation, windows, masks and seeds. An option given
// now that differs from the recorded one is refused with both values, except the run's length
// (`--epochs`, `--patience`: a finished or stopped run may go further; a cosine schedule, which
// depends on the length, may not) and `--cache` (a location). A run that has finished under the
// effective length is not trained again. Checkpoints written before settings were recorded resume
// with the flags given, as before, with a note.

import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { Command, Option } from 'commander';
import { dataList, isRunSettings, RUN_SETTINGS_FORMAT, type RunSettings } from '../train/model-files/run-settings';

/** Options that are not settings of the run (where it writes, how it prints). */
const NOT_RECORDED = new Set(['resume', 'out', 'json']);
/** Options that may change on resume: how long the run goes on, and where features are cached. */
const MAY_CHANGE = new Set(['epochs', 'patience', 'cache']);
/** Options holding paths, resolved against the recorded working folder when resumed from another. */
const PATHS = new Set(['data', 'cache']);

const optionOf = (cmd: Command, key: string): Option | undefined => cmd.options.find((o) => o.attributeName() === key);
const givenNow = (cmd: Command, key: string) => ['cli', 'env'].includes(cmd.getOptionValueSource(key) ?? '');
const same = (key: string, a: unknown, b: unknown) => (key === 'data' ? JSON.stringify(dataList(a)) === JSON.stringify(dataList(b)) : JSON.stringify(a ?? null) === JSON.stringify(b ?? null));

/** The settings of this command line: every recorded option's effective value, and which were given. */
export function recordSettings(cmd: Command): RunSettings {
  const values: Record<string, unknown> = {};
  const given: string[] = [];
  for (const o of cmd.options) {
    const key = o.attributeName();
    if (NOT_RECORDED.has(key)) continue;
    const v = cmd.getOptionValue(key);
    if (v !== undefined) values[key] = key === 'data' ? dataList(v) : v;
    if (givenNow(cmd, key)) given.push(key);
  }
  return { format: RUN_SETTINGS_FORMAT, values, given, cwd: process.cwd() };
}

/** `--flag value` as typed (lists and ranges joined back), or `without --flag`. */
export function describeOption(o: Option | undefined, key: string, v: unknown): string {
  const flag = o?.long ?? `--${key}`;
  if (key === 'data') return dataList(v).length ? dataList(v).map((d) => `${flag} ${d}`).join(' ') : `without ${flag} (the synthetic corpus)`;
  const takesValue = o ? o.required || o.optional : v !== true;
  if (v === undefined || v === null || (!takesValue && v === false)) return `without ${flag}`;
  if (!takesValue) return flag;
  if (v === false) return `${flag} off`;
  if (Array.isArray(v)) return `${flag} ${v.join(o?.flags.includes(':') ? ':' : ',')}`;
  return `${flag} ${String(v)}`;
}

/** A recorded value in the shape the option holds now (`data`: one string, or an array when repeatable). */
function optionValue(o: Option, key: string, v: unknown, record: RunSettings): unknown {
  const fromCwd = (p: string) => (isAbsolute(p) || record.cwd === process.cwd() ? p : resolve(record.cwd, p));
  if (key === 'data') {
    const list = dataList(v).map((d) => {
      const named = /^([\w.-]+)=(.+)$/.exec(d);
      return named && !existsSync(resolve(record.cwd, d)) ? `${named[1]}=${fromCwd(named[2]!)}` : fromCwd(d);
    });
    if (list.length === 0) return undefined;
    let repeatable = o.variadic || Array.isArray(o.defaultValue);
    try {
      repeatable ||= Array.isArray(o.parseArg?.('x', [] as never));
    } catch {
      // a parser that refuses 'x' holds single values
    }
    if (repeatable) return list;
    if (list.length > 1) throw new Error(`the run was started with ${list.length} --data folders, which this version of ser train cannot take`);
    return list[0];
  }
  return PATHS.has(key) && typeof v === 'string' ? fromCwd(v) : v;
}

export interface Restored {
  /** Said to the user: where the settings came from and what they are. */
  note: string;
  /** Set when the run has nothing left to do at the effective length (why, and how to go further). */
  finished?: string;
}

interface CheckpointHead {
  settings?: unknown;
  loop?: { epoch: number; bestEpoch: number; sinceBest: number };
}

function readHead(dir: string): CheckpointHead {
  const path = join(dir, 'checkpoint.json');
  if (!existsSync(path)) {
    const parent = dirname(dir);
    if (existsSync(join(dir, 'seeds-settings.json')) || existsSync(join(dir, 'folds-settings.json'))) {
      throw new Error(`--resume ${dir}: this folder holds a --seeds or --folds run, which continues when its command is repeated (leave --resume out)`);
    }
    if (/^fold-\d+$/.test(basename(dir)) && existsSync(join(parent, 'folds-settings.json'))) {
      throw new Error(`--resume ${dir}: a fold of the --folds run in ${parent}, which continues when its command is repeated`);
    }
    throw new Error(`--resume ${dir}: no checkpoint.json there (a run writes one after its first completed epoch)`);
  }
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as CheckpointHead;
  } catch (e) {
    throw new Error(`--resume ${dir}: cannot read checkpoint.json (${(e as Error).message})`);
  }
}

/**
 * Puts DIR's recorded settings into `cmd`'s option values (those given now are checked against them),
 * so that the action reads the restored flags from `cmd.opts()`. Throws on a conflict.
 */
export function restoreSettings(dir: string, cmd: Command): Restored {
  const head = readHead(dir);
  const out = cmd.getOptionValue('out') as string | undefined;
  if (out !== undefined && resolve(out) !== resolve(dir)) throw new Error(`--resume ${dir} continues the run in ${dir}: leave --out ${out} out`);
  if (head.settings === undefined) {
    return { note: `${dir}/checkpoint.json records no settings (written before ser recorded them): continuing with the options given now, which must be the ones the run started with` };
  }
  if (!isRunSettings(head.settings)) throw new Error(`--resume ${dir}: checkpoint.json's settings are not a '${RUN_SETTINGS_FORMAT}' record`);
  const record = head.settings;
  const v = record.values;
  if (v.folds !== undefined) throw new Error(`--resume ${dir}: a fold of a --folds ${String(v.folds)} run, which continues when its command is repeated`);
  for (const key of Object.keys(v)) {
    if (!optionOf(cmd, key)) throw new Error(`--resume ${dir}: the run was started with ${describeOption(undefined, key, v[key])}, an option this version of ser train does not have`);
  }
  const changed: string[] = [];
  for (const o of cmd.options) {
    const key = o.attributeName();
    if (NOT_RECORDED.has(key)) continue;
    if (givenNow(cmd, key)) {
      if (same(key, cmd.getOptionValue(key), v[key])) continue;
      if (!MAY_CHANGE.has(key)) {
        const was = describeOption(o, key, v[key]);
        throw new Error(`${describeOption(o, key, cmd.getOptionValue(key))} conflicts with the run in ${dir}, started ${was.startsWith('without') ? was : `with ${was}`}: leave ${o.long} out to continue it as it started (on --resume only --epochs, --patience and --cache may change), or start a new run with another --out`);
      }
      changed.push(describeOption(o, key, cmd.getOptionValue(key)));
      continue;
    }
    cmd.setOptionValueWithSource(key, optionValue(o, key, v[key], record), record.given.includes(key) ? 'cli' : 'default');
  }
  const epochs = cmd.getOptionValue('epochs') as number;
  const patience = cmd.getOptionValue('patience') as number;
  if (epochs !== v.epochs && cmd.getOptionValue('lrSchedule') === 'cosine') {
    throw new Error(`--epochs ${epochs}: the run in ${dir} decays its rate over its ${String(v.epochs)} epochs (--lr-schedule cosine), which a different length would change; resume it without --epochs, or start a new run`);
  }
  const state = head.loop;
  if (state && state.epoch > epochs) throw new Error(`--epochs ${epochs} is fewer than the ${state.epoch} epochs the run in ${dir} has trained`);
  const shown = [...new Set([...record.given, 'epochs', 'batch', 'seed'])].filter((k) => k !== 'cache');
  const note = `continuing ${dir} with the settings it started with: ${shown.map((k) => describeOption(optionOf(cmd, k), k, cmd.getOptionValue(k))).join(' ')}${changed.length ? ` (changed now: ${changed.join(' ')})` : ''}`;
  if (state && (state.epoch >= epochs || (patience > 0 && state.sinceBest >= patience))) {
    const [why, further] = state.epoch >= epochs
      ? [`all ${epochs} epochs are trained`, 'a larger --epochs']
      : [`it stopped early after epoch ${state.epoch}, ${state.sinceBest} epochs without improvement (--patience ${patience})`, 'a larger --patience (0: no early stopping)'];
    return { note, finished: `${dir} has finished: ${why}, best epoch ${state.bestEpoch}. Nothing to continue; ${further} trains it further` };
  }
  return { note };
}

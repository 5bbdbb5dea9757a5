// What the multi-run protocols (`ser train --seeds`, `--folds`) share so that a stopped protocol
// continues when the same command is repeated: the settings file that pins every run's flags beside
// the run folders (other settings in the same OUT are refused, so finished runs are never mixed with
// runs of another recipe), and the test of whether a run folder holds a finished run.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoopOptions } from './loop';

/**
 * Writes OUT/<file> with `settings` (as JSON), or, when it is already there, checks that it holds the
 * same settings; `what` names the protocol in the error ('--seeds', '--folds').
 */
export function claimSettings(out: string, file: string, settings: unknown, what: string): void {
  const json = JSON.stringify(settings, null, 2);
  const path = join(out, file);
  if (existsSync(path) && readFileSync(path, 'utf8').trim() !== json) {
    throw new RangeError(`${out} holds a ${what} run with other settings (${path}); use another --out, or the same flags to continue it`);
  }
  mkdirSync(out, { recursive: true });
  writeFileSync(path, `${json}\n`);
}

/**
 * The parsed report.json of a run folder when the run in it finished (all epochs ran, or early
 * stopping ended it), else null (no report, or a run stopped by Ctrl-C, which writes one too).
 */
export function finishedReport(dir: string, loop: Pick<LoopOptions, 'epochs' | 'patience'>): any | null {
  const path = join(dir, 'report.json');
  if (!existsSync(path)) return null;
  const r = JSON.parse(readFileSync(path, 'utf8'));
  const n = r.epochs.length as number;
  if (n < loop.epochs && !(loop.patience > 0 && n - r.bestEpoch >= loop.patience)) return null;
  return r;
}

/** True when a run folder holds a checkpoint to resume from. */
export function hasCheckpoint(dir: string): boolean {
  return existsSync(join(dir, 'checkpoint.json'));
}

// What the multi-run protocols (`ser train --seeds`, `--folds`) share so that a stopped protocol
// continues when the same command is repeated: the settings file that pins every run's flags beside
// the run folders (other settings in the same OUT are refused, so finished runs are never mixed with
// runs of another recipe), and the test of whether a run folder holds a finished run.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoopOptions } from '../loop/loop';

/** The settings with the run length left out (`loop.epochs`), to compare two protocols' recipes. */
function withoutEpochs(settings: any): string {
  return JSON.stringify({ ...settings, loop: { ...settings?.loop, epochs: null } });
}

/**
 * Writes OUT/<file> with `settings` (as JSON), or, when it is already there, checks that it holds the
 * same settings; `what` names the protocol in the error ('--seeds', '--folds'). The one change allowed
 * is a larger `loop.epochs`: every run then counts as unfinished and continues from its checkpoint
 * (finishedReport), which ends as a run trained that long from the start would (the loop's state, the
 * plateau rule's included, is all in the checkpoint; nothing depends on the planned length except a
 * cosine schedule, which is refused). A smaller one is refused: finished runs would pass for shorter ones.
 */
export function claimSettings(out: string, file: string, settings: { [key: string]: unknown; loop: { epochs: number; schedule?: { kind: string } } }, what: string): void {
  const json = JSON.stringify(settings, null, 2);
  const path = join(out, file);
  if (existsSync(path)) {
    const text = readFileSync(path, 'utf8').trim();
    if (text !== json) {
      const old = JSON.parse(text);
      const longer = withoutEpochs(old) === withoutEpochs(settings) && settings.loop.epochs > old.loop?.epochs;
      if (!longer) throw new RangeError(`${out} holds a ${what} run with other settings (${path}); use another --out, or the same flags to continue it (a larger --epochs continues every run further)`);
      if (settings.loop.schedule?.kind === 'cosine') throw new RangeError(`${out} holds a ${what} run of ${old.loop.epochs} epochs with a cosine schedule, which depends on the run's length: it cannot be continued to ${settings.loop.epochs} epochs; use another --out`);
    }
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

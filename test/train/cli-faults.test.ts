// `ser train` as a process under faults: SIGKILL in the second epoch, then `--resume DIR` alone (the
// settings come from the checkpoint), ends with byte-identical weights to an uninterrupted run (atomic
// checkpoints, seeded shuffles and dropout); an option that conflicts with the recorded one is refused
// with both values, a finished run is not trained again, and a larger --epochs trains it further;
// Ctrl-C (SIGINT) stops after the last completed epoch, still writes the model and report, exits 0.
// The uninterrupted run prints --json: stdout is the JSON alone, the messages go to stderr, without
// Dawn's adapter warnings.

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { synthCorpus } from '../../src/train/data/synth';
import { writeSynthCorpus } from '../../src/train/data/synth.node.ts';

const BIN = join(__dirname, '../../bin/ser.mjs');
const root = mkdtempSync(join(tmpdir(), 'ser-faults-'));
const data = join(root, 'data');
writeSynthCorpus(data, synthCorpus({ speakers: 2, clipsPerClassPerSpeaker: 2, seed: 11, classes: ['neutral', 'happy', 'sad', 'angry'] }), { layout: 'ravdess' });
const flags = (out: string) => ['train', '--data', data, '--epochs', '3', '--batch', '4', '--seed', '7', '--patience', '0', '--bn-momentum', '0.5', '--cache', join(root, 'cache'), '--out', out];

function completedEpochs(out: string): number {
  try {
    return JSON.parse(readFileSync(join(out, 'checkpoint.json'), 'utf8')).loop.history.length;
  } catch {
    return 0; // not written yet (or being renamed into place)
  }
}

/** Start `ser train`, send `signal` once the first epoch is checkpointed; resolves with the exit. */
function interrupt(out: string, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...flags(out)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setInterval(() => {
      if (completedEpochs(out) >= 1) {
        clearInterval(timer);
        child.kill(signal);
      }
    }, 50);
    child.on('error', reject);
    child.on('exit', (code, sig) => {
      clearInterval(timer);
      resolve({ code, signal: sig, stderr });
    });
  });
}

const read = (out: string, file: string) => readFileSync(join(out, file));
const sha = (out: string, file: string) => createHash('sha256').update(read(out, file)).digest('hex');
const ser = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
/** The checkpoint's epochs without their timings (which differ from run to run). */
const history = (out: string) =>
  (JSON.parse(readFileSync(join(out, 'checkpoint.json'), 'utf8')).loop.history as Record<string, number>[]).map(({ seconds: _s, samplesPerSecond: _p, ...e }) => e);

describe('ser train under faults', () => {
  const whole = join(root, 'whole');
  it('an uninterrupted run (the reference), with --json: stdout is the JSON, messages on stderr, no Dawn warnings', () => {
    // stderr to a file of its own, as `2> file` (a Node parent's pipe is a socket, which the filter leaves alone).
    const errPath = join(root, 'whole-stderr.txt');
    const fd = openSync(errPath, 'w');
    const r = spawnSync(process.execPath, [BIN, ...flags(whole), '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', fd] });
    closeSync(fd);
    const stderr = readFileSync(errPath, 'utf8');
    expect(r.status, stderr).toBe(0);
    expect(completedEpochs(whole)).toBe(3);
    const printed = JSON.parse(r.stdout);
    expect(printed.out).toBe(whole);
    expect(printed.bestEpoch).toBeGreaterThanOrEqual(1);
    expect(stderr).toMatch(/split: .*\n[^]*epoch 3: train loss/);
    expect(stderr).not.toMatch(/artificially reduced|^Warning:/m);
  }, 600_000);

  const killed = join(root, 'killed');
  it('kill -9 in the second epoch, then --resume DIR alone: the same weights as the uninterrupted run', async () => {
    const stopped = await interrupt(killed, 'SIGKILL');
    expect(stopped.signal).toBe('SIGKILL');
    const done = completedEpochs(killed);
    expect(done).toBeGreaterThanOrEqual(1);
    expect(done).toBeLessThan(3);
    const r = ser('train', '--resume', killed);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/continuing .*killed with the settings it started with: --data \S+ --epochs 3 --batch 4 --seed 7 --patience 0 --bn-momentum 0\.5/);
    expect(r.stdout).toMatch(/resuming after epoch \d/);
    expect(r.stdout).toMatch(/batch 4, up to 3 epochs/);
    expect(completedEpochs(killed)).toBe(3);
    expect(sha(killed, 'model.safetensors')).toBe(sha(whole, 'model.safetensors'));
    expect(sha(killed, 'checkpoint.safetensors')).toBe(sha(whole, 'checkpoint.safetensors'));
  }, 600_000);

  it('refuses an option that conflicts with the recorded one, naming it and both values', () => {
    const before = sha(killed, 'checkpoint.safetensors');
    for (const [args, message] of [
      [['--batch', '8'], /--batch 8 conflicts with the run in \S+killed, started with --batch 4: leave --batch out/],
      [['--data', join(root, 'elsewhere')], /--data \S+elsewhere conflicts with the run in \S+killed, started with --data \S+data:/],
      [['--augment'], /--augment conflicts with the run in \S+killed, started without --augment/],
      [['--lr-schedule', 'cosine'], /--lr-schedule cosine conflicts with the run in \S+killed, started with --lr-schedule plateau/],
      [['--epochs', '2'], /--epochs 2 is fewer than the 3 epochs the run in \S+killed has trained/],
      [['--out', join(root, 'other')], /--resume \S+killed continues the run in \S+killed: leave --out \S+other out/],
    ] as const) {
      const r = ser('train', '--resume', killed, ...args);
      expect(r.status, `${args.join(' ')}: ${r.stdout}`).toBe(1);
      expect(r.stderr).toMatch(message);
    }
    expect(ser('train', '--resume', join(root, 'nowhere')).stderr).toMatch(/--resume \S+nowhere: no checkpoint\.json there/);
    expect(sha(killed, 'checkpoint.safetensors')).toBe(before);
  }, 600_000); // seven process starts, no training: minutes on a loaded 2-core machine

  it('does not train a finished run again; a larger --epochs trains it further with the other settings kept', () => {
    const mtime = statSync(join(killed, 'checkpoint.safetensors')).mtimeMs;
    const again = ser('train', '--resume', killed);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/has finished: all 3 epochs are trained, best epoch \d+\. Nothing to continue; a larger --epochs trains it further/);
    expect(statSync(join(killed, 'checkpoint.safetensors')).mtimeMs).toBe(mtime);
    const longer = ser('train', '--resume', killed, '--epochs', '4');
    expect(longer.status, longer.stderr).toBe(0);
    expect(longer.stdout).toMatch(/\(changed now: --epochs 4\)/);
    expect(longer.stdout).toMatch(/resuming after epoch 3 .*\n[^]*batch 4, up to 4 epochs/);
    const h = history(killed);
    expect(h.map((e) => e.epoch)).toEqual([1, 2, 3, 4]);
    expect(h.slice(0, 3)).toEqual(history(whole));
    // The record now says 4 epochs: a bare --resume finds the run finished at 4.
    expect(JSON.parse(read(killed, 'checkpoint.json').toString()).settings.values.epochs).toBe(4);
    expect(ser('train', '--resume', killed).stdout).toMatch(/all 4 epochs are trained/);
  }, 600_000);

  it('Ctrl-C stops after the last completed epoch, keeps the checkpoint, writes model and report, exits 0', async () => {
    const out = join(root, 'interrupted');
    const stopped = await interrupt(out, 'SIGINT');
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stderr).toMatch(/stopping: the last completed epoch is checkpointed; continue with --resume/);
    for (const f of ['model.json', 'model.safetensors', 'checkpoint.json', 'report.json', 'report.md']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(completedEpochs(out)).toBeGreaterThanOrEqual(1);
  }, 600_000);
});

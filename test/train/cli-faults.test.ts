// `ser train` as a process under faults: SIGKILL after the first checkpoint, then --resume, ends with
// byte-identical weights to an uninterrupted run (atomic checkpoints, seeded shuffles and dropout);
// Ctrl-C (SIGINT) stops after the last completed epoch, still writes the model and report, exits 0.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { synthCorpus } from '../../src/train/synth';
import { writeSynthCorpus } from '../../src/train/synth.node.ts';

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

describe('ser train under faults', () => {
  const whole = join(root, 'whole');
  it('an uninterrupted run (the reference)', () => {
    const r = spawnSync(process.execPath, [BIN, ...flags(whole)], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(completedEpochs(whole)).toBe(3);
  }, 600_000);

  it('kill -9 after the first checkpoint, then --resume: the same weights as the uninterrupted run', async () => {
    const out = join(root, 'killed');
    const killed = await interrupt(out, 'SIGKILL');
    expect(killed.signal).toBe('SIGKILL');
    const done = completedEpochs(out);
    expect(done).toBeGreaterThanOrEqual(1);
    const r = spawnSync(process.execPath, [BIN, ...flags(out), '--resume', out], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/resuming after epoch \d/);
    expect(completedEpochs(out)).toBe(3);
    expect(read(out, 'checkpoint.safetensors').equals(read(whole, 'checkpoint.safetensors'))).toBe(true);
    expect(read(out, 'model.safetensors').equals(read(whole, 'model.safetensors'))).toBe(true);
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

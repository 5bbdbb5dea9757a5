// `ser train` end to end on a tiny config: train, evaluate and predict on a generated corpus; resume
// after an interruption, or of a finished run for more epochs, ends with exactly the weights of an
// uninterrupted run; checkpoints of another config are refused; bad data folders and flags fail with
// clear messages before any training.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FeatureConfig } from '../../src/dsp/config';
import type { Gpu } from '../../src/gpu';
import { GpuFeatureExtractor } from '../../src/dsp/gpu-features';
import { scaledDropout } from '../../src/cli/train';
import { defaultLoopOptions, meanCrossEntropy } from '../../src/train/loop/loop';
import { argmaxRows, classificationReport } from '../../src/train/scores/metrics';
import { readValidationLogits } from '../../src/train/scores/val-logits.node.ts';
import { predictFiles } from '../../src/train/inference/infer.node.ts';
import { trainRun, type TrainRunOptions } from '../../src/train/protocols/run.node.ts';
import { loadModel } from '../../src/train/model-files/saved-model.node.ts';
import type { Emotion } from '../../src/train/data/labels';
import { synthCorpus } from '../../src/train/data/synth';
import { writeSynthCorpus } from '../../src/train/data/synth.node.ts';
import { useGpu } from '../harness';
import { TINY_MODEL } from './tiny-run';

const gpu = useGpu();
const BIN = join(__dirname, '../../bin/ser.mjs');

function corpusOf(classes: Emotion[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'ser-run-'));
  const clips = synthCorpus({ speakers: 2, clipsPerClassPerSpeaker: 2, seed: 3, classes });
  writeSynthCorpus(dir, clips, { layout: 'ravdess' });
  return dir;
}
const corpus = () => corpusOf(['neutral', 'happy', 'sad', 'angry']);

function options(g: Gpu, data: string, out: string, epochs: number, extra: Partial<TrainRunOptions> = {}): [Gpu, (c: FeatureConfig) => GpuFeatureExtractor, TrainRunOptions] {
  return [
    g,
    (c) => new GpuFeatureExtractor(g, c),
    {
      data,
      split: 'random',
      val: 0.25,
      out,
      cacheDir: join(out, 'cache'),
      lr: 3e-3,
      loop: { ...defaultLoopOptions, epochs, batch: 4, seed: 5, patience: 0, readEvery: 2 },
      model: TINY_MODEL,
      features: { frames: 16 },
      log: () => {},
      ...extra,
    },
  ];
}

describe('ser train on a tiny config', () => {
  const data = corpus();

  it('trains, writes the model files and report, and the saved model evaluates and predicts', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ser-out-'));
    // With the pipelines compiled ahead by dispatch on two devices (vitest.config.ts turns it off elsewhere).
    const lines: string[] = [];
    process.env.SER_COMPILE_AHEAD = '2';
    const r = await trainRun(...options(gpu(), data, out, 2, { log: (l) => lines.push(l) })).finally(() => delete process.env.SER_COMPILE_AHEAD);
    expect(lines.filter((l) => /compiled \d+ GPU pipelines ahead of training on 2 devices/.test(l))).toHaveLength(1);
    expect(r.classes).toEqual(['neutral', 'happy', 'sad', 'angry']);
    expect(r.state.history).toHaveLength(2);
    expect(r.split.val.length).toBe(4);
    // Each epoch's validation predictions are kept (val-logits.jsonl) and agree with its history line.
    const recs = readValidationLogits(out);
    expect(recs.map((v) => v.epoch)).toEqual([1, 2]);
    recs.forEach((v, e) => {
      expect(v.val).toEqual(r.split.val);
      expect(v.classes).toBe(4);
      const pred = argmaxRows(Float32Array.from(v.logp), 4);
      expect(pred.filter((p, i) => p === v.labels[i]).length / v.labels.length).toBe(r.state.history[e]!.valAccuracy);
      expect(r.state.history[e]!.valUar).toBe(classificationReport(v.labels, pred, r.classes).uar);
      expect(meanCrossEntropy(Float32Array.from(v.logp), v.labels, 4, 0.1)).toBeCloseTo(r.state.history[e]!.valLoss!, 4);
    });
    const { writeReport } = await import('../../src/train/protocols/report.node.ts');
    await writeReport(r);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.protocol.kind).toBe('stratified');
    // The epoch table of report.md carries each epoch's validation UAR.
    const uarCells = readFileSync(join(out, 'report.md'), 'utf8').split('\n').filter((l) => /^\| [12] \|/.test(l)).map((l) => l.split('|')[6]!.trim());
    expect(uarCells).toEqual(r.state.history.map((h) => (100 * h.valUar!).toFixed(1)));
    const split = JSON.parse(readFileSync(join(out, 'split.json'), 'utf8'));
    expect(split.kind).toBe('stratified');
    expect(split.valFiles).toHaveLength(report.valExamples);
    expect(split.valFiles.every((f: string) => /^Actor_\d+\/.+\.wav$/.test(f))).toBe(true);
    expect(readFileSync(join(out, 'confusion.svg'), 'utf8')).toMatch(/^<svg/);
    expect(readFileSync(join(out, 'curves.svg'), 'utf8')).toMatch(/^<svg/);
    const loaded = await loadModel(gpu(), out);
    expect(loaded.meta.classes).toEqual(r.classes);
    expect(loaded.meta.featureConfig.frames).toBe(16);
    const files = [join(data, 'Actor_01', readdir(join(data, 'Actor_01'))[0]!)];
    const { predictions } = await predictFiles(gpu(), loaded, files, (c) => new GpuFeatureExtractor(gpu(), c));
    const p = predictions[0]!;
    expect(Object.keys(p.probabilities)).toEqual(r.classes);
    expect(Object.values(p.probabilities).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(r.classes).toContain(p.label);
    loaded.model.dispose();
    // The CLI over the same files: predict --json and evaluate --json.
    const json = JSON.parse(execFileSync(process.execPath, [BIN, 'predict', '--model', out, '--json', files[0]!], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    expect(json.file).toBe(files[0]);
    expect(json.probabilities[json.label]).toBeGreaterThan(0);
    const ev = JSON.parse(execFileSync(process.execPath, [BIN, 'evaluate', '--model', out, '--data', data, '--json', '--cache', join(out, 'cache', 'features')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    expect(Object.keys(ev)).toEqual(['accuracy', 'uar', 'macroF1', 'classes', 'confusion', 'perClass', 'n']);
    expect(ev.n).toBe(16);
    // --held-out scores the validation clips of split.json only: the report's figures again.
    const held = JSON.parse(execFileSync(process.execPath, [BIN, 'evaluate', '--model', out, '--data', data, '--held-out', '--json', '--cache', join(out, 'cache', 'features')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    expect(held.n).toBe(r.split.val.length);
    expect(held.accuracy).toBe(r.report.accuracy);
    expect(held.confusion).toEqual(r.report.confusion);
    // Against another data folder the validation clips are missing: refused, naming one.
    const other = spawnSync(process.execPath, [BIN, 'evaluate', '--model', out, '--data', corpusOf(['happy', 'sad']), '--held-out'], { encoding: 'utf8' });
    expect(other.status).not.toBe(0);
    expect(other.stderr).toMatch(/--held-out: \d+ of the model's 4 validation clips are not in .* \(first: Actor_\d+\/.+\.wav\); give the data folder it was trained from/);
  });

  it('resumes after an interruption and ends with the same weights as an uninterrupted run', async () => {
    const full = mkdtempSync(join(tmpdir(), 'ser-full-'));
    await trainRun(...options(gpu(), data, full, 3));
    const cut = mkdtempSync(join(tmpdir(), 'ser-cut-'));
    // Interrupted during epoch 2 (as Ctrl-C or kill would): epoch 1 stays checkpointed.
    let steps = 0;
    await trainRun(...options(gpu(), data, cut, 3, { onProgress: () => void steps++, shouldStop: () => steps >= 5 }));
    const mid = JSON.parse(readFileSync(join(cut, 'checkpoint.json'), 'utf8'));
    expect(mid.loop.epoch).toBe(1);
    await trainRun(...options(gpu(), data, cut, 3, { resume: true }));
    const a = readFileSync(join(full, 'checkpoint.safetensors'));
    const b = readFileSync(join(cut, 'checkpoint.safetensors'));
    expect(b.equals(a)).toBe(true);
    expect(readFileSync(join(cut, 'model.safetensors')).equals(readFileSync(join(full, 'model.safetensors')))).toBe(true);
    expect(readValidationLogits(cut)).toEqual(readValidationLogits(full));
  });

  it('a stop asked for during validation ends the run before the next epoch takes a step', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ser-stop-at-validation-'));
    let validated = false; // set by the epoch line, which is logged after validation, before the checkpoint
    const epochsStepped = new Set<number>();
    await trainRun(...options(gpu(), data, out, 3, {
      log: (line) => void (validated ||= /^epoch 1:/.test(line)),
      onProgress: (p) => void epochsStepped.add(p.epoch),
      shouldStop: () => validated,
    }));
    expect([...epochsStepped]).toEqual([1]);
    expect(JSON.parse(readFileSync(join(out, 'checkpoint.json'), 'utf8')).loop.epoch).toBe(1);
  });

  it('continues a finished run for more epochs (--resume with a larger --epochs) to the weights of a run that had them from the start', async () => {
    const full = mkdtempSync(join(tmpdir(), 'ser-long-'));
    await trainRun(...options(gpu(), data, full, 3));
    const short = mkdtempSync(join(tmpdir(), 'ser-short-'));
    const first = await trainRun(...options(gpu(), data, short, 2));
    expect(first.state.history).toHaveLength(2);
    const longer = await trainRun(...options(gpu(), data, short, 3, { resume: true }));
    expect(longer.state.history.map((e) => e.epoch)).toEqual([1, 2, 3]);
    expect(readFileSync(join(short, 'checkpoint.safetensors')).equals(readFileSync(join(full, 'checkpoint.safetensors')))).toBe(true);
    expect(readFileSync(join(short, 'model.safetensors')).equals(readFileSync(join(full, 'model.safetensors')))).toBe(true);
    expect(readValidationLogits(short)).toEqual(readValidationLogits(full));
    // Fewer epochs than it has trained would pass a longer run off as a shorter one: refused.
    await expect(trainRun(...options(gpu(), data, short, 2, { resume: true }))).rejects.toThrow(/has trained 3 epochs already: resume it with --epochs 3 or more, not 2/);
  });

  it('skips an unreadable clip, counts it and lists it with its reason in the report', async () => {
    const dir = corpus();
    const bad = join(dir, 'Actor_01', '03-01-03-02-02-02-01.wav'); // a RAVDESS name, not audio inside
    writeFileSync(bad, 'this is not a WAV file');
    const out = mkdtempSync(join(tmpdir(), 'ser-skip-'));
    const r = await trainRun(...options(gpu(), dir, out, 1));
    expect(r.skipped).toEqual([{ name: bad, reason: expect.stringMatching(/not audio|unsupported|cannot decode/) }]);
    const { writeReport } = await import('../../src/train/protocols/report.node.ts');
    await writeReport(r);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/1 files skipped/);
    expect(md).toContain(`- ${bad}: `);
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).skippedFiles).toHaveLength(1);
  });

  it('refuses a batch too large for the device before any training, naming the largest that fits', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ser-batch-'));
    const run = options(gpu(), data, out, 1);
    run[2].loop = { ...run[2].loop, batch: 10_000_000 };
    await expect(trainRun(...run)).rejects.toThrow(/--batch 10000000 is too large for this device: .* use --batch \d+ or less/);
    expect(readdirSync(out).filter((f) => f.startsWith('model') || f.startsWith('checkpoint'))).toEqual([]);
  });

  it('refuses to resume a checkpoint of another model config, and a tampered one', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ser-cfg-'));
    await trainRun(...options(gpu(), data, out, 1));
    const other = options(gpu(), data, out, 2, { resume: true });
    other[2].model = { ...other[2].model, dense: [{ units: 16, dropout: 0.1 }] };
    await expect(trainRun(...other)).rejects.toThrow(/written for another model config/);
    const st = join(out, 'checkpoint.safetensors');
    const bytes = readFileSync(st);
    bytes[bytes.length - 3] ^= 0xff;
    writeFileSync(st, bytes);
    await expect(trainRun(...options(gpu(), data, out, 2, { resume: true }))).rejects.toThrow(/SHA-256/);
  });
});

describe('ser train refuses bad input clearly', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [BIN, 'train', ...args], { encoding: 'utf8' });

  it('a missing or empty data folder, or one with no recognised file names', () => {
    const missing = run('--data', '/nonexistent/folder', '--epochs', '1');
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/nonexistent\/folder/);
    const empty = mkdtempSync(join(tmpdir(), 'ser-empty-'));
    const e = run('--data', empty, '--epochs', '1');
    expect(e.status).not.toBe(0);
    expect(e.stderr).toMatch(/empty|no audio/i);
    writeFileSync(join(empty, 'hello.wav'), 'x');
    const unknown = run('--data', empty, '--epochs', '1');
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toMatch(/RAVDESS/);
  });

  it('invalid flag values', () => {
    for (const [flag, value, msg] of [['--epochs', '0', /positive integer/], ['--lr', '-1', /positive number/], ['--val', '1.5', /between 0 and 1/], ['--batch', 'x', /positive integer/], ['--dropout-scale', '3', /from 0 to 2/]] as const) {
      const r = run(flag, value);
      expect(r.status, `${flag} ${value}`).not.toBe(0);
      expect(r.stderr).toMatch(msg);
    }
    const split = run('--split', 'sideways');
    expect(split.stderr).toMatch(/--split must be 'random' or 'speaker'/);
  });

  it('--dropout-scale multiplies every dropout rate of the seed architecture', () => {
    const rates = (f: number) => {
      const c = scaledDropout(f);
      return [c.stem.dropout, ...c.blocks.map((b) => b.dropout), ...c.dense.map((d) => d.dropout)];
    };
    expect(rates(1)).toEqual([0.2, 0.3, 0.3, 0.4, 0.3]);
    expect(rates(0.5).map((r) => Number(r.toFixed(6)))).toEqual([0.1, 0.15, 0.15, 0.2, 0.15]);
    expect(rates(0)).toEqual([0, 0, 0, 0, 0]);
    expect(scaledDropout(0.5).blocks.map((b) => b.filters)).toEqual([64, 128]);
  });
});

function readdir(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.wav')).sort();
}

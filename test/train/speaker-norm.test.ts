// Speaker normalisation (--speaker-norm): per-speaker row statistics against a float64 reference,
// invariance to a per-speaker affine change of each row, the frames-before-padding rule; end to end,
// a tiny speaker-split run records it, evaluation through predictFiles and `ser evaluate --held-out`
// (which predicts every clip of a speaker to score some) reproduces the training-time validation
// figures, inference without speakers and resuming with other settings are refused, and
// a data set without speakers is refused before training.

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluationSpeakers } from '../../src/cli/evaluate';
import { createRng } from '../../src/common/random';
import { featuresOfFiles } from '../../src/dsp/files.node.ts';
import { GpuFeatureExtractor } from '../../src/dsp/gpu-features';
import { FeaturePipeline } from '../../src/dsp/pipeline';
import { clipsToPredict, heldOutIndices } from '../../src/train/data/data.node.ts';
import { predictFeatures } from '../../src/train/inference/predict';
import { predictFiles } from '../../src/train/inference/infer.node.ts';
import { trainRun } from '../../src/train/protocols/run.node.ts';
import { loadModel } from '../../src/train/model-files/saved-model.node.ts';
import { normalisePerSpeaker, speakerGroups, speakerNormalised, speakerStats } from '../../src/train/data/speaker-norm';
import { synthCorpus } from '../../src/train/data/synth';
import { writeSynthCorpus } from '../../src/train/data/synth.node.ts';
import { useGpu } from '../harness';
import { tinyRunOptions } from './tiny-run';

const BIN = join(__dirname, '../../bin/ser.mjs');
const ROWS = 5;
const FRAMES = 12;

/** Clips whose rows carry a speaker-dependent offset and spread (speaker k: offset 7k + r, spread 1 + k + r/4). */
function clips(speakers: string[], seed: number): Float32Array[] {
  const rng = createRng(seed);
  return speakers.map((s) => {
    const k = Number(s.slice(1));
    const x = new Float32Array(ROWS * FRAMES);
    for (let r = 0; r < ROWS; r++) for (let t = 0; t < FRAMES; t++) x[r * FRAMES + t] = 7 * k + r + (1 + k + r / 4) * rng.normal();
    return x;
  });
}

const relL2 = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let num = 0, den = 0;
  for (let i = 0; i < b.length; i++) { num += (a[i]! - b[i]!) ** 2; den += b[i]! ** 2; }
  return Math.sqrt(num / den);
};

/** Float64 reference: each clip's rows standardised with its speaker's mean and population std over `used(i)` frames. */
function reference(xs: Float32Array[], speakers: string[], used: (i: number) => number): Float64Array[] {
  return xs.map((x, i) => {
    const mine = speakers.flatMap((s, j) => (s === speakers[i] ? [j] : []));
    const out = new Float64Array(x.length);
    for (let r = 0; r < ROWS; r++) {
      const v = mine.flatMap((j) => Array.from(xs[j]!.subarray(r * FRAMES, r * FRAMES + used(j))));
      const m = v.reduce((a, b) => a + b, 0) / v.length;
      const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
      for (let t = 0; t < FRAMES; t++) out[r * FRAMES + t] = (x[r * FRAMES + t]! - m) / sd;
    }
    return out;
  });
}

describe('speaker normalisation', () => {
  const speakers = ['s0', 's1', 's2', 's1', 's0', 's2', 's1', 's0', 's1'];

  it('standardises each clip with its own speaker\'s row statistics (float64 reference, relative L2 < 1e-6)', () => {
    const xs = clips(speakers, 11);
    const got = normalisePerSpeaker(xs, speakers, { rows: ROWS, frames: FRAMES });
    const ref = reference(xs, speakers, () => FRAMES);
    got.forEach((g, i) => expect(relL2(g, ref[i]!)).toBeLessThan(1e-6));
    // The inputs are left as they were.
    expect(relL2(xs[0]!, clips(speakers, 11)[0]!)).toBe(0);
  });

  it('counts only the frames before padding when lengths are given', () => {
    const xs = clips(speakers, 12);
    const lengths = speakers.map((_, i) => 4 + (i % 5));
    // Padding that would swamp the statistics if it were counted.
    for (const [i, x] of xs.entries()) for (let r = 0; r < ROWS; r++) x.fill(-1e4, r * FRAMES + lengths[i]!, (r + 1) * FRAMES);
    const got = normalisePerSpeaker(xs, speakers, { rows: ROWS, frames: FRAMES, lengths });
    const ref = reference(xs, speakers, (j) => lengths[j]!);
    got.forEach((g, i) => expect(relL2(g, ref[i]!)).toBeLessThan(1e-6));
  });

  it('removes any per-speaker affine change of a row: the same clips with one voice shifted and scaled normalise alike', () => {
    const xs = clips(speakers, 13);
    const moved = xs.map((x, i) => {
      if (speakers[i] !== 's1') return x;
      const y = new Float32Array(x);
      for (let r = 0; r < ROWS; r++) for (let t = 0; t < FRAMES; t++) y[r * FRAMES + t] = 3 * (r + 1) * x[r * FRAMES + t]! - 50 + 10 * r;
      return y;
    });
    const a = normalisePerSpeaker(xs, speakers, { rows: ROWS, frames: FRAMES });
    const b = normalisePerSpeaker(moved, speakers, { rows: ROWS, frames: FRAMES });
    a.forEach((x, i) => expect(relL2(b[i]!, x)).toBeLessThan(1e-5));
    // A global scaler would not: speaker s1's clips differ from before.
    expect(relL2(moved[1]!, xs[1]!)).toBeGreaterThan(0.5);
  });

  it('groups each speaker\'s clips at random into groups of at most k, sizes within one, reproducibly', () => {
    const spk = Array.from({ length: 23 }, (_, i) => (i % 3 === 0 ? 'a' : 'b')); // a: 8 clips, b: 15
    const g = speakerGroups(spk, 4, 1);
    expect(g.every((name, i) => name.startsWith(`${spk[i]}#`))).toBe(true);
    const sizes = (who: string) => [...new Set(g.filter((n) => n.startsWith(`${who}#`)))].map((n) => g.filter((m) => m === n).length).sort();
    expect(sizes('a')).toEqual([4, 4]);
    expect(sizes('b')).toEqual([3, 4, 4, 4]);
    expect(speakerGroups(spk, 4, 1)).toEqual(g);
    expect(speakerGroups(spk, 4, 2)).not.toEqual(g);
    expect(new Set(speakerGroups(spk, 1, 0)).size).toBe(23);
    expect(new Set(speakerGroups(spk, 100, 0))).toEqual(new Set(['a#0', 'b#0']));
    expect(() => speakerGroups(spk, 0, 0)).toThrow(/positive integer/);
  });

  it('evaluate --held-out finds split.json\'s clips in the data set, and predicts every clip for a speaker-normalised model', () => {
    const root = join(tmpdir(), 'corpus');
    const paths = ['Actor_01/a.wav', 'Actor_01/b.wav', 'Actor_02/c.wav', 'Actor_02/d.wav'].map((p) => join(root, p));
    expect(heldOutIndices(['Actor_02/d.wav', 'Actor_01/a.wav'], root, paths, 'DATA')).toEqual([3, 0]);
    expect(() => heldOutIndices(['Actor_01/a.wav', 'Actor_03/e.wav'], root, paths, 'DATA')).toThrow(/1 of the model's 2 validation clips are not in DATA \(first: Actor_03\/e\.wav\)/);
    // Statistics from all of a speaker's clips need all of them predicted; otherwise only the scored ones.
    expect(clipsToPredict([3, 0], 4, true)).toEqual([0, 1, 2, 3]);
    expect(clipsToPredict([3, 0], 4, false)).toEqual([3, 0]);
    expect(clipsToPredict(null, 3, false)).toEqual([0, 1, 2]);
  });

  it('evaluate groups clips by speaker, or with --one-speaker by data set (one group per corpus), refusing both for other models', () => {
    const model = (speakerNorm: boolean) => ({ meta: { speakerNorm } }) as unknown as Parameters<typeof evaluationSpeakers>[0];
    const items = [{ path: 'a/1.wav', speaker: 's1' }, { path: 'a/2.wav', speaker: 's2' }, { path: 'b/3.wav' }, { path: 'b/4.wav' }];
    const corpus = (i: number) => (i < 2 ? 'ravdess' : 'other');
    const opts = { model: 'M', cache: '', seed: 0 };
    expect(evaluationSpeakers(model(false), items, opts)).toBeUndefined();
    expect(() => evaluationSpeakers(model(false), items, { ...opts, oneSpeaker: true })).toThrow(/--one-speaker applies only to a model trained with --speaker-norm/);
    expect(() => evaluationSpeakers(model(true), items, opts)).toThrow(/b\/3\.wav has none/);
    expect(evaluationSpeakers(model(true), items.slice(0, 2), opts)).toEqual(['s1', 's2']);
    // One data set: one group; several corpora: one group each, never one group across corpora.
    expect(new Set(evaluationSpeakers(model(true), items, { ...opts, oneSpeaker: true })).size).toBe(1);
    const perCorpus = evaluationSpeakers(model(true), items, { ...opts, oneSpeaker: true }, corpus)!;
    expect(perCorpus[0]).toBe(perCorpus[1]);
    expect(perCorpus[2]).toBe(perCorpus[3]);
    expect(perCorpus[0]).not.toBe(perCorpus[2]);
  });

  it('refuses clips and speakers of different counts, and a speaker without statistics', () => {
    const xs = clips(speakers, 14);
    expect(() => speakerStats(xs, speakers.slice(1), { rows: ROWS, frames: FRAMES })).toThrow(/9 clips but 8 speakers/);
    const stats = speakerStats(xs, speakers, { rows: ROWS, frames: FRAMES });
    expect(() => speakerNormalised(xs.slice(0, 1), ['s9'], stats)).toThrow(/no statistics for speaker 's9'/);
  });
});

describe('ser train --speaker-norm on a tiny config', () => {
  const gpu = useGpu();
  const data = mkdtempSync(join(tmpdir(), 'ser-spk-'));
  writeSynthCorpus(data, synthCorpus({ speakers: 3, clipsPerClassPerSpeaker: 2, seed: 6, classes: ['neutral', 'happy', 'sad', 'angry'] }), { layout: 'ravdess' });
  const extractor = (c: ConstructorParameters<typeof GpuFeatureExtractor>[1]) => new GpuFeatureExtractor(gpu(), c);

  it('records it, evaluates the held-out speaker as in training, and needs speakers at inference', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ser-spk-out-'));
    const lines: string[] = [];
    const r = await trainRun(gpu(), extractor, tinyRunOptions(data, out, { split: 'speaker', valSpeakers: ['Actor_03'], speakerNorm: true, log: (l) => lines.push(l) }));
    expect(r.speakerNorm).toBe(true);
    expect(lines.some((l) => /speaker normalisation: .*3 speakers/.test(l))).toBe(true);
    const { writeReport } = await import('../../src/train/protocols/report.node.ts');
    await writeReport(r);
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).speakerNorm).toBe(true);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/Speaker normalisation: each clip's feature rows standardised/);
    expect(JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')).speakerNorm).toBe(true);

    const loaded = await loadModel(gpu(), out);
    try {
      expect(loaded.meta.speakerNorm).toBe(true);
      const held = readdirSync(join(data, 'Actor_03')).sort().map((f) => join(data, 'Actor_03', f));
      await expect(predictFiles(gpu(), loaded, held, extractor, { cacheDir: join(out, 'cache', 'features') })).rejects.toThrow(/trained with --speaker-norm and needs each clip's speaker/);
      // All of the held-out speaker's clips together: the statistics training used for them, so the same accuracy.
      const { predictions } = await predictFiles(gpu(), loaded, held, extractor, { cacheDir: join(out, 'cache', 'features'), speakers: held.map(() => 'Actor_03') });
      const truth = (f: string) => ['neutral', 'calm', 'happy', 'sad', 'angry'][Number(f.split('/').pop()!.split('-')[2]) - 1];
      const correct = predictions.filter((p, i) => p!.label === truth(held[i]!)).length;
      expect(held).toHaveLength(r.split.val.length);
      expect(correct / held.length).toBe(r.report.accuracy);
      // The same probabilities as standardising the clips by hand and predicting without speaker normalisation.
      const fc = loaded.meta.featureConfig;
      const { clips: feats } = await featuresOfFiles(new FeaturePipeline(fc, extractor(fc)), held, { cacheDir: join(out, 'cache', 'features') });
      const byHand = normalisePerSpeaker(feats.map((c) => c!.features), held.map(() => 'x'), { rows: loaded.meta.modelConfig.inputRows, frames: fc.frames });
      const plain = await predictFeatures(gpu(), { ...loaded, meta: { ...loaded.meta, speakerNorm: false } }, byHand);
      predictions.forEach((p, i) => expect(relL2(Object.values(p!.probabilities), Object.values(plain[i]!.probabilities))).toBeLessThan(1e-6));
      // Grouped otherwise (each clip its own speaker), the inputs differ and so do the probabilities.
      const alone = await predictFeatures(gpu(), loaded, feats.map((c) => c!.features), { speakers: held.map((_, i) => `clip${i}`) });
      expect(Math.max(...alone.map((p, i) => relL2(Object.values(p.probabilities), Object.values(plain[i]!.probabilities))))).toBeGreaterThan(1e-3);
    } finally {
      loaded.model.dispose();
    }
    // The CLI: predict needs --one-speaker for such a model (and refuses it for others); evaluate groups by speaker.
    const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
    const some = readdirSync(join(data, 'Actor_02')).sort().map((f) => join(data, 'Actor_02', f)).slice(0, 6);
    const refused = cli('predict', '--model', out, ...some);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/was trained with --speaker-norm: .*--one-speaker/);
    const ok = cli('predict', '--model', out, '--one-speaker', '--json', ...some);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/warning: 6 clip\(s\) of the speaker; .* fewer than about 8/);
    expect(ok.stdout.trim().split('\n').map((l) => JSON.parse(l).file)).toEqual(some);
    const ev = cli('evaluate', '--model', out, '--data', data, '--json', '--cache', join(out, 'cache', 'features'));
    expect(ev.status, ev.stderr).toBe(0);
    expect(JSON.parse(ev.stdout).n).toBe(24);
    // Only the held-out speaker's clips scored, normalised as in training: the run's own figures.
    const held = cli('evaluate', '--model', out, '--data', data, '--held-out', '--json', '--cache', join(out, 'cache', 'features'));
    expect(held.status, held.stderr).toBe(0);
    expect(JSON.parse(held.stdout).n).toBe(r.split.val.length);
    expect(JSON.parse(held.stdout).confusion).toEqual(r.report.confusion);
    const single = cli('evaluate', '--model', out, '--data', data, '--json', '--speaker-clips', '1', '--cache', join(out, 'cache', 'features'));
    expect(single.status, single.stderr).toBe(0);
    expect(JSON.parse(single.stdout).n).toBe(24);
    expect(cli('evaluate', '--data', data, '--speaker-clips', '4', '--model', join(__dirname, '../../models/ravdess-8')).stderr).toMatch(/--speaker-clips applies only to a model trained with --speaker-norm/);
    const plainModel = cli('predict', '--model', join(__dirname, '../../models/ravdess-8'), '--one-speaker', some[0]!);
    expect(plainModel.stderr).toMatch(/--one-speaker applies only to a model trained with --speaker-norm/);
  });

  it('refuses to resume a run with the other setting, and data without speakers', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ser-spk-res-'));
    await trainRun(gpu(), extractor, tinyRunOptions(data, out, { speakerNorm: true, loop: { epochs: 1 } }));
    await expect(trainRun(gpu(), extractor, tinyRunOptions(data, out, { resume: true, loop: { epochs: 2 } }))).rejects.toThrow(/written with --speaker-norm; resume with the same options/);
    // A folder per label names no speakers.
    const byLabel = mkdtempSync(join(tmpdir(), 'ser-spk-lbl-'));
    for (const label of ['happy', 'sad']) {
      mkdirSync(join(byLabel, label));
      for (let k = 0; k < 3; k++) copyFileSync(join(data, 'Actor_01', readdirSync(join(data, 'Actor_01')).sort()[k]!), join(byLabel, label, `clip${k}.wav`));
    }
    await expect(trainRun(gpu(), extractor, tinyRunOptions(byLabel, join(byLabel, 'out'), { speakerNorm: true }))).rejects.toThrow(/--speaker-norm needs the speaker of every clip, and .*clip0\.wav has none/);
    // Evaluating such data: refused with the way out named, then normalised as one group with --one-speaker.
    const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
    const cache = join(out, 'cache', 'features');
    const refused = cli('evaluate', '--model', out, '--data', byLabel, '--json', '--cache', cache);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/needs the speaker of every clip, and .*clip0\.wav has none/);
    expect(refused.stderr).toMatch(/--one-speaker/);
    const grouped = cli('evaluate', '--model', out, '--data', byLabel, '--one-speaker', '--json', '--cache', cache);
    expect(grouped.status, grouped.stderr).toBe(0);
    expect(JSON.parse(grouped.stdout).n).toBe(6);
    expect(cli('evaluate', '--data', byLabel, '--one-speaker', '--model', join(__dirname, '../../models/ravdess-8')).stderr).toMatch(/--one-speaker applies only to a model trained with --speaker-norm/);
  });
});

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/train/data/datasets.node.ts';
import { RAVDESS_CLASSES, type Emotion } from '../../src/train/data/labels';
import { SYNTH_SAMPLE_RATE, makeSpeakers, synthCorpus, synthesizeClip, type SynthClip } from '../../src/train/data/synth';
import { writeSynthCorpus } from '../../src/train/data/synth.node.ts';

/** Mean F0 (Hz) over frames whose normalised autocorrelation peak (70-500 Hz) exceeds 0.5. */
function meanF0(x: Float32Array): number {
  const n = 1024;
  const estimates: number[] = [];
  for (let s = 0; s + n <= x.length; s += 1024) {
    let e0 = 0;
    for (let i = 0; i < n; i++) e0 += x[s + i] ** 2;
    if (e0 / n < 1e-5) continue;
    let best = 0, bestLag = 0;
    for (let lag = Math.floor(SYNTH_SAMPLE_RATE / 500); lag <= Math.ceil(SYNTH_SAMPLE_RATE / 70); lag++) {
      let c = 0, e1 = 0;
      for (let i = 0; i < n - lag; i++) { c += x[s + i] * x[s + i + lag]; e1 += x[s + i + lag] ** 2; }
      const r = c / Math.sqrt(e0 * e1 + 1e-20);
      if (r > best) { best = r; bestLag = lag; }
    }
    if (best > 0.5) estimates.push(SYNTH_SAMPLE_RATE / bestLag);
  }
  return estimates.reduce((a, b) => a + b, 0) / Math.max(1, estimates.length);
}

/** Bitwise equality of two sample arrays (deep toEqual on 50k floats is needlessly slow). */
const sameSamples = (a: Float32Array, b: Float32Array): boolean => Buffer.from(a.buffer).equals(Buffer.from(b.buffer));

const rms = (x: Float32Array): number => Math.sqrt(x.reduce((a, v) => a + v * v, 0) / x.length);

function classMeans(clips: SynthClip[], measure: (c: SynthClip) => number): Record<Emotion, number> {
  const sums = new Map<Emotion, number[]>();
  for (const c of clips) sums.set(c.label, [...(sums.get(c.label) ?? []), measure(c)]);
  return Object.fromEntries([...sums].map(([k, v]) => [k, v.reduce((a, b) => a + b, 0) / v.length])) as Record<Emotion, number>;
}

const corpus = synthCorpus({ speakers: 6, clipsPerClassPerSpeaker: 3, seed: 42 });
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('synthetic emotional speech', () => {
  it('is deterministic: the same seed gives the same samples, another seed different ones', () => {
    const [speaker] = makeSpeakers(1, 3);
    const a = synthesizeClip('happy', speaker, 123);
    expect(sameSamples(synthesizeClip('happy', speaker, 123), a)).toBe(true);
    expect(sameSamples(synthesizeClip('happy', speaker, 124), a)).toBe(false);
    const again = synthCorpus({ speakers: 2, clipsPerClassPerSpeaker: 1, seed: 42 });
    const original = corpus.filter((c) => c.speaker.number <= 2 && c.take === 0);
    expect(again.map((c) => c.label)).toEqual(original.map((c) => c.label));
    expect(again.every((c, i) => sameSamples(c.samples, original[i].samples))).toBe(true);
  });

  it('yields finite 1.5-3 s clips within [-1, 1], for every class and speaker', () => {
    expect(corpus).toHaveLength(6 * 8 * 3);
    expect(new Set(corpus.map((c) => c.label))).toEqual(new Set(RAVDESS_CLASSES));
    for (const c of corpus) {
      const seconds = c.samples.length / SYNTH_SAMPLE_RATE;
      expect(seconds).toBeGreaterThanOrEqual(1.5);
      expect(seconds).toBeLessThanOrEqual(3);
      expect(c.samples.every((v) => Number.isFinite(v) && Math.abs(v) <= 1)).toBe(true);
    }
  });

  it('separation widens the gaps between classes and variation narrows each class; their defaults give the original clips', () => {
    const speaker = makeSpeakers(1, 5)[0];
    expect(sameSamples(synthesizeClip('sad', speaker, 77, 1, 1), synthesizeClip('sad', speaker, 77))).toBe(true);
    const small = { speakers: 2, clipsPerClassPerSpeaker: 3, seed: 5, classes: ['sad', 'angry'] as Emotion[] };
    const loudnessRatio = (clips: SynthClip[]) => {
      const m = classMeans(clips, (c) => rms(c.samples));
      return m.angry / m.sad;
    };
    expect(loudnessRatio(synthCorpus({ ...small, separation: 2 }))).toBeGreaterThan(2 * loudnessRatio(synthCorpus(small)));
    // Spread of the level (dB) among takes of one class and speaker.
    const levelSpread = (variation: number) => {
      const db = synthCorpus({ speakers: 1, clipsPerClassPerSpeaker: 8, seed: 5, classes: ['neutral'], variation }).map((c) => 20 * Math.log10(rms(c.samples)));
      const mean = db.reduce((a, b) => a + b, 0) / db.length;
      return Math.sqrt(db.reduce((a, v) => a + (v - mean) ** 2, 0) / db.length);
    };
    expect(levelSpread(0.25)).toBeLessThan(0.5 * levelSpread(1));
    expect(() => synthCorpus({ separation: 0.5 })).toThrow(/separation must lie in \[1, 4\]/);
    expect(() => synthCorpus({ variation: 2 })).toThrow(/variation must lie in \[0, 1\]/);
  });

  it('orders classes by loudness: angry > happy > neutral > calm > sad (mean RMS)', () => {
    const m = classMeans(corpus, (c) => rms(c.samples));
    expect(m.angry).toBeGreaterThan(m.happy);
    expect(m.happy).toBeGreaterThan(m.neutral);
    expect(m.neutral).toBeGreaterThan(m.calm);
    expect(m.calm).toBeGreaterThan(m.sad);
    expect(m.angry / m.sad).toBeGreaterThan(3);
  });

  it('raises measured pitch (relative to the speaker) for aroused classes above neutral, and sad below', () => {
    const m = classMeans(corpus, (c) => meanF0(c.samples) / c.speaker.baseF0);
    for (const high of ['happy', 'angry', 'fearful', 'surprised'] as const) expect(m[high]).toBeGreaterThan(m.neutral * 1.15);
    expect(m.sad).toBeLessThan(m.neutral);
    expect(m.neutral).toBeGreaterThan(0.85);
    expect(m.neutral).toBeLessThan(1.2);
  });

  it('gives female speakers a higher measured pitch than male speakers', () => {
    const neutral = corpus.filter((c) => c.label === 'neutral');
    const bySex = (sex: string): number => {
      const f = neutral.filter((c) => c.speaker.sex === sex).map((c) => meanF0(c.samples));
      return f.reduce((a, b) => a + b, 0) / f.length;
    };
    expect(bySex('F')).toBeGreaterThan(1.4 * bySex('M'));
  });

  it('sizes the corpus as speakers x classes x takes, every clip distinct', () => {
    const big = synthCorpus({ speakers: 10, clipsPerClassPerSpeaker: 5, seed: 1 });
    expect(big).toHaveLength(400);
    expect(new Set(big.map((c) => c.seed)).size).toBe(400);
  });

  it('writes RAVDESS-named WAVs that the dataset loader reads back with labels and speakers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ser-synth-'));
    dirs.push(dir);
    const small = corpus.filter((c) => c.speaker.number <= 3);
    const { files } = writeSynthCorpus(dir, small);
    const ds = loadDataset(dir);
    expect(ds.items).toHaveLength(small.length);
    expect(ds.skipped).toEqual([]);
    const key = (label: string, speaker: string | undefined) => `${label}/${speaker}`;
    expect(ds.items.map((i) => key(i.label, i.speaker)).sort()).toEqual(small.map((c) => key(c.label, c.speaker.id)).sort());
    const bytes = readFileSync(files[0]);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(bytes.subarray(0, 4).toString()).toBe('RIFF');
    expect(view.getUint32(24, true)).toBe(SYNTH_SAMPLE_RATE);
    expect(view.getUint32(40, true)).toBe(small[0].samples.length * 2);
    const peak = small[0].samples.reduce((best, v, i, a) => (Math.abs(v) > Math.abs(a[best]) ? i : best), 0);
    expect(Math.abs(view.getInt16(44 + 2 * peak, true) / 32767 - small[0].samples[peak])).toBeLessThan(1 / 32767);
  });

  it('writes a CSV manifest with speakers that the loader reads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ser-synth-'));
    dirs.push(dir);
    const small = corpus.filter((c) => c.speaker.number === 2);
    const { manifest } = writeSynthCorpus(dir, small, { layout: 'csv' });
    const ds = loadDataset(manifest!);
    expect(ds.items.map((i) => `${i.label}/${i.speaker}/${i.sex}`)).toEqual(small.map((c) => `${c.label}/Actor_02/F`));
  });
});

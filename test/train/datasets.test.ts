import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DatasetError, type Dataset } from '../../src/train/data/datasets';
import { loadDataset } from '../../src/train/data/datasets.node.ts';
import { writeWav } from '../../src/dsp/wav';

const EMPTY_WAV = writeWav([new Float32Array(0)], 22050);
const dirs: string[] = [];

/** A temp folder holding an empty-but-valid WAV at each audio path and junk text elsewhere. */
function tree(files: string[]): string {
  const root = mkdtempSync(join(tmpdir(), 'ser-data-'));
  dirs.push(root);
  for (const rel of files) {
    const path = join(root, ...rel.split('/'));
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, /\.(wav|flac|mp3|ogg)$/i.test(rel) ? EMPTY_WAV : 'junk');
  }
  return root;
}

afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

const byName = (ds: Dataset) => Object.fromEntries(ds.items.map((i) => [i.path.split(/[\\/]/).pop()!, i]));
const JUNK = ['.DS_Store', 'README.txt', 'Actor_01/cover.jpg', 'notes/todo.md'];

describe('dataset loader', () => {
  it('reads RAVDESS speech and song in nested actor folders, mixed-case extensions, and counts junk', () => {
    const root = tree([
      'Actor_01/03-01-05-02-01-01-01.wav', 'Actor_01/03-01-01-01-02-02-01.WAV',
      'Actor_02/03-02-04-01-01-01-02.flac', 'deep/er/Actor_12/03-01-08-02-02-01-12.Mp3', ...JUNK,
    ]);
    const ds = loadDataset(root);
    const items = byName(ds);
    expect(ds.items).toHaveLength(4);
    expect(items['03-01-05-02-01-01-01.wav']).toMatchObject({ label: 'angry', speaker: 'Actor_01', sex: 'M', corpus: 'ravdess' });
    expect(items['03-01-01-01-02-02-01.WAV']).toMatchObject({ label: 'neutral' });
    expect(items['03-02-04-01-01-01-02.flac']).toMatchObject({ label: 'sad', speaker: 'Actor_02', sex: 'F' });
    expect(items['03-01-08-02-02-01-12.Mp3']).toMatchObject({ label: 'surprised', speaker: 'Actor_12', sex: 'F' });
    expect(ds.skipped).toHaveLength(JUNK.length);
    expect(ds.skipped.every((s) => s.reason.startsWith('not an audio file'))).toBe(true);
    expect(ds.classes).toEqual(['neutral', 'sad', 'angry', 'surprised']);
    expect(ds.warnings).toEqual([]);
  });

  it('keeps one copy of RAVDESS clips also named with video modality 01/02, and warns', () => {
    const root = tree(['03-01-05-02-01-01-01.wav', '01-01-05-02-01-01-01.wav', '02-01-05-02-01-01-01.wav', '01-01-03-01-01-01-03.wav']);
    const ds = loadDataset(root);
    expect(Object.keys(byName(ds)).sort()).toEqual(['01-01-03-01-01-01-03.wav', '03-01-05-02-01-01-01.wav']);
    expect(ds.skipped.map((s) => s.reason)).toEqual([expect.stringMatching(/^duplicate RAVDESS clip/), expect.stringMatching(/^duplicate RAVDESS clip/)]);
    expect(ds.warnings).toHaveLength(1);
    expect(ds.warnings[0]).toMatch(/video modality 01\/02.*same recordings/);
  });

  it('reads CREMA-D names and skips an unknown emotion code with its reason', () => {
    const ds = loadDataset(tree(['AudioWAV/1001_DFA_ANG_XX.wav', 'AudioWAV/1091_IEO_HAP_HI.wav', 'AudioWAV/1002_TIE_XYZ_LO.wav']));
    const items = byName(ds);
    expect(items['1001_DFA_ANG_XX.wav']).toMatchObject({ label: 'angry', speaker: '1001', corpus: 'crema-d' });
    expect(items['1091_IEO_HAP_HI.wav']).toMatchObject({ label: 'happy', speaker: '1091' });
    expect(ds.skipped).toEqual([{ path: expect.stringContaining('1002_TIE_XYZ_LO.wav'), reason: 'unknown CREMA-D emotion code XYZ' }]);
  });

  it('reads TESS from file names and from OAF_/YAF_ folder names, with ps as pleasant_surprise', () => {
    const ds = loadDataset(tree([
      'OAF_back_angry.wav', 'YAF_dog_ps.wav', 'OAF_Pleasant_surprise/OAF_bath_ps.wav',
      'YAF_fear/YAF_chair_fear.wav', 'YAF_sad/take1.wav',
    ]));
    const items = byName(ds);
    expect(items['OAF_back_angry.wav']).toMatchObject({ label: 'angry', speaker: 'OAF', sex: 'F', corpus: 'tess' });
    expect(items['YAF_dog_ps.wav']).toMatchObject({ label: 'pleasant_surprise', speaker: 'YAF' });
    expect(items['OAF_bath_ps.wav']).toMatchObject({ label: 'pleasant_surprise', speaker: 'OAF' });
    expect(items['YAF_chair_fear.wav']).toMatchObject({ label: 'fearful' });
    expect(items['take1.wav']).toMatchObject({ label: 'sad', speaker: 'YAF', corpus: 'tess' });
  });

  it('reads SAVEE both as DC_a01 names and as a folder per speaker', () => {
    const ds = loadDataset(tree(['DC_a01.wav', 'JE_sa15.wav', 'JK_su03.wav', 'KL/n10.wav', 'KL/d02.wav', 'KL/f07.wav', 'KL/h01.wav']));
    const items = byName(ds);
    expect(items['DC_a01.wav']).toMatchObject({ label: 'angry', speaker: 'DC', sex: 'M', corpus: 'savee' });
    expect(items['JE_sa15.wav']).toMatchObject({ label: 'sad', speaker: 'JE' });
    expect(items['JK_su03.wav']).toMatchObject({ label: 'surprised', speaker: 'JK' });
    expect(['n10.wav', 'd02.wav', 'f07.wav', 'h01.wav'].map((n) => items[n].label)).toEqual(['neutral', 'disgust', 'fearful', 'happy']);
    expect(items['n10.wav'].speaker).toBe('KL');
  });

  it('reads EMO-DB letters with their German meanings and the speakers sex', () => {
    const ds = loadDataset(tree(['wav/03a01Wa.wav', 'wav/08b02La.wav', 'wav/09a04Eb.wav', 'wav/10a05Ac.wav', 'wav/11b01Fd.wav', 'wav/12a02Tb.wav', 'wav/13b10Na.wav']));
    const labels = ds.items.map((i) => `${i.speaker}:${i.label}:${i.sex}`);
    expect(labels).toEqual(['03:angry:M', '08:boredom:F', '09:disgust:F', '10:fearful:M', '11:happy:M', '12:sad:M', '13:neutral:F']);
    expect(ds.items.every((i) => i.corpus === 'emodb')).toBe(true);
  });

  it('reads a folder-per-label layout with nested folders and label spellings, and rejects unknown label folders', () => {
    const ds = loadDataset(tree(['angry/a.wav', 'Happy/session2/b.mp3', 'pleasant-surprise/c.ogg', 'Sadness/d.flac']));
    expect(ds.items.map((i) => i.label).sort()).toEqual(['angry', 'happy', 'pleasant_surprise', 'sad']);
    expect(ds.items.every((i) => i.corpus === 'folder-labels' && i.speaker === undefined)).toBe(true);
    const bad = tree(['angry/a.wav', 'excited/b.wav', 'sad/c.wav']);
    expect(() => loadDataset(bad)).toThrow(/unknown label folder\(s\).*excited/);
  });

  it('reads a CSV manifest relative to its folder, by header names or by position', () => {
    const root = tree(['clips/a.wav', 'clips/b,2.wav', 'clips/c.flac', 'clips/d.wav']);
    writeFileSync(join(root, 'manifest.csv'), 'path,emotion,speaker,sex,duration_s\nclips/a.wav,Anger,s1,M,2.1\r\n"clips/b,2.wav",happy,s2,F,1.0\nclips/c.flac,sad,s1,M,3\nclips/gone.wav,sad,s3,F,1\n');
    const ds = loadDataset(join(root, 'manifest.csv'));
    expect(ds.items.map((i) => [i.path.slice(root.length + 1).replace(/\\/g, '/'), i.label, i.speaker, i.sex])).toEqual([
      ['clips/a.wav', 'angry', 's1', 'M'], ['clips/b,2.wav', 'happy', 's2', 'F'], ['clips/c.flac', 'sad', 's1', 'M'],
    ]);
    expect(ds.skipped).toEqual([{ path: join(root, 'clips', 'gone.wav'), reason: 'listed in the manifest but missing on disk' }]);
    writeFileSync(join(root, 'plain.csv'), 'clips/a.wav,neutral\nclips/d.wav,calm,spk9\n');
    const plain = loadDataset(join(root, 'plain.csv'));
    expect(plain.items.map((i) => [i.label, i.speaker])).toEqual([['neutral', undefined], ['calm', 'spk9']]);
    // An absolute path is taken as it is, not joined to the manifest's folder.
    const elsewhere = mkdtempSync(join(tmpdir(), 'ser-manifest-'));
    writeFileSync(join(elsewhere, 'abs.csv'), `path,label\n${join(root, 'clips', 'c.flac')},sad\n${join(root, 'clips', 'nope.wav')},sad\n`);
    const abs = loadDataset(join(elsewhere, 'abs.csv'));
    expect(abs.items.map((i) => i.path)).toEqual([join(root, 'clips', 'c.flac')]);
    expect(abs.skipped.map((s) => s.path)).toEqual([join(root, 'clips', 'nope.wav')]);
  });

  it('names the lines of unknown manifest labels', () => {
    const root = tree(['a.wav', 'b.wav', 'c.wav']);
    writeFileSync(join(root, 'm.csv'), 'path,label\na.wav,happy\nb.wav,excited\nc.wav,excited\n');
    expect(() => loadDataset(join(root, 'm.csv'))).toThrow(/unknown label\(s\) 'excited' \(lines 3, 4\)/);
  });

  it('filters by class and by forced corpus, saying why each file was skipped', () => {
    const root = tree(['03-01-05-02-01-01-01.wav', '03-01-02-01-01-01-01.wav', 'DC_a01.wav']);
    const angry = loadDataset(root, { classes: ['angry'] });
    expect(angry.items).toHaveLength(2);
    expect(angry.skipped[0].reason).toBe('label calm not among the selected classes');
    const ravdess = loadDataset(root, { corpus: 'ravdess' });
    expect(ravdess.items.map((i) => i.corpus)).toEqual(['ravdess', 'ravdess']);
    expect(ravdess.skipped[0].reason).toBe('recognised as savee, not ravdess');
  });

  it('errors on a missing folder, an empty folder, and a folder of unrecognised names (listing the conventions)', () => {
    expect(() => loadDataset(join(tmpdir(), 'ser-no-such-folder-4711'))).toThrow(/data path not found/);
    expect(() => loadDataset(tree([]))).toThrow(/empty folder/);
    let message = '';
    try {
      loadDataset(tree(['recording.wav', 'other take.flac', 'notes.txt']));
    } catch (e) {
      expect(e).toBeInstanceOf(DatasetError);
      message = (e as Error).message;
    }
    expect(message).toMatch(/no usable audio files.*3 skipped/);
    for (const name of ['RAVDESS', 'CREMA-D', 'EMO-DB', 'SAVEE', 'TESS', 'folder per label', 'CSV manifest']) expect(message).toContain(name);
  });
});

// Recognises emotional-speech corpora from their file names and folders, without touching the
// file system (datasets.node.ts walks folders; manifest.ts reads CSV manifests). Input is a list of
// '/'-separated paths relative to the data root; each audio file is tried against every convention
// below in order, so a folder may even mix corpora. Audio extensions: wav flac mp3 ogg (any case).
//
// Conventions (stem = file name without extension):
//   RAVDESS  `MM-VV-EE-II-SS-RR-AA`, e.g. 03-01-05-02-01-01-07: modality MM (01 audio+video,
//            02 video-only, 03 audio-only), vocal channel VV (01 speech, 02 song), emotion EE
//            (01 neutral 02 calm 03 happy 04 sad 05 angry 06 fearful 07 disgust 08 surprised),
//            intensity, statement, repetition, actor AA (odd male, even female). Files named
//            with modality 01/02 are the same recordings as 03; one copy per clip is kept.
//   CREMA-D  `AAAA_SSS_EEE_LL`, e.g. 1001_DFA_ANG_XX: actor, sentence, emotion (ANG DIS FEA HAP
//            NEU SAD), level (LO MD HI XX).
//   EMO-DB   `SSTTTEV`, e.g. 03a01Fa: speaker 03..16, text a01..b10, emotion letter (W anger,
//            L boredom, E disgust, A fear, F happiness, T sadness, N neutral), version.
//   SAVEE    `SP_eNN`, e.g. DC_a01, or a folder per speaker `DC/a01`: emotion a d f h n sa su
//            (anger disgust fear happiness neutral sadness surprise); all speakers male.
//   TESS     `OAF_word_emotion`, e.g. OAF_back_angry, or a folder `OAF_angry`/`YAF_pleasant_
//            surprised`: speaker OAF or YAF (both female), emotion angry disgust fear happy
//            neutral sad ps (pleasant surprise).
//   Folders  `<label>/**/file`: the nearest enclosing folder named after an emotion. When that
//            layout is in use, any other top-level folder holding unrecognised audio is an
//            unknown label and an error (a typo must not silently drop a class).
// Corpus names win over folders, so `angry/03-01-05-...wav` is read as RAVDESS.

import {
  CREMA_D_CODES, EMODB_CODES, EMODB_SPEAKER_SEX, RAVDESS_CODES, SAVEE_CODES, TESS_CODES,
  classesPresent, normaliseLabel, type Emotion,
} from './labels';

export type CorpusKind = 'ravdess' | 'crema-d' | 'emodb' | 'savee' | 'tess' | 'folder-labels' | 'csv';
export type Sex = 'M' | 'F';

export interface DatasetItem {
  path: string;
  label: Emotion;
  speaker?: string;
  sex?: Sex;
  corpus: CorpusKind;
}
export interface SkippedFile { path: string; reason: string }
export interface Dataset {
  items: DatasetItem[];
  skipped: SkippedFile[];
  warnings: string[];
  /** Labels present, in vocabulary order. */
  classes: Emotion[];
}

export interface DatasetOptions {
  /** Accept only this convention (others are skipped); default: try all. */
  corpus?: CorpusKind;
  /** Keep only these labels (others are skipped); default: all. */
  classes?: readonly Emotion[];
  /** Names the data in error messages (a folder or file path). */
  source?: string;
}

export const AUDIO_EXTENSIONS = ['wav', 'flac', 'mp3', 'ogg'] as const;

export const SUPPORTED_CONVENTIONS = [
  'RAVDESS: 03-01-05-02-01-01-07.wav (modality-channel-emotion-intensity-statement-repetition-actor)',
  'CREMA-D: 1001_DFA_ANG_XX.wav (actor_sentence_emotion_level)',
  'EMO-DB: 03a01Fa.wav (speaker, text, emotion letter W L E A F T N, version)',
  'SAVEE: DC_a01.wav or DC/a01.wav (speaker, emotion a d f h n sa su, number)',
  'TESS: OAF_back_angry.wav or OAF_angry/*.wav (speaker OAF/YAF, word, emotion)',
  'folder per label: <label>/*.wav, e.g. angry/clip1.wav',
  'CSV manifest: path,label[,speaker] with paths relative to the CSV',
];

export class DatasetError extends Error {
  override name = 'DatasetError';
}

type Parsed = Omit<DatasetItem, 'path'> & { clipKey?: string; rank?: number };

const RAVDESS_RE = /^(0[1-3])-(0[12])-(\d\d)-(0[12])-(0[12])-(\d\d)-(\d\d)$/;
const CREMA_D_RE = /^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})$/;
const EMODB_RE = /^(\d\d)([ab]\d\d)([WLEAFTN])([a-z])$/;
const SAVEE_RE = /^([A-Z]{2})_(sa|su|[adfhn])(\d\d)$/;
const SAVEE_STEM_RE = /^(sa|su|[adfhn])(\d\d)$/;
const TESS_RE = /^(OAF|YAF)_([a-z]+)_([a-z]+)$/i;
const TESS_FOLDER_RE = /^(OAF|YAF)_(.+)$/i;

/** The file-name part of the conventions; a string return is why a near-match was rejected. */
function parseStem(stem: string, folders: string[]): Parsed | string | undefined {
  const parent = folders[folders.length - 1] ?? '';
  let m = RAVDESS_RE.exec(stem);
  if (m) {
    const label = RAVDESS_CODES[m[3]];
    if (!label) return `unknown RAVDESS emotion code ${m[3]}`;
    const actor = Number(m[7]);
    return {
      label, corpus: 'ravdess', speaker: `Actor_${m[7]}`, sex: actor % 2 === 1 ? 'M' : 'F',
      clipKey: stem.slice(3), rank: m[1] === '03' ? 0 : m[1] === '01' ? 1 : 2,
    };
  }
  if ((m = CREMA_D_RE.exec(stem))) {
    const label = CREMA_D_CODES[m[3]];
    if (!label) return `unknown CREMA-D emotion code ${m[3]}`;
    return { label, corpus: 'crema-d', speaker: m[1] };
  }
  if ((m = EMODB_RE.exec(stem))) {
    return { label: EMODB_CODES[m[3]], corpus: 'emodb', speaker: m[1], sex: EMODB_SPEAKER_SEX[m[1]] };
  }
  if ((m = SAVEE_RE.exec(stem))) {
    return { label: SAVEE_CODES[m[2]], corpus: 'savee', speaker: m[1], sex: 'M' };
  }
  if ((m = SAVEE_STEM_RE.exec(stem)) && /^[A-Z]{2}$/.test(parent)) {
    return { label: SAVEE_CODES[m[1]], corpus: 'savee', speaker: parent, sex: 'M' };
  }
  if ((m = TESS_RE.exec(stem))) {
    const label = TESS_CODES[m[3].toLowerCase()] ?? normaliseLabel(m[3]);
    if (!label) return `unknown TESS emotion ${m[3]}`;
    return { label, corpus: 'tess', speaker: m[1].toUpperCase(), sex: 'F' };
  }
  if ((m = TESS_FOLDER_RE.exec(parent))) {
    const label = normaliseLabel(m[2]);
    if (label) return { label, corpus: 'tess', speaker: m[1].toUpperCase(), sex: 'F' };
  }
  for (let i = folders.length - 1; i >= 0; i--) {
    const label = normaliseLabel(folders[i]);
    if (label) return { label, corpus: 'folder-labels' };
  }
  return undefined;
}

function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

export function isAudioFile(path: string): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1);
  return (AUDIO_EXTENSIONS as readonly string[]).includes(extensionOf(name));
}

/** Parses one relative path; undefined when no convention matches, a string when one nearly did. */
export function parseAudioPath(relPath: string): Parsed | string | undefined {
  const parts = relPath.split('/').filter((p) => p.length > 0);
  const name = parts.pop() ?? '';
  const stem = name.slice(0, name.length - extensionOf(name).length - 1);
  return parseStem(stem, parts);
}

/** Keeps one copy of each RAVDESS clip, preferring the audio-only (03) file name. */
function dropRavdessDuplicates(parsed: Array<[string, Parsed]>, skipped: SkippedFile[], warnings: string[]): Array<[string, Parsed]> {
  const best = new Map<string, [string, Parsed]>();
  let video = 0;
  for (const entry of parsed) {
    const { clipKey, rank } = entry[1];
    if (clipKey === undefined || rank === undefined) continue;
    if (rank > 0) video++;
    const held = best.get(clipKey);
    if (!held || (held[1].rank ?? 0) > rank) best.set(clipKey, entry);
  }
  if (video === 0) return parsed;
  const kept = parsed.filter((entry) => {
    const { clipKey } = entry[1];
    if (clipKey === undefined) return true;
    const winner = best.get(clipKey);
    if (winner === entry) return true;
    skipped.push({ path: entry[0], reason: `duplicate RAVDESS clip (same recording as ${winner?.[0]})` });
    return false;
  });
  warnings.push(
    `${video} RAVDESS file(s) carry video modality 01/02: they are the same recordings as the ` +
      `audio-only (03) clips, so only one copy per clip is kept (${parsed.length - kept.length} dropped)`,
  );
  return kept;
}

/** Errors on an empty result, naming what was found so the user can tell what went wrong. */
export function finishDataset(items: DatasetItem[], skipped: SkippedFile[], warnings: string[], options: DatasetOptions): Dataset {
  const where = options.source ? ` in ${options.source}` : '';
  if (items.length === 0) {
    const reasons = [...new Set(skipped.map((s) => s.reason))].slice(0, 5);
    throw new DatasetError(
      `no usable audio files${where} (${skipped.length} skipped${reasons.length ? ': ' + reasons.join('; ') : ''}).\n` +
        `Supported conventions:\n  ${SUPPORTED_CONVENTIONS.join('\n  ')}`,
    );
  }
  return { items, skipped, warnings, classes: classesPresent(items.map((i) => i.label)) };
}

/** Keeps an item unless the options exclude its corpus or label (then says why). */
export function admit(item: DatasetItem, options: DatasetOptions): string | undefined {
  if (options.corpus && item.corpus !== options.corpus) return `recognised as ${item.corpus}, not ${options.corpus}`;
  if (options.classes && !options.classes.includes(item.label)) return `label ${item.label} not among the selected classes`;
  return undefined;
}

/** Builds a data set from paths relative to a root ('/'-separated); item paths stay relative. */
export function datasetFromPaths(relPaths: readonly string[], options: DatasetOptions = {}): Dataset {
  const where = options.source ? ` ${options.source}` : '';
  if (relPaths.length === 0) throw new DatasetError(`empty folder${where}: no files found`);
  const skipped: SkippedFile[] = [];
  const warnings: string[] = [];
  let parsed: Array<[string, Parsed]> = [];
  const unknownTopFolders = new Set<string>();
  for (const path of relPaths) {
    if (!isAudioFile(path)) {
      skipped.push({ path, reason: `not an audio file (${AUDIO_EXTENSIONS.join(', ')})` });
      continue;
    }
    const result = parseAudioPath(path);
    if (typeof result === 'object') {
      parsed.push([path, result]);
      continue;
    }
    const parts = path.split('/');
    if (result === undefined && parts.length === 2) unknownTopFolders.add(parts[0]);
    skipped.push({ path, reason: result ?? 'file name matches no supported convention' });
  }
  if (unknownTopFolders.size > 0 && parsed.some(([, p]) => p.corpus === 'folder-labels')) {
    throw new DatasetError(
      `unknown label folder(s)${where}: ${[...unknownTopFolders].join(', ')}; ` +
        `folder names must be emotions such as neutral, calm, happy, sad, angry, fearful, disgust, ` +
        `surprised, boredom, pleasant_surprise`,
    );
  }
  parsed = dropRavdessDuplicates(parsed, skipped, warnings);
  const items: DatasetItem[] = [];
  for (const [path, p] of parsed) {
    const item: DatasetItem = { path, label: p.label, corpus: p.corpus };
    if (p.speaker !== undefined) item.speaker = p.speaker;
    if (p.sex !== undefined) item.sex = p.sex;
    const reason = admit(item, options);
    if (reason) skipped.push({ path, reason });
    else items.push(item);
  }
  return finishDataset(items, skipped, warnings, options);
}

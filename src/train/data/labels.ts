// The canonical emotion vocabulary shared by every corpus, and each corpus's code table into it.
// The first eight are RAVDESS's classes (the model's default output order); boredom (EMO-DB) and
// pleasant_surprise (TESS) stay separate classes because only one corpus has each, and folding them
// into a neighbour would silently change what that corpus's label means.

export const EMOTIONS = [
  'neutral', 'calm', 'happy', 'sad', 'angry', 'fearful', 'disgust', 'surprised',
  'boredom', 'pleasant_surprise',
] as const;
export type Emotion = (typeof EMOTIONS)[number];

/** The eight RAVDESS classes, in RAVDESS code order (01..08). */
export const RAVDESS_CLASSES: readonly Emotion[] = EMOTIONS.slice(0, 8);

/** RAVDESS emotion field EE of `MM-VV-EE-II-SS-RR-AA`. */
export const RAVDESS_CODES: Readonly<Record<string, Emotion>> = {
  '01': 'neutral', '02': 'calm', '03': 'happy', '04': 'sad',
  '05': 'angry', '06': 'fearful', '07': 'disgust', '08': 'surprised',
};

/** CREMA-D third field of `1001_DFA_ANG_XX`. */
export const CREMA_D_CODES: Readonly<Record<string, Emotion>> = {
  ANG: 'angry', DIS: 'disgust', FEA: 'fearful', HAP: 'happy', NEU: 'neutral', SAD: 'sad',
};

/** TESS last word of `OAF_back_angry` (lower-cased); folders also spell `pleasant_surprise(d)`. */
export const TESS_CODES: Readonly<Record<string, Emotion>> = {
  angry: 'angry', disgust: 'disgust', fear: 'fearful', happy: 'happy', neutral: 'neutral',
  sad: 'sad', ps: 'pleasant_surprise',
};

/** SAVEE letter prefix of `a01` (Surrey Audio-Visual Expressed Emotion). */
export const SAVEE_CODES: Readonly<Record<string, Emotion>> = {
  a: 'angry', d: 'disgust', f: 'fearful', h: 'happy', n: 'neutral', sa: 'sad', su: 'surprised',
};

/** EMO-DB sixth character of `03a01Fa`: the German initial of the emotion. */
export const EMODB_CODES: Readonly<Record<string, Emotion>> = {
  W: 'angry', // Wut / Ärger
  L: 'boredom', // Langeweile
  E: 'disgust', // Ekel
  A: 'fearful', // Angst
  F: 'happy', // Freude
  T: 'sad', // Trauer
  N: 'neutral',
};

/** EMO-DB speaker sex, from the corpus documentation (speakers 03..16). */
export const EMODB_SPEAKER_SEX: Readonly<Record<string, 'M' | 'F'>> = {
  '03': 'M', '08': 'F', '09': 'F', '10': 'M', '11': 'M',
  '12': 'M', '13': 'F', '14': 'F', '15': 'M', '16': 'F',
};

// Free-text spellings seen in folder names and manifests; keys are lower-case with spaces, hyphens
// and underscores removed so `Pleasant-Surprised` and `pleasant_surprise` meet.
const SYNONYMS: Readonly<Record<string, Emotion>> = {
  neutral: 'neutral', neu: 'neutral',
  calm: 'calm',
  happy: 'happy', happiness: 'happy', joy: 'happy', hap: 'happy',
  sad: 'sad', sadness: 'sad',
  angry: 'angry', anger: 'angry', ang: 'angry',
  fearful: 'fearful', fear: 'fearful', fea: 'fearful', afraid: 'fearful',
  disgust: 'disgust', disgusted: 'disgust', dis: 'disgust',
  surprised: 'surprised', surprise: 'surprised', sur: 'surprised',
  boredom: 'boredom', bored: 'boredom',
  pleasantsurprise: 'pleasant_surprise', pleasantsurprised: 'pleasant_surprise', ps: 'pleasant_surprise',
};

/** Maps a free-text label (folder name, manifest cell) to the vocabulary, or undefined. */
export function normaliseLabel(text: string): Emotion | undefined {
  return SYNONYMS[text.trim().toLowerCase().replace(/[\s_-]+/g, '')];
}

/** Class names actually present, in vocabulary order (so two runs on one corpus agree). */
export function classesPresent(labels: Iterable<Emotion>): Emotion[] {
  const seen = new Set(labels);
  return EMOTIONS.filter((e) => seen.has(e));
}

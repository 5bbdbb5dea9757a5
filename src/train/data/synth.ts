// A deterministic synthetic emotional-speech corpus (pure TypeScript, seeded, 22050 Hz mono), for
// tests and for training runs that need no real data. Source-filter voice:
//   source  sawtooth-like glottal pulse train (period jitter, per-period amplitude shimmer), tilted
//           by a one-pole low-pass, plus breath noise gated by the glottal open phase;
//   filter  four cascaded formant resonators (Klatt form, unity DC gain) gliding between vowel
//           targets, scaled by the speaker's vocal-tract length;
//   prosody syllables at a class-dependent rate with pauses, a raised-cosine envelope per syllable,
//           an utterance pitch contour (fall, rise, arch, flat) plus pitch accents on some syllables.
// Each class (the eight RAVDESS emotions) draws pitch level and range, contour, rate, loudness,
// jitter, shimmer, breathiness and spectral tilt from its own distribution; the distributions
// overlap on purpose. Speakers carry their own base pitch, formant scale, rate and loudness, so
// holding out speakers is meaningful. Clips last 1.5-3 s; loudness is set as a voiced RMS target.

import { RAVDESS_CLASSES, type Emotion } from './labels';
import { createRng, type Rng } from '../../common/random';

export const SYNTH_SAMPLE_RATE = 22050;

type Contour = 'fall' | 'rise' | 'arch' | 'flat';

interface ClassProfile {
  pitch: number; // semitones above the speaker's base
  range: number; // semitones spanned by contour and accents
  contour: Contour;
  rate: number; // syllables per second
  loudness: number; // dB relative to neutral
  jitter: number; // relative period perturbation
  shimmer: number; // relative amplitude perturbation per period
  breath: number; // noise amplitude relative to the voice
  tilt: number; // one-pole low-pass pole: higher is darker
  pause: number; // probability of a pause after a syllable
  tremor: number; // semitones of 6 Hz pitch tremor
}

const PROFILES: Readonly<Record<Emotion, ClassProfile>> = {
  neutral: { pitch: 0, range: 3, contour: 'fall', rate: 4.0, loudness: 0, jitter: 0.005, shimmer: 0.03, breath: 0.05, tilt: 0.6, pause: 0.12, tremor: 0 },
  calm: { pitch: -1, range: 2, contour: 'flat', rate: 3.3, loudness: -4, jitter: 0.004, shimmer: 0.025, breath: 0.12, tilt: 0.75, pause: 0.18, tremor: 0 },
  happy: { pitch: 4, range: 8, contour: 'arch', rate: 4.6, loudness: 4, jitter: 0.008, shimmer: 0.04, breath: 0.06, tilt: 0.4, pause: 0.1, tremor: 0 },
  sad: { pitch: -2, range: 2, contour: 'fall', rate: 2.8, loudness: -6, jitter: 0.012, shimmer: 0.06, breath: 0.2, tilt: 0.8, pause: 0.25, tremor: 0.2 },
  angry: { pitch: 5, range: 6, contour: 'fall', rate: 5.0, loudness: 8, jitter: 0.01, shimmer: 0.05, breath: 0.04, tilt: 0.2, pause: 0.08, tremor: 0 },
  fearful: { pitch: 7, range: 5, contour: 'rise', rate: 5.2, loudness: 1, jitter: 0.02, shimmer: 0.07, breath: 0.15, tilt: 0.5, pause: 0.15, tremor: 0.6 },
  disgust: { pitch: -1.5, range: 4, contour: 'fall', rate: 3.2, loudness: 1, jitter: 0.01, shimmer: 0.05, breath: 0.1, tilt: 0.55, pause: 0.2, tremor: 0 },
  surprised: { pitch: 6, range: 10, contour: 'rise', rate: 4.4, loudness: 5, jitter: 0.007, shimmer: 0.04, breath: 0.08, tilt: 0.35, pause: 0.1, tremor: 0 },
  boredom: { pitch: -1.5, range: 1.5, contour: 'flat', rate: 3.0, loudness: -3, jitter: 0.006, shimmer: 0.04, breath: 0.12, tilt: 0.7, pause: 0.2, tremor: 0 },
  pleasant_surprise: { pitch: 6, range: 9, contour: 'arch', rate: 4.4, loudness: 4, jitter: 0.007, shimmer: 0.04, breath: 0.08, tilt: 0.4, pause: 0.1, tremor: 0 },
};

// F1-F4 in Hz for an adult male tract (a, e, i, o, u); bandwidths are per formant.
const VOWELS: readonly (readonly number[])[] = [
  [730, 1090, 2440, 3400], [530, 1840, 2480, 3500], [270, 2290, 3010, 3700], [570, 840, 2410, 3400], [300, 870, 2240, 3300],
];
const BANDWIDTHS = [80, 100, 140, 200];
const CONTOURS: readonly Contour[] = ['fall', 'rise', 'arch', 'flat'];
const VOICED_RMS = 0.035; // neutral level, about -29 dBFS, leaving headroom for +8 dB classes
const BLOCK = 32; // samples between updates of pitch and formant coefficients

export interface SynthSpeaker {
  id: string;
  /** 1-based; odd numbers are male, as in RAVDESS. */
  number: number;
  sex: 'M' | 'F';
  baseF0: number;
  formantScale: number;
  rateScale: number;
  loudness: number;
}

/** Speakers 1..count: odd male (base F0 ~ 100-135 Hz), even female (~ 185-235 Hz). */
export function makeSpeakers(count: number, seed = 0): SynthSpeaker[] {
  const rng = createRng(seed ^ 0x5eed);
  return Array.from({ length: count }, (_, i) => {
    const male = i % 2 === 0;
    const number = i + 1;
    return {
      id: `Actor_${String(number).padStart(2, '0')}`,
      number,
      sex: male ? 'M' : 'F',
      baseF0: male ? 100 + 35 * rng.next() : 185 + 50 * rng.next(),
      formantScale: male ? 0.92 + 0.1 * rng.next() : 1.08 + 0.12 * rng.next(),
      rateScale: 0.88 + 0.24 * rng.next(),
      loudness: 4 * rng.next() - 2,
    };
  });
}

function contourAt(shape: Contour, u: number): number {
  switch (shape) {
    case 'fall': return 0.5 - u;
    case 'rise': return u * u - 0.3;
    case 'arch': return Math.sin(Math.PI * u) - 0.5;
    case 'flat': return 0;
  }
}

type NumericField = Exclude<keyof ClassProfile, 'contour'>;
const NUMERIC_FIELDS = Object.keys(PROFILES.neutral).filter((k) => k !== 'contour') as NumericField[];
/** Each numeric profile field's mean over the eight RAVDESS emotions: the centre `separated` scales from. */
const PROFILE_CENTRE = Object.fromEntries(
  NUMERIC_FIELDS.map((k) => [k, RAVDESS_CLASSES.reduce((sum, c) => sum + PROFILES[c][k], 0) / RAVDESS_CLASSES.length]),
) as Record<NumericField, number>;
/** Physical bounds of the fields, kept when a profile is pushed away from the centre. */
const FIELD_BOUNDS: Partial<Record<NumericField, [number, number]>> = {
  range: [0, 24], rate: [1.5, 8], jitter: [0, 0.05], shimmer: [0, 0.15], breath: [0, 0.5], tilt: [0, 0.95], pause: [0, 0.5], tremor: [0, 2],
};

/** The profile with every numeric field's distance from the centre of the eight emotions times `s`. */
function separated(p: ClassProfile, s: number): ClassProfile {
  const out = { ...p };
  for (const k of NUMERIC_FIELDS) {
    const [lo, hi] = FIELD_BOUNDS[k] ?? [-Infinity, Infinity];
    out[k] = Math.min(hi, Math.max(lo, PROFILE_CENTRE[k] + s * (p[k] - PROFILE_CENTRE[k])));
  }
  return out;
}

/**
 * One clip's parameters: the class profile with per-clip spread, on top of the speaker. `variation`
 * scales every per-clip deviation from the class profile (1: the original corpus; smaller values make
 * the classes easier to tell apart); `separation` scales the class profiles' distances from their
 * centre (1: the original profiles; larger: more distinct classes). The draws do not depend on either.
 */
function drawParameters(label: Emotion, speaker: SynthSpeaker, rng: Rng, variation: number, separation: number) {
  const p = separation === 1 ? PROFILES[label] : separated(PROFILES[label], separation);
  const v = variation;
  const spread = (x: number, relative: number): number => Math.max(0, x * (1 + v * relative * rng.normal()));
  return {
    f0: speaker.baseF0 * 2 ** ((p.pitch + v * 1.5 * rng.normal()) / 12),
    range: spread(p.range, 0.25),
    contour: rng.next() < 1 - 0.3 * v ? p.contour : CONTOURS[rng.int(CONTOURS.length)],
    rate: Math.max(1.5, spread(p.rate * speaker.rateScale, 0.12)),
    loudness: p.loudness + speaker.loudness + v * 2 * rng.normal(),
    jitter: spread(p.jitter, 0.3),
    shimmer: spread(p.shimmer, 0.3),
    breath: spread(p.breath, 0.3),
    tilt: Math.min(0.95, Math.max(0, p.tilt + v * 0.08 * rng.normal())),
    pause: p.pause,
    tremor: p.tremor,
    duration: 1.5 + 1.5 * rng.next(),
  };
}

interface Syllable { start: number; end: number; vowel: number; accent: boolean }

function schedule(duration: number, rate: number, pause: number, rng: Rng): Syllable[] {
  const syllables: Syllable[] = [];
  let t = 0.05 + 0.1 * rng.next();
  const stop = duration - 0.08;
  while (t < stop - 0.08) {
    const end = Math.min(stop, t + (0.7 + 0.6 * rng.next()) / rate);
    syllables.push({ start: t, end, vowel: rng.int(VOWELS.length), accent: rng.next() < 0.35 });
    t = end + (rng.next() < pause ? 0.1 + 0.2 * rng.next() : 0.01);
  }
  return syllables;
}

/** Synthesises one clip; the same (label, speaker, seed, variation) always gives the same samples. */
export function synthesizeClip(label: Emotion, speaker: SynthSpeaker, seed: number, variation = 1, separation = 1): Float32Array {
  const rng = createRng(seed);
  const q = drawParameters(label, speaker, rng, variation, separation);
  const sr = SYNTH_SAMPLE_RATE;
  const n = Math.round(q.duration * sr);
  const syllables = schedule(q.duration, q.rate, q.pause, rng);
  const out = new Float32Array(n);
  const y1 = new Float64Array(4), y2 = new Float64Array(4);
  const ca = new Float64Array(4), cb = new Float64Array(4), cc = new Float64Array(4);
  let phase = 0, period = 1, amp = 1, tilted = 0, syl = 0, prevVowel = syllables[0]?.vowel ?? 0;
  let f0 = q.f0, voicedEnergy = 0, voicedCount = 0;
  for (let i = 0; i < n; i++) {
    const t = i / sr;
    while (syl < syllables.length && t >= syllables[syl].end) prevVowel = syllables[syl++].vowel;
    const s = syllables[syl];
    const inside = s !== undefined && t >= s.start;
    const local = inside ? (t - s.start) / (s.end - s.start) : 0;
    if (i % BLOCK === 0) {
      const accent = inside && s.accent ? 0.4 * q.range * Math.sin(Math.PI * local) : 0;
      const semis = q.range * contourAt(q.contour, t / q.duration) + accent + q.tremor * Math.sin(2 * Math.PI * 6 * t);
      f0 = q.f0 * 2 ** (semis / 12);
      if (inside) {
        const glide = Math.min(1, local / 0.4);
        const w = glide * glide * (3 - 2 * glide);
        for (let k = 0; k < 4; k++) {
          const freq = speaker.formantScale * ((1 - w) * VOWELS[prevVowel][k] + w * VOWELS[s.vowel][k]);
          const bw = BANDWIDTHS[k] * (1 + 2 * q.breath);
          cc[k] = -Math.exp((-2 * Math.PI * bw) / sr);
          cb[k] = 2 * Math.exp((-Math.PI * bw) / sr) * Math.cos((2 * Math.PI * freq) / sr);
          ca[k] = 1 - cb[k] - cc[k];
        }
      }
    }
    phase += f0 / (sr * period);
    if (phase >= 1) {
      phase -= 1;
      period = 1 + q.jitter * rng.normal();
      amp = 1 + q.shimmer * rng.normal();
    }
    const envelope = inside ? Math.sqrt(Math.sin(Math.PI * local)) : 0;
    tilted = (1 - q.tilt) * (1 - 2 * phase) * amp + q.tilt * tilted;
    const noise = 2 * rng.next() - 1;
    let x = envelope * (tilted + q.breath * noise * (phase < 0.6 ? 1 : 0.4));
    for (let k = 0; k < 4; k++) {
      const y = ca[k] * x + cb[k] * y1[k] + cc[k] * y2[k];
      y2[k] = y1[k];
      y1[k] = y;
      x = y;
    }
    out[i] = x;
    if (envelope > 0.5) { voicedEnergy += x * x; voicedCount++; }
  }
  const gain = (VOICED_RMS * 10 ** (q.loudness / 20)) / Math.sqrt(voicedEnergy / Math.max(1, voicedCount) || 1);
  // A faint noise floor keeps pauses from being digital silence, as in real recordings.
  for (let i = 0; i < n; i++) out[i] = Math.max(-1, Math.min(1, out[i] * gain + 3e-4 * (2 * rng.next() - 1)));
  return out;
}

export interface SynthClip { label: Emotion; speaker: SynthSpeaker; take: number; seed: number; samples: Float32Array }

export interface SynthCorpusOptions {
  speakers?: number;
  clipsPerClassPerSpeaker?: number;
  classes?: readonly Emotion[];
  seed?: number;
  /** Scale of each clip's deviation from its class profile (default 1; 0: every clip on the profile). */
  variation?: number;
  /** Scale of the class profiles' distances from their centre (default 1; larger: more distinct classes). */
  separation?: number;
}

/** speakers x classes x clips clips, ordered by speaker, then class, then take. */
export function synthCorpus(options: SynthCorpusOptions = {}): SynthClip[] {
  const { speakers = 8, clipsPerClassPerSpeaker = 5, classes = RAVDESS_CLASSES, seed = 0, variation = 1, separation = 1 } = options;
  if (!(variation >= 0 && variation <= 1)) throw new RangeError(`synthCorpus: variation must lie in [0, 1], got ${variation}`);
  if (!(separation >= 1 && separation <= 4)) throw new RangeError(`synthCorpus: separation must lie in [1, 4], got ${separation}`);
  const clips: SynthClip[] = [];
  for (const speaker of makeSpeakers(speakers, seed)) {
    classes.forEach((label, c) => {
      for (let take = 0; take < clipsPerClassPerSpeaker; take++) {
        const clipSeed = (Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(speaker.number * 1009 + c * 101 + take, 0x85ebca6b)) >>> 0;
        clips.push({ label, speaker, take, seed: clipSeed, samples: synthesizeClip(label, speaker, clipSeed, variation, separation) });
      }
    });
  }
  return clips;
}

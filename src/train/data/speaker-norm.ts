// Speaker normalisation (`ser train --speaker-norm`): every feature row of a clip is standardised with
// the mean and standard deviation of that row over all clips of the clip's speaker (all their frames,
// or only the frames before padding when `lengths` is given), before the training split's global
// scaler. It removes what is constant about a voice (vocal-tract length in the MFCCs, the register in
// the chroma and centroid) and keeps what varies within it, which is what emotion does.
//
// The statistics use no labels, but they do use every clip of a speaker: held-out speakers are
// normalised with statistics of their own (unlabelled) clips, as the speaker-normalisation literature
// does. A model trained this way needs such statistics at inference too: predictFeatures takes the
// speaker of each clip and normalises the clips it is given per speaker, so it should get many clips
// of each speaker (spanning their emotions) — one clip alone is normalised by itself.

import { createRng } from '../../common/random';
import { fitScaler, transform, type ScalerStats } from './scaler';
import { groupBy } from './splits';

export interface SpeakerNormOptions {
  rows: number;
  frames: number;
  /** Frames of each clip before padding (indexed like the features); default all frames. */
  lengths?: readonly number[];
}

/**
 * The speaker of every clip (items from a data set or training data; pathOf names item i in the
 * error); `who` says what needs them, e.g. '--speaker-norm'. Refused when any clip has none.
 */
export function clipSpeakers(items: readonly { speaker?: string }[], pathOf: (i: number) => string, who: string): string[] {
  const missing = items.findIndex((e) => !e.speaker);
  if (missing >= 0) throw new RangeError(`${who} needs the speaker of every clip, and ${pathOf(missing)} has none (the data set's layout, or its manifest's speaker column, names the speakers)`);
  return items.map((e) => e.speaker!);
}

/** Per-row statistics of each speaker's clips: speakers[i] names the speaker of features[i]. */
export function speakerStats(features: readonly Float32Array[], speakers: readonly string[], opts: SpeakerNormOptions): Map<string, ScalerStats> {
  if (speakers.length !== features.length) throw new RangeError(`speaker normalisation: ${features.length} clips but ${speakers.length} speakers`);
  const stats = new Map<string, ScalerStats>();
  for (const [s, idx] of groupBy(speakers)) stats.set(s, fitScaler(features, idx, opts));
  return stats;
}

/** features[i] standardised with the statistics of speakers[i] (new arrays; `stats` from speakerStats). */
export function speakerNormalised(features: readonly Float32Array[], speakers: readonly string[], stats: ReadonlyMap<string, ScalerStats>): Float32Array[] {
  if (speakers.length !== features.length) throw new RangeError(`speaker normalisation: ${features.length} clips but ${speakers.length} speakers`);
  return features.map((f, i) => {
    const s = stats.get(speakers[i]!);
    if (!s) throw new RangeError(`speaker normalisation: no statistics for speaker '${speakers[i]}'`);
    return transform(s, f);
  });
}

/** Both steps for one set of clips: each clip standardised with its own speaker's statistics. */
export function normalisePerSpeaker(features: readonly Float32Array[], speakers: readonly string[], opts: SpeakerNormOptions): Float32Array[] {
  return speakerNormalised(features, speakers, speakerStats(features, speakers, opts));
}

/**
 * Splits every speaker's clips into random groups of at most `size` (a seeded shuffle per speaker,
 * dealt round-robin into ceil(n / size) groups, so group sizes differ by at most one) and names each
 * clip's group `<speaker>#<g>`: normalising per group instead of per speaker measures how the
 * accuracy depends on the number of a speaker's clips inference gets (`ser evaluate --speaker-clips`).
 */
export function speakerGroups(speakers: readonly string[], size: number, seed: number): string[] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`speaker groups: size must be a positive integer, got ${size}`);
  const rng = createRng(seed);
  const out: string[] = new Array(speakers.length);
  for (const [s, idx] of groupBy(speakers)) {
    const groups = Math.ceil(idx.length / size);
    rng.shuffle(idx).forEach((i, rank) => void (out[i] = `${s}#${rank % groups}`));
  }
  return out;
}

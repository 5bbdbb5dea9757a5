// The training settings a run records (model.json `training`, report.json, the checkpoint, which
// --resume compares): the learning-rate schedule, class sampling or loss weighting, weight averaging,
// mixup, weight decay, logit adjustment and swapped augmentation, as one normalised record
// (trainingSettings), and the one description of that record that every place printing it uses
// (describeTraining: the seeds summary line, report.md's Schedule line, `ser train`'s start-up line).
// The description has a phrase for every field, in two registers (brief for one-line summaries, full
// for report.md), so a new field cannot be recorded without being printed. Browser-safe.

import type { LoopOptions } from './loop';

/** What a run records of its schedule, sampling and loss weighting (model.json, report, checkpoint). */
export interface TrainingSettings {
  schedule: 'plateau' | 'cosine';
  /** The cosine schedule's length in epochs (its rates depend on it); present only with that schedule. */
  cosineEpochs?: number;
  balance: boolean;
  /** Balanced (corpus, class) pairs instead of classes (several corpora); present only then. */
  balanceCorpora?: boolean;
  /** Present only when the loss is class-weighted, so records from before it still compare equal. */
  classWeights?: 'balanced';
  /** The epoch weight averaging starts at (average.ts); present only when averaging. */
  swaFrom?: number;
  /** Mixup's Beta concentration (mixup.ts); present only with mixup. */
  mixup?: number;
  /** AdamW's weight decay; present only when decaying. */
  weightDecay?: number;
  /** Logit adjustment of the decisions (logit-adjust.ts); present only when on. */
  logitAdjust?: boolean;
  /** Swapped augmentation's probability (schedule.ts swappedExamples); present only when swapping. */
  augmentSwap?: number;
}

export function trainingSettings(opts: Pick<LoopOptions, 'schedule' | 'balance' | 'balanceCorpora' | 'classWeights' | 'swaFrom' | 'mixup' | 'weightDecay' | 'logitAdjust' | 'augmentSwap'> & { epochs?: number }): TrainingSettings {
  return {
    schedule: opts.schedule?.kind ?? 'plateau',
    ...(opts.schedule?.kind === 'cosine' && opts.epochs !== undefined ? { cosineEpochs: opts.epochs } : {}),
    balance: !!opts.balance,
    ...(opts.balance && opts.balanceCorpora ? { balanceCorpora: true } : {}),
    ...(opts.classWeights ? { classWeights: opts.classWeights } : {}),
    ...(opts.swaFrom !== undefined ? { swaFrom: opts.swaFrom } : {}),
    ...(opts.mixup ? { mixup: opts.mixup.alpha } : {}),
    ...(opts.weightDecay ? { weightDecay: opts.weightDecay } : {}),
    ...(opts.logitAdjust ? { logitAdjust: true } : {}),
    ...(opts.augmentSwap ? { augmentSwap: opts.augmentSwap } : {}),
  };
}

/** Runs and checkpoints from before these settings were recorded used the plateau rule, unbalanced. */
export function recordedTraining(recorded: unknown): TrainingSettings {
  return (recorded as TrainingSettings | undefined) ?? trainingSettings({});
}

/** brief: the seeds summary and start-up lines; full: report.md, for a reader without the flags. */
export type TrainingRegister = 'brief' | 'full';

/**
 * Where a phrase goes in a printed line: the learning rate and what it trains (rate), which clips an
 * epoch sees and how they count (sampling), what restrains the weights (regularisation), augmentation,
 * and the cosine schedule's length (length; printers that state the planned epochs pass them instead).
 */
export type TrainingGroup = 'rate' | 'sampling' | 'regularisation' | 'augmentation' | 'length';

export interface TrainingClause {
  field: keyof TrainingSettings;
  group: TrainingGroup;
  text: string;
}

type Phrase<K extends keyof TrainingSettings> = { group: TrainingGroup; text: (v: NonNullable<TrainingSettings[K]>, r: TrainingRegister) => string };

/**
 * One phrase per field, in the order printed. The mapped type makes a field without a phrase a type
 * error; `false` fields that are always present (balance) have a phrase for both values.
 */
const PHRASES: { [K in keyof Required<TrainingSettings>]: Phrase<K> } = {
  schedule: {
    group: 'rate',
    text: (s, r) => (s === 'cosine'
      ? (r === 'brief' ? 'with cosine decay' : 'cosine decay of the learning rate over the epochs')
      : (r === 'brief' ? 'halved on plateaus' : 'learning rate halved when the validation loss stops falling')),
  },
  swaFrom: {
    group: 'rate',
    text: (e, r) => (r === 'brief' ? `weights averaged from epoch ${e}` : `from epoch ${e}, validation and the saved model use the mean of the weights at the end of each epoch since (SWA, BN recalibrated)`),
  },
  balance: {
    group: 'sampling',
    text: (b, r) => (b
      ? (r === 'brief' ? 'class-balanced epochs' : 'class-balanced epochs (clips of smaller classes repeated, each repeat with its own window)')
      : (r === 'brief' ? 'natural class frequencies' : 'every training clip once per epoch')),
  },
  balanceCorpora: {
    group: 'sampling',
    text: (_, r) => (r === 'brief' ? 'balanced across corpora' : 'corpus- and class-balanced: clips of smaller (corpus, class) pairs repeated until each is drawn as often as the largest, each repeat with its own window'),
  },
  classWeights: {
    group: 'sampling',
    text: (_, r) => (r === 'brief' ? 'class-weighted loss' : "its loss weighted by n / (classes x its class's training count)"),
  },
  logitAdjust: {
    group: 'sampling',
    text: (_, r) => (r === 'brief' ? 'logit-adjusted decisions' : 'decisions logit-adjusted (argmax of p(c | x) / training prior of c; validation loss and learning rate on the raw outputs)'),
  },
  weightDecay: {
    group: 'regularisation',
    text: (w, r) => (r === 'brief' ? `AdamW weight decay ${w}` : `AdamW: conv and dense kernels decayed by w * ${w} * lr before each update`),
  },
  mixup: {
    group: 'regularisation',
    text: (a, r) => (r === 'brief' ? `mixup alpha ${a}` : `mixup: each batch blended with a shuffled copy of itself and its labels alike, own share max(l, 1 - l), l ~ Beta(${a}, ${a}) (training accuracy counts the own label)`),
  },
  augmentSwap: {
    group: 'augmentation',
    text: (p, r) => (r === 'brief' ? `augmented copies swapped in with probability ${p}` : `each epoch every training clip is drawn as one of its augmented copies with probability ${p}, else as itself`),
  },
  cosineEpochs: {
    group: 'length',
    text: (n, r) => (r === 'brief' ? `cosine over ${n} epochs` : `the cosine decay spans ${n} epochs`),
  },
};

/**
 * The phrases describing `t`, one per field present, in PHRASES' order. `plannedEpochs`: the printer
 * states the run's planned epochs itself ("up to N epochs"), so the cosine length is left to it when
 * it is that number.
 */
export function describeTraining(t: TrainingSettings, register: TrainingRegister, plannedEpochs?: number): TrainingClause[] {
  const out: TrainingClause[] = [];
  for (const field of Object.keys(PHRASES) as (keyof TrainingSettings)[]) {
    const value = t[field];
    if (value === undefined) continue;
    if (field === 'cosineEpochs' && value === plannedEpochs) continue;
    const phrase = PHRASES[field] as Phrase<typeof field>;
    out.push({ field, group: phrase.group, text: phrase.text(value as never, register) });
  }
  return out;
}

/** The texts of `clauses` in `group`, in order. */
export function clausesOf(clauses: readonly TrainingClause[], group: TrainingGroup): string[] {
  return clauses.filter((c) => c.group === group).map((c) => c.text);
}

/** report.md's Schedule line: every phrase of `t` in the full register, grouped. */
export function trainingSentence(t: TrainingSettings): string {
  const c = describeTraining(t, 'full');
  return [clausesOf(c, 'rate').join('; '), clausesOf(c, 'sampling').join(', '), ...clausesOf(c, 'regularisation'), ...clausesOf(c, 'augmentation'), ...clausesOf(c, 'length')].join('; ');
}

/** Every phrase of `t` on one line, in the brief register (`ser train`'s start-up line). */
export function trainingLine(t: TrainingSettings, plannedEpochs?: number): string {
  return describeTraining(t, 'brief', plannedEpochs).map((c) => c.text).join('; ');
}

// The summary of repeated runs over seeds (`ser train --seeds LIST`): issue 8's first protocol is
// "the random stratified 80/20 clip split, mean over 5 seeds", and each seed draws its own split,
// initialisation, shuffles, dropout masks, windows and masks. For accuracy, UAR and macro F1: mean,
// sample standard deviation, min and max over the seeds; per class the mean recall and its lowest
// value over the seeds; every seed's figures. There is no pooled matrix: the seeds' validation sets
// overlap. Browser-safe.

import { classRecalls, pct, reportFigures, reportSpreads, spread, spreadText, type FoldsSummary } from './folds';
import { SEED_MODEL, type ModelConfig } from '../../nn/model-config';
import type { ClassificationReport } from '../scores/metrics';
import type { LoopOptions } from '../loop/loop';
import { clausesOf, describeTraining, trainingSettings } from '../loop/training-settings';

/** What the summary needs of one seed's run. */
export interface SeedOutcome {
  seed: number;
  trainExamples: number;
  valExamples: number;
  bestEpoch: number;
  epochs: number;
  /** Seconds in the run's epochs, over every call that ran them (loop.ts epochsSeconds). */
  seconds: number;
  report: ClassificationReport;
}

export interface SeedsSummary extends Pick<FoldsSummary, 'accuracy' | 'uar' | 'macroF1'> {
  seeds: number[];
  classes: string[];
  /** Per class: mean recall over the seeds (whose validation side has it) and the lowest. */
  perClassRecall: { name: string; mean: number; min: number; seeds: number }[];
  perSeed: (Omit<SeedOutcome, 'report'> & ReturnType<typeof reportFigures>)[];
}

export function summariseSeeds(outcomes: readonly SeedOutcome[], classes: readonly string[]): SeedsSummary {
  const reports = outcomes.map((o) => o.report);
  return {
    seeds: outcomes.map((o) => o.seed),
    classes: [...classes],
    ...reportSpreads(reports, classes, (i) => `seed ${outcomes[i]!.seed}`),
    perClassRecall: classes.map((name, c) => {
      const recalls = classRecalls(reports, c);
      const s = recalls.length ? spread(recalls) : { mean: 0, min: 0 };
      return { name, mean: s.mean, min: s.min, seeds: recalls.length };
    }),
    perSeed: outcomes.map(({ report, ...o }) => ({ ...o, ...reportFigures(report) })),
  };
}

/** A few console lines: the three metrics with their spread and the per-class mean recall. */
export function formatSeedsSummary(s: SeedsSummary, protocol: string): string {
  const weakest = [...s.perClassRecall].sort((a, b) => a.mean - b.mean)[0]!;
  return [
    `${s.seeds.length} seeds (${s.seeds.join(', ')}), ${protocol}; mean ± sample std over seeds:`,
    `  accuracy  ${spreadText(s.accuracy)}`,
    `  UAR       ${spreadText(s.uar)}`,
    `  macro F1  ${spreadText(s.macroF1)}`,
    `  recall per class (mean over seeds): ${s.perClassRecall.map((c) => `${c.name} ${pct(c.mean)}%`).join(', ')}; weakest ${weakest.name}`,
  ].join('\n');
}

/** seeds.md: protocol, the summary table, per-class recall (mean and lowest), every seed. */
export function seedsMarkdown(s: SeedsSummary, extra: { protocol: string; settings: string }): string {
  const row = (name: string, sp: SeedsSummary['accuracy']) => `| ${name} | ${pct(sp.mean)} | ${pct(sp.std)} | ${pct(sp.min)} | ${pct(sp.max)} |`;
  return `# ${s.seeds.length} seeds

- Protocol: ${extra.protocol}; one run per seed (seeds ${s.seeds.join(', ')}), each with its own split,
  initialisation, shuffles and dropout, in \`seed-<s>/\` with the usual files.
- Settings: ${extra.settings}
- Spread: standard deviation is the sample one (n - 1); min and max are over seeds. Each figure is
  that of the seed's best epoch, picked on its own validation clips.

## Summary (% over ${s.seeds.length} seeds, best weights of each run)

| metric | mean | std | min | max |
|---|---|---|---|---|
${row('accuracy', s.accuracy)}
${row('UAR', s.uar)}
${row('macro F1', s.macroF1)}

## Recall per class

| class | mean recall % | lowest % | seeds |
|---|---|---|---|
${s.perClassRecall.map((c) => `| ${c.name} | ${pct(c.mean)} | ${pct(c.min)} | ${c.seeds} |`).join('\n')}

## Seeds

| seed | train | val | accuracy % | UAR % | macro F1 % | best epoch | s in epochs |
|---|---|---|---|---|---|---|---|
${s.perSeed.map((r) => `| ${r.seed} | ${r.trainExamples} | ${r.valExamples} | ${pct(r.accuracy)} | ${pct(r.uar)} | ${pct(r.macroF1)} | ${r.bestEpoch} of ${r.epochs} | ${r.seconds.toFixed(0)} |`).join('\n')}
`;
}

/**
 * The protocol line of a seeds summary, from the settings every seed ran with: with a speaker split
 * and no fixed validation speakers, each seed draws its own (its report.md names them).
 */
export function seedsProtocol(p: { split: 'random' | 'speaker'; val: number; valSpeakers?: string[] }, valExamples: readonly number[]): string {
  const lo = Math.min(...valExamples);
  const hi = Math.max(...valExamples);
  const clips = lo === hi ? `${lo}` : `${lo}-${hi}`;
  if (p.split === 'random') return `random stratified clip split, ${clips} validation clips per seed`;
  if (p.valSpeakers?.length) return `speaker-independent split, validation speakers ${p.valSpeakers.join(', ')} for every seed (${clips} clips)`;
  return `speaker-independent split, about ${Math.round(100 * p.val)}% of the speakers drawn for validation by each seed (${clips} clips; each seed's report.md names them)`;
}

/** The settings line of a seeds summary: schedule, sampling and decisions, regularisation, inputs, augmentation. */
export function seedsSettings(p: {
  lr: number;
  loop: Pick<LoopOptions, 'epochs' | 'batch' | 'patience' | 'schedule' | 'balance' | 'classWeights' | 'swaFrom' | 'bnRecalibration' | 'masks' | 'augmentSwap' | 'weightDecay' | 'logitAdjust' | 'mixup'>;
  model?: Partial<ModelConfig>;
  windows?: { frames: number; evalWindows: number };
  clipFrames?: number;
  augment: boolean;
  speakerNorm?: boolean;
}): string {
  const m = { ...SEED_MODEL, ...p.model };
  const dropout = [m.stem.dropout, ...m.blocks.map((b) => b.dropout), ...m.dense.map((d) => d.dropout)].map((d) => +d.toFixed(3)).join('/');
  const { loop: l, windows: w } = p;
  // The training record's phrases (training-settings.ts); the line states the planned epochs itself.
  const t = describeTraining(trainingSettings(l), 'brief', l.epochs);
  const augmentation = clausesOf(t, 'augmentation');
  return [
    `up to ${l.epochs} epochs${l.patience > 0 ? ` (early stop after ${l.patience} without improvement)` : ''}, batch ${l.batch}, lr ${p.lr} ${clausesOf(t, 'rate').join(', ')}`,
    clausesOf(t, 'sampling').join(', '),
    [`dropout ${dropout}, label smoothing ${m.labelSmoothing}, BN momentum ${m.bnMomentum}${l.bnRecalibration > 0 ? `, BN recalibrated on ${l.bnRecalibration} clips` : ''}`, ...clausesOf(t, 'regularisation')].join(', '),
    w ? `${w.frames}-frame windows of ${p.clipFrames} frames, ${w.evalWindows} at evaluation` : 'whole clips',
    l.masks ? `masks ${l.masks.time.join(':')} (time) ${l.masks.rows.join(':')} (rows)` : 'no masks',
    p.augment ? (augmentation.length ? augmentation.join(', ') : 'augmented copies') : ['no augmentation', ...augmentation].join(', '),
    ...clausesOf(t, 'length'),
    ...(p.speakerNorm ? ['features normalised per speaker'] : []),
  ].join('; ');
}

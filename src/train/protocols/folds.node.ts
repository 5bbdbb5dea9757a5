// `ser train --folds K`: k-fold cross-validation by speaker. The data's features (and, with --augment,
// the augmented copies of every clip) are computed once; speakerKFold deals whole speakers into K
// seeded folds, which are printed and saved as OUT/splits.json before any training. Each fold then
// trains a fresh model exactly as a single `ser train` does (scaler fitted on that fold's training
// clips, augmented copies of its training clips only) into OUT/fold-<i>/ with the usual files, and
// the folds' reports are summarised in OUT/folds.json, OUT/folds.md and OUT/confusion.svg (pooled).
//
// A stopped k-fold run continues when the same command is repeated (as --seeds; --resume is refused):
// a fold whose folder holds a finished run is read from its report.json, one with a checkpoint is
// resumed from its last completed epoch. OUT/folds-settings.json pins the flags; a repeat with other
// settings in the same OUT is refused. The summary is written once every fold has finished.
// `onlyFolds` (--only-folds) trains just those folds in this call; the others are read when finished
// and skipped otherwise, so several processes (or machines sharing OUT) can each train some folds of
// one run: the call that finds every fold finished writes the summary. A skipped fold's folder is not
// touched, since another call may be training it.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkAugmentConfig, describeAugmentConfig } from '../../dsp/augment';
import type { FeatureConfig } from '../../dsp/config';
import type { FeatureExtractor } from '../../dsp/pipeline';
import type { Gpu } from '../../gpu';
import { augmentFeatures, loadTrainingData, splitRecord } from '../data/data.node.ts';
import { foldsMarkdown, formatFoldsSummary, summariseFolds, type FoldOutcome, type FoldsSummary } from './folds';
import { epochsSeconds } from '../loop/loop';
import { reportFromConfusion } from '../scores/metrics';
import { claimSettings, finishedReport, hasCheckpoint } from './protocol.node.ts';
import { confusionSvg } from './plots';
import { writeReport } from './report.node.ts';
import { checkWindows, trainOnSplit, type TrainRunOptions, type TrainRunResult } from './run.node.ts';
import { SplitError, speakerKFold } from '../data/splits';
import { corpusKFold } from '../data/corpus-splits';
import { corporaSummaryMarkdown, corpusEntries, summariseCorpora, type CorpusEntry } from './corpora-report';

export interface FoldsRunOptions extends Omit<TrainRunOptions, 'split' | 'val' | 'valSpeakers'> {
  folds: number;
  /** Several corpora: deal only this corpus's speakers; the others always train (corpus-splits.ts). */
  foldCorpus?: string;
  /** Train only these folds (1-based) in this call; the others are read if finished, else left alone. */
  onlyFolds?: readonly number[];
  /** Called before each fold trains (1-based), e.g. to label a progress bar. */
  onFold?: (fold: number, folds: number) => void;
}

export interface FoldsRunResult {
  out: string;
  /** Null when the run was stopped before every fold had finished. */
  summary: FoldsSummary | null;
  /** The folds trained by this call (not those read from an earlier call's folders). */
  folds: TrainRunResult[];
  /** Folds outside `onlyFolds` that have not finished yet (the summary waits for them). */
  pending: number[];
  seconds: number;
}

/** The outcome recorded in a fold folder whose run finished (protocol.node.ts) on these speakers, or null. */
function finishedFold(dir: string, fold: number, valSpeakers: readonly string[], loop: FoldsRunOptions['loop']): FoldOutcome | null {
  const r = finishedReport(dir, loop);
  if (!r || r.protocol?.fold !== fold || (r.protocol?.valSpeakers ?? []).join() !== valSpeakers.join()) return null;
  return { fold, valSpeakers: [...valSpeakers], trainExamples: r.trainExamples, augmentedExamples: r.augmentedExamples, valExamples: r.valExamples, bestEpoch: r.bestEpoch, epochs: r.epochs.length, seconds: epochsSeconds(r.epochs), report: reportFromConfusion(r.confusion, r.classes) };
}

export async function foldsRun(gpu: Gpu, extractorFor: (c: FeatureConfig) => FeatureExtractor, opts: FoldsRunOptions): Promise<FoldsRunResult> {
  const started = performance.now();
  const log = opts.log;
  if (opts.resume) throw new SplitError('--folds runs continue by repeating the same command (finished folds are read, a stopped one resumes): leave --resume out');
  if (!Number.isInteger(opts.folds) || opts.folds < 2) throw new SplitError(`--folds must be an integer of at least 2, got ${opts.folds}`);
  if (opts.augment) checkAugmentConfig(opts.augment);
  if (opts.windows) checkWindows(opts.windows, opts.features?.frames);
  const seed = opts.loop.seed;
  if (opts.valCorpus !== undefined) throw new SplitError('--val-corpus and --folds are two protocols: use one');
  const beyond = opts.onlyFolds?.filter((f) => !Number.isInteger(f) || f < 1 || f > opts.folds) ?? [];
  if (opts.onlyFolds?.length === 0 || beyond.length) throw new SplitError(`--only-folds must name folds 1..${opts.folds} of --folds ${opts.folds}, got ${opts.onlyFolds!.join(',') || 'none'}`);
  const data = await loadTrainingData(extractorFor, { data: opts.data, corpora: opts.corpora, cacheDir: opts.cacheDir, seed, features: opts.features, log });
  let splits;
  try {
    // Several corpora: each corpus's speakers dealt on their own, so every fold holds out 1/K of each.
    splits = data.corpora ? corpusKFold(data, opts.folds, seed, opts.foldCorpus) : speakerKFold(data.examples, { folds: opts.folds, seed });
  } catch (e) {
    throw e instanceof SplitError ? new SplitError(`--folds ${opts.folds}: ${e.message}`) : e;
  }
  claimSettings(opts.out, 'folds-settings.json', { data: opts.data ?? null, ...(opts.corpora ? { corpora: opts.corpora } : {}), ...(opts.foldCorpus !== undefined ? { foldCorpus: opts.foldCorpus } : {}), folds: opts.folds, lr: opts.lr, model: opts.model ?? null, features: opts.features ?? null, windows: opts.windows ?? null, augment: opts.augment ?? null, ...(opts.speakerNorm ? { speakerNorm: true } : {}), loop: opts.loop }, '--folds');
  log(`split: ${opts.folds}-fold cross-validation by speaker, seed ${seed}:`);
  for (const s of splits) log(`  fold ${s.description.fold}: validation speakers ${s.description.valSpeakers!.join(', ')} (${s.val.length} clips), ${s.train.length} training clips`);
  const splitsJson = {
    kind: 'speaker-kfold',
    seed,
    folds: opts.folds,
    data: data.dataDir,
    ...(data.corpora ? { corpora: data.corpora.map(({ name, data: dir }) => ({ name, data: dir })) } : {}),
    splits: splits.map((s) => splitRecord(data, s)),
  };
  await writeFile(join(opts.out, 'splits.json'), `${JSON.stringify(splitsJson, null, 2)}\n`);

  const all = data.examples.map((_, i) => i);
  const augmented = opts.augment ? await augmentFeatures(data, all, opts.augment, seed, log) : [];
  const results: TrainRunResult[] = [];
  const outcomes: FoldOutcome[] = [];
  const perCorpus: CorpusEntry[][] = [];
  const pending: number[] = [];
  for (const split of splits) {
    const fold = split.description.fold!;
    const out = join(opts.out, `fold-${fold}`);
    const done = finishedFold(out, fold, split.description.valSpeakers!, opts.loop);
    if (done) {
      log(`\nfold ${fold} of ${opts.folds}: finished before, read from ${out}/report.json`);
      outcomes.push(done);
      perCorpus.push(corpusEntries(finishedReport(out, opts.loop)?.perCorpus));
      continue;
    }
    if (opts.onlyFolds && !opts.onlyFolds.includes(fold)) {
      log(`\nfold ${fold} of ${opts.folds}: not finished and not in --only-folds ${opts.onlyFolds.join(',')}: left to another call`);
      pending.push(fold);
      continue;
    }
    const partial = hasCheckpoint(out);
    log(`\nfold ${fold} of ${opts.folds}${partial ? ': continuing its checkpoint' : ''}`);
    opts.onFold?.(fold, opts.folds);
    const r = await trainOnSplit(gpu, data, split, augmented, { ...opts, split: 'speaker', val: 0, out, resume: partial });
    if (opts.shouldStop?.()) {
      log(`stopped during fold ${fold}: ${out} keeps its last completed epoch; repeat the command to continue (no summary is written yet)`);
      return { out: opts.out, summary: null, folds: results, pending, seconds: (performance.now() - started) / 1000 };
    }
    await writeReport(r);
    results.push(r);
    const runSeconds = epochsSeconds(r.state.history);
    outcomes.push({
      fold,
      valSpeakers: split.description.valSpeakers!,
      trainExamples: r.split.train.length,
      augmentedExamples: r.augmentedSources.length,
      valExamples: r.split.val.length,
      bestEpoch: r.state.bestEpoch,
      epochs: r.state.history.length,
      seconds: runSeconds,
      report: r.report,
    });
    perCorpus.push(corpusEntries(r.perCorpus));
    log(`fold ${fold}: accuracy ${(100 * r.report.accuracy).toFixed(1)}%, UAR ${(100 * r.report.uar).toFixed(1)}%, macro F1 ${(100 * r.report.macroF1).toFixed(1)}% (best epoch ${r.state.bestEpoch}, ${runSeconds.toFixed(0)} s in its epochs)`);
  }

  if (pending.length) {
    log(`\nfold${pending.length > 1 ? 's' : ''} ${pending.join(', ')} not finished yet: the call that finds every fold finished writes the summary (${opts.out}/folds.md)`);
    return { out: opts.out, summary: null, folds: results, pending, seconds: (performance.now() - started) / 1000 };
  }
  const summary = summariseFolds(outcomes, data.classes, seed);
  const augmentation = opts.augment ? `${describeAugmentConfig(opts.augment)}; validation clips are never augmented` : 'none';
  const seconds = (performance.now() - started) / 1000;
  // Several corpora: each corpus's figures over the folds (e.g. "CREMA-D 5-fold by actor").
  const corpora = data.corpora ? summariseCorpora(perCorpus) : null;
  const corporaMd = corpora ? `\n${data.corpora!.length > 1 && opts.foldCorpus === undefined ? `Every fold held out 1/${opts.folds} of each corpus's speakers, the other corpora's clips training with them.` : `Only ${opts.foldCorpus}'s speakers were dealt into folds; the other corpora trained in every fold.`}\n\n${corporaSummaryMarkdown(corpora, 'folds')}` : '';
  await writeFile(join(opts.out, 'folds.json'), `${JSON.stringify({ ...summary, augment: opts.augment ?? null, ...(corpora ? { corpora: data.corpora, ...(opts.foldCorpus !== undefined ? { foldCorpus: opts.foldCorpus } : {}), perCorpus: corpora } : {}), seconds }, null, 2)}\n`);
  await writeFile(join(opts.out, 'folds.md'), foldsMarkdown(summary, { augmentation }) + corporaMd);
  const pooled = reportFromConfusion(summary.pooled.confusion, summary.classes);
  await writeFile(join(opts.out, 'confusion.svg'), await confusionSvg(pooled, summary.classes, `pooled out-of-fold confusion (accuracy ${(100 * pooled.accuracy).toFixed(1)}%)`));
  log(`\n${formatFoldsSummary(summary)}`);
  return { out: opts.out, summary, folds: results, pending, seconds };
}

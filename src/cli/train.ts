// `ser train`: train the residual CNN on a data folder (or the embedded synthetic corpus) and write
// the model, checkpoints, report and plots. `--folds K` runs a k-fold cross-validation by speaker
// instead (one model per fold, then the mean and spread); `--seeds LIST` repeats the run once per seed
// (then the mean and spread); `--augment` adds augmented copies of the training clips; `--clip-frames`
// trains on random windows of longer feature maps; `--time-masks` / `--row-masks` mask bands of every
// training example; `--lr-schedule cosine`, `--balance` and `--class-weights` change the rate schedule,
// class frequencies and loss weights (train/loop/schedule.ts); `--swa-from` averages weights
// (train/loop/average.ts); `--mixup` blends training batches and their labels (train/loop/mixup.ts);
// `--weight-decay` makes the optimiser AdamW (kernels/adam.ts); `--logit-adjust` divides the
// decisions by the training prior (train/loop/logit-adjust.ts). Ctrl-C stops cleanly: the last completed epoch stays checkpointed and `--resume
// DIR` alone continues from it with the settings the run started with (train-settings.ts; single runs;
// --seeds and --folds runs continue when the same command is repeated).

import { type Command, Option } from 'commander';
import { AUGMENT_LIMITS, defaultAugmentConfig, type AugmentConfig } from '../dsp/augment';
import { LOWPASS_ORDER } from '../dsp/eq';
import { REVERB_DRR_DB } from '../dsp/reverb';
import type { FeatureConfig } from '../dsp/config';
import { SEED_MODEL, type ModelConfig } from '../nn/model-config';
import type { LoopOptions } from '../train/loop/loop';
import { MIXUP_ALPHA_RANGE } from '../train/loop/mixup';
import type { TrainRunOptions } from '../train/protocols/run.node.ts';
import { checkCorpusFlags, collect, dataFlags } from './corpora-flags';
import { recordSettings, restoreSettings } from './train-settings';
import { MASK_LIMITS, type MaskSettings } from '../train/loop/masks';
import { countWidth, foldList, fraction, list, seedList, nonNegativeInt, numberWithin, positiveInt, positiveNumber, probability, rangeWithin } from './options';

export interface TrainFlags {
  data?: string[];
  valCorpus?: string;
  foldCorpus?: string;
  split: 'random' | 'speaker';
  val: number;
  valSpeakers?: string[];
  folds?: number;
  onlyFolds?: number[];
  seeds?: number[];
  epochs: number;
  batch: number;
  lr: number;
  seed: number;
  patience: number;
  out?: string;
  resume?: string;
  cache: string;
  json?: boolean;
  bnMomentum: number;
  bnRecalibrate: number;
  labelSmoothing: number;
  dropoutScale: number;
  augment?: boolean;
  augmentCopies: number;
  augmentSnr: [number, number] | false;
  augmentShift: number;
  augmentSpeed: [number, number];
  augmentGain: number;
  augmentReverb?: [number, number];
  augmentLowpass?: [number, number];
  augmentTilt?: number;
  augmentSwap?: number;
  clipFrames?: number;
  evalWindows: number;
  timeMasks?: [number, number];
  rowMasks?: [number, number];
  lrSchedule: 'plateau' | 'cosine';
  balance?: boolean | 'classes' | 'corpus';
  classWeights: 'none' | 'balanced';
  swaFrom?: number;
  mixup?: number;
  weightDecay?: number;
  logitAdjust?: boolean;
  speakerNorm?: boolean;
  bandLimit?: number;
  clipNorm?: 'cms' | 'cmvn';
}

/** Frames the model reads (the seed's input width); --clip-frames keeps more and trains on windows of this many. */
const WINDOW = SEED_MODEL.inputFrames;

const AUGMENT_FLAGS = ['augmentCopies', 'augmentSnr', 'augmentShift', 'augmentSpeed', 'augmentGain', 'augmentReverb', 'augmentLowpass', 'augmentTilt', 'augmentSwap'] as const;
const L = AUGMENT_LIMITS;
const D = defaultAugmentConfig;

/** The seed architecture's dropout rates times `f` (capped below 1). */
export function scaledDropout(f: number): Pick<ModelConfig, 'stem' | 'blocks' | 'dense'> {
  const r = (p: number) => Math.min(0.95, p * f);
  return {
    stem: { ...SEED_MODEL.stem, dropout: r(SEED_MODEL.stem.dropout) },
    blocks: SEED_MODEL.blocks.map((b) => ({ ...b, dropout: r(b.dropout) })),
    dense: SEED_MODEL.dense.map((d) => ({ ...d, dropout: r(d.dropout) })),
  };
}

/** Flag combinations that make no sense, refused before anything is loaded. */
function checkCombinations(flags: TrainFlags, cmd: Command): void {
  const given = (key: string) => cmd.getOptionValueSource(key) === 'cli';
  checkCorpusFlags(flags, given);
  if (!['random', 'speaker'].includes(flags.split)) throw new Error(`--split must be 'random' or 'speaker', got '${flags.split}'`);
  if (flags.folds !== undefined) {
    if (flags.folds < 2) throw new Error(`--folds must be at least 2 (got ${flags.folds}); for a single split leave --folds out`);
    if (flags.valSpeakers) throw new Error('--folds deals every speaker into a fold: it cannot be combined with --val-speakers');
    if (flags.resume) throw new Error('--folds runs continue by repeating the same command (finished folds are read, a stopped one resumes): leave --resume out');
    if (given('split') && flags.split !== 'speaker') throw new Error('--folds is a cross-validation by speaker: it cannot be combined with --split random');
    if (given('val')) throw new Error('--folds K validates each fold on about 1/K of the speakers: leave --val out');
    const beyond = flags.onlyFolds?.filter((f) => f > flags.folds!) ?? [];
    if (beyond.length) throw new Error(`--only-folds ${flags.onlyFolds!.join(',')}: --folds ${flags.folds} has folds 1..${flags.folds} (no fold ${beyond.join(', ')})`);
  } else if (flags.onlyFolds !== undefined) {
    throw new Error('--only-folds picks folds of a --folds run: give --folds K');
  }
  if (flags.seeds !== undefined) {
    if (flags.folds !== undefined) throw new Error('--seeds and --folds are two protocols: run them separately');
    if (flags.resume) throw new Error('--seeds runs continue by repeating the same command (finished seeds are read, a stopped one resumes): leave --resume out');
    if (given('seed')) throw new Error('--seeds gives the seeds: leave --seed out');
  }
  if (flags.balance && flags.classWeights !== 'none') throw new Error('--balance and --class-weights both correct class frequencies (repeating clips, or weighting their loss): use one');
  if (flags.swaFrom !== undefined) {
    if (flags.swaFrom > flags.epochs) throw new Error(`--swa-from ${flags.swaFrom} is after the last epoch (--epochs ${flags.epochs}): nothing would be averaged`);
    if (flags.bnRecalibrate === 0) throw new Error('--swa-from needs BN recalibration (the averaged weights have no BN statistics of their own): leave --bn-recalibrate above 0');
  }
  if (flags.mixup !== undefined && flags.classWeights !== 'none') throw new Error('--mixup and --class-weights are not combined (a blended example has two labels to weight): use one');
  if (flags.clipFrames === undefined && given('evalWindows')) throw new Error('--eval-windows applies only with --clip-frames');
  if (!flags.augment) {
    const stray = AUGMENT_FLAGS.filter(given);
    if (stray.length) throw new Error(`${stray.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')} apply only with --augment`);
  }
}

/** --lr-schedule / --balance / --class-weights / --swa-from / --mixup / --weight-decay / --logit-adjust / --augment-swap as loop options; the defaults add nothing, so earlier --seeds settings still match. */
function scheduleOptions(flags: TrainFlags): Pick<LoopOptions, 'schedule' | 'balance' | 'balanceCorpora' | 'classWeights' | 'swaFrom' | 'mixup' | 'weightDecay' | 'logitAdjust' | 'augmentSwap'> {
  return {
    ...(flags.lrSchedule === 'cosine' ? { schedule: { kind: 'cosine', lr: flags.lr } } : {}),
    ...(flags.balance ? { balance: true } : {}),
    ...(flags.balance === 'corpus' ? { balanceCorpora: true } : {}),
    ...(flags.classWeights === 'balanced' ? { classWeights: 'balanced' } : {}),
    ...(flags.swaFrom !== undefined ? { swaFrom: flags.swaFrom } : {}),
    ...(flags.mixup !== undefined ? { mixup: { alpha: flags.mixup } } : {}),
    ...(flags.weightDecay ? { weightDecay: flags.weightDecay } : {}),
    ...(flags.logitAdjust ? { logitAdjust: true } : {}),
    ...(flags.augmentSwap !== undefined ? { augmentSwap: flags.augmentSwap } : {}),
  };
}

/** --time-masks / --row-masks as the loop's mask settings (undefined when neither is given). */
function maskSettings(flags: TrainFlags): MaskSettings | undefined {
  if (!flags.timeMasks && !flags.rowMasks) return undefined;
  return { time: flags.timeMasks ?? [0, 0], rows: flags.rowMasks ?? [0, 0] };
}

/** --clip-frames / --band-limit / --clip-norm as feature-config overrides (undefined when none is given, as before they existed). */
function featureOptions(flags: TrainFlags): Partial<FeatureConfig> | undefined {
  const f: Partial<FeatureConfig> = {
    ...(flags.clipFrames !== undefined ? { frames: flags.clipFrames } : {}),
    ...(flags.bandLimit !== undefined ? { bandLimitHz: flags.bandLimit } : {}),
    ...(flags.clipNorm !== undefined ? { clipNorm: flags.clipNorm } : {}),
  };
  return Object.keys(f).length ? f : undefined;
}

/** The --augment flags as an AugmentConfig (undefined without --augment). */
export function augmentConfig(flags: TrainFlags): AugmentConfig | undefined {
  if (!flags.augment) return undefined;
  // The optional transforms join the config only when on, so configs (and cached copies) without them stay as they were.
  return {
    copies: flags.augmentCopies, snrDb: flags.augmentSnr || null, shiftMs: flags.augmentShift, speed: flags.augmentSpeed, gainDb: flags.augmentGain,
    ...(flags.augmentReverb ? { reverbRt60: flags.augmentReverb } : {}),
    ...(flags.augmentLowpass ? { lowpassHz: flags.augmentLowpass } : {}),
    ...(flags.augmentTilt ? { tiltDb: flags.augmentTilt } : {}),
  };
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train the residual CNN; without --data, on the embedded synthetic corpus (not real speech)')
    .option('--data <dir>', 'data folder (RAVDESS, CREMA-D, TESS, SAVEE, EMO-DB, folder-per-label) or a CSV manifest; give it more than once to train on several corpora, each named by its folder\'s base name or as NAME=DIR (speakers become NAME/speaker; each clip is trained and scored over its own corpus\'s classes)', collect)
    .option('--val-corpus <name>', 'with several --data: train on the other corpora and validate on this one, over the classes both sides share (its clips of other classes are left out and counted in the report)')
    .option('--fold-corpus <name>', "with --folds and several --data: deal only this corpus's speakers into the folds; the other corpora are always in training (default: every corpus's speakers are dealt, each fold holding out 1/K of every corpus)")
    .option('--split <kind>', "'random' (stratified clip split, as the seed report) or 'speaker' (held-out speakers)", 'random')
    .option('--val <fraction>', 'validation fraction', fraction, 0.2)
    .option('--val-speakers <list>', 'comma-separated validation speakers (implies --split speaker)', list)
    .option('--folds <k>', 'k-fold cross-validation by speaker (2 <= k <= speakers): one model per fold in OUT/fold-<i>/, mean and spread in OUT/folds.md and folds.json; repeating the command continues a stopped run, and with a larger --epochs continues every fold further', positiveInt)
    .option('--only-folds <list>', "with --folds: train only these folds in this call (e.g. 2, 1,3 or 2-4) into the same OUT, so folds can run in parallel processes or on several machines; the others are read when finished and left alone otherwise (a fold another call is training is not touched); the call that finds every fold finished writes the summary", foldList)
    .option('--seeds <list>', "the same run once per seed (e.g. 0-4 or 0,3,7), each in OUT/seed-<s>/ with its own split, then mean and spread in OUT/seeds.md and seeds.json; repeating the command continues a stopped run, and with a larger --epochs continues every seed further", seedList)
    .option('--epochs <n>', 'maximum epochs', positiveInt, 30)
    .option('--batch <n>', 'batch size', positiveInt, 32)
    .option('--lr <rate>', 'Adam learning rate', positiveNumber, 1e-3)
    .option('--seed <n>', 'seed of the split, initialisation, shuffling, dropout and augmentation', nonNegativeInt, 0)
    .addOption(new Option('--lr-schedule <kind>', "'plateau' (halve the rate when the validation loss stops falling) or 'cosine' (decay from --lr to 1e-5 over --epochs)").choices(['plateau', 'cosine']).default('plateau'))
    .addOption(new Option('--balance [by]', "class-balanced epochs: repeat clips of the smaller classes (training side only, each repeat with its own window) until every class is drawn as often as the largest; '--balance corpus' (several --data): every class of every corpus is drawn as often as the largest (corpus, class) pair, which balances the corpora too").choices(['classes', 'corpus']))
    .addOption(new Option('--class-weights <kind>', "'balanced': weight each training example's loss by n / (classes x its class's count), as sklearn/Keras class_weight (not with --balance); 'none': unweighted").choices(['none', 'balanced']).default('none'))
    .option('--swa-from <epoch>', 'stochastic weight averaging: from this epoch on, validate, pick and save the mean of the weights at the end of every epoch since (BN recalibrated on it); training continues from the raw weights', positiveInt)
    .option('--mixup <alpha>', `mixup: blend every training batch with a shuffled copy of itself, x = w x_i + (1 - w) x_j, and its labels alike, w = max(l, 1 - l) with l ~ Beta(alpha, alpha) per batch (${MIXUP_ALPHA_RANGE.join('..')}; 0.2-0.4 typical; not with --class-weights)`, numberWithin(MIXUP_ALPHA_RANGE[0], MIXUP_ALPHA_RANGE[1]))
    .option('--weight-decay <wd>', "AdamW (Keras' keras.optimizers.AdamW): before each update, conv and dense kernels shrink by w * wd * lr (decoupled weight decay; biases and batch-norm parameters untouched; 0..1, Keras' default 0.004; 0: plain Adam)", numberWithin(0, 1))
    .option('--logit-adjust', "decide by p(class | clip) / training prior of the class (post-hoc logit adjustment, Menon et al. 2021): lifts classes with fewer training clips (RAVDESS' neutral); validation accuracy, the best epoch, reports and the saved model's predictions use it, the validation loss and learning-rate schedule stay on the raw outputs")
    .option('--patience <n>', 'early stopping: epochs without validation improvement (0: off)', nonNegativeInt, 10)
    .option('--out <dir>', 'output folder (default runs/<timestamp>)')
    .option('--resume <dir>', 'continue the run in this folder from its last completed epoch with the settings it started with (recorded in its checkpoint; other options given now are refused, except a larger --epochs or --patience, which train a finished run further, and --cache); single runs and seed folders of --seeds runs; repeat a --folds or --seeds command instead')
    .option('--cache <dir>', 'folder for cached features and the synthetic corpus', '.cache')
    .option('--bn-momentum <m>', 'batch-norm moving-average momentum (Keras: 0.99; lower suits short runs)', fraction, 0.99)
    .option('--bn-recalibrate <n>', 'before each validation, set BN statistics from this many training clips without dropout (0: Keras moving averages)', nonNegativeInt, 256)
    .option('--label-smoothing <s>', 'label smoothing of the cross-entropy', (v) => (v === '0' ? 0 : fraction(v)), 0.1)
    .option('--dropout-scale <f>', 'multiply every dropout rate of the seed architecture (0.2/0.3/0.3/0.4/0.3) by f (0..2; 0: no dropout)', numberWithin(0, 2), 1)
    .option('--augment', 'add augmented copies of the training clips (never of validation clips): speed, shift, gain, noise; optionally reverberation, low-pass, tilt')
    .option('--augment-copies <m>', `augmented copies per training clip (${L.copies.join('..')})`, numberWithin(L.copies[0], L.copies[1], true), D.copies)
    .addOption(new Option('--augment-snr <lo:hi>', `white-noise SNR range in dB (${L.snrDb.join('..')}), or 'off'`).argParser((v) => (v === 'off' ? false : rangeWithin(L.snrDb[0], L.snrDb[1])(v))).default(D.snrDb, D.snrDb!.join(':')))
    .option('--augment-shift <ms>', `largest time shift either way in ms (${L.shiftMs.join('..')}; 0: none)`, numberWithin(L.shiftMs[0], L.shiftMs[1]), D.shiftMs)
    .addOption(new Option('--augment-speed <lo:hi>', `speed factor range (${L.speed.join('..')}; changes pitch too; 1:1: none)`).argParser(rangeWithin(L.speed[0], L.speed[1])).default(D.speed, D.speed.join(':')))
    .option('--augment-gain <dB>', `largest gain change either way in dB (${L.gainDb.join('..')}; 0: none)`, numberWithin(L.gainDb[0], L.gainDb[1]), D.gainDb)
    .addOption(new Option('--augment-reverb <lo:hi>', `reverberate the copies with generated room impulse responses, RT60 drawn from lo..hi s (${L.reverbRt60.join('..')}; direct-to-reverberant ratio ${REVERB_DRR_DB.join('..')} dB); default: none`).argParser(rangeWithin(L.reverbRt60[0], L.reverbRt60[1])))
    .addOption(new Option('--augment-lowpass <lo:hi>', `low-pass the copies (Butterworth, order ${LOWPASS_ORDER}) at a cutoff drawn from lo..hi Hz (${L.lowpassHz.join('..')}; 3400: telephone); default: none`).argParser(rangeWithin(L.lowpassHz[0], L.lowpassHz[1])))
    .option('--augment-tilt <dB>', `tilt the copies' spectra by up to this many dB either way, low against high frequencies (${L.tiltDb.join('..')}; 0: none, the default)`, numberWithin(L.tiltDb[0], L.tiltDb[1]))
    .option('--augment-swap <p>', "instead of adding the copies to every epoch, draw each training clip every epoch as one of its augmented copies with probability p (0..1], else as itself: epochs keep their length and time", probability)
    .option('--clip-frames <n>', `keep this many feature frames per clip (more than ${WINDOW}) and train on a random ${WINDOW}-frame window of each clip every epoch; validation and inference average --eval-windows windows (default: the first ${WINDOW} frames, as the seed)`, numberWithin(WINDOW + 1, 1024, true))
    .option('--eval-windows <k>', 'windows averaged per clip at validation and inference with --clip-frames (1..32)', numberWithin(1, 32, true), 3)
    .option('--time-masks <k:t>', `mask (set to the mean) up to k bands of up to t frames of every training example, drawn afresh each epoch (SpecAugment; k ${MASK_LIMITS.count.join('..')}, t ${MASK_LIMITS.width.join('..')}); validation and inference never mask`, countWidth(MASK_LIMITS.count, MASK_LIMITS.width))
    .option('--row-masks <k:f>', `mask up to k bands of up to f feature rows of every training example (k ${MASK_LIMITS.count.join('..')}, f ${MASK_LIMITS.width.join('..')})`, countWidth(MASK_LIMITS.count, MASK_LIMITS.width))
    .option('--band-limit <hz>', 'band limit of the features: a clip recorded above twice this rate is first resampled to twice it, so corpora and microphones of different rates give features of the same band (e.g. 8000: what a 16 kHz corpus holds; saved with the feature config)', numberWithin(1000, 11025, true))
    .addOption(new Option('--clip-norm <kind>', "per-clip normalisation of the feature rows before the scaler: 'cms' subtracts each MFCC row's mean over the clip (cepstral mean subtraction: cancels a fixed microphone/room response), 'cmvn' standardises every row over the clip (saved with the feature config)").choices(['cms', 'cmvn']))
    .option('--speaker-norm', "standardise each clip's feature rows with the mean and std of all its speaker's clips (labels unused; validation speakers with their own clips) before the scaler; the model then needs a speaker's clips together at inference")
    .option('--json', 'print the final report (with --folds or --seeds: the summary) as JSON')
    .action(async (given: TrainFlags, cmd: Command) => {
      // --folds and --seeds runs continue by repeating their command, never with --resume: refused
      // before any folder is read.
      if (given.resume && (given.folds !== undefined || given.seeds !== undefined)) checkCombinations(given, cmd);
      // --resume DIR: the run's recorded settings fill in every option not given (train-settings.ts).
      const restored = given.resume ? restoreSettings(given.resume, cmd) : null;
      const flags = restored ? (cmd.opts() as TrainFlags) : given;
      const log = (l: string) => (flags.json ? console.error(l) : console.log(l));
      if (restored) log(restored.note);
      if (restored?.finished) return log(restored.finished);
      checkCombinations(flags, cmd);
      const out = flags.resume ?? flags.out ?? `runs/${new Date().toISOString().replace(/[:.]/g, '-')}`;
      // The training code is loaded only now: a refused flag or a finished run answers without it.
      const [{ SingleBar }, { createTunedNodeGpu }, { foldsRun }, { defaultLoopOptions }, { writeReport }, { trainRun }, { seedsRun }, { makeExtractor }] = await Promise.all([
        import('cli-progress'), import('../tune/runtime.node.ts'), import('../train/protocols/folds.node.ts'), import('../train/loop/loop'),
        import('../train/protocols/report.node.ts'), import('../train/protocols/run.node.ts'), import('../train/protocols/seeds.node.ts'), import('./extractor'),
      ]);
      const gpu = await createTunedNodeGpu();
      let stop = false;
      const onSigint = () => {
        if (stop) process.exit(130);
        stop = true;
        console.error(flags.folds ? '\nstopping: this fold\'s last completed epoch is checkpointed; repeat the same command to continue'
          : flags.seeds ? '\nstopping: this seed\'s last completed epoch is checkpointed; repeat the same command to continue'
          : '\nstopping: the last completed epoch is checkpointed; continue with --resume ' + out);
      };
      process.on('SIGINT', onSigint);
      const bar = new SingleBar({
        format: '{fold}epoch {epoch} |{bar}| {value}/{total} steps | loss {loss} | acc {acc} | {sps} samples/s | ETA {eta_formatted}',
        hideCursor: true,
        noTTYOutput: true, // logs and CI get a line every few seconds instead of nothing
        notTTYSchedule: 10_000,
        stream: process.stderr,
      });
      let barEpoch = -1;
      let fold = '';
      const common: Omit<TrainRunOptions, 'split' | 'val'> = {
        ...dataFlags(flags.data),
        ...(flags.valCorpus !== undefined ? { valCorpus: flags.valCorpus } : {}),
        out,
        resume: !!flags.resume,
        cacheDir: flags.cache,
        lr: flags.lr,
        model: { bnMomentum: flags.bnMomentum, labelSmoothing: flags.labelSmoothing, ...scaledDropout(flags.dropoutScale) },
        loop: { ...defaultLoopOptions, epochs: flags.epochs, batch: flags.batch, seed: flags.seed, patience: flags.patience, bnRecalibration: flags.bnRecalibrate, masks: maskSettings(flags), ...scheduleOptions(flags) },
        augment: augmentConfig(flags),
        settings: recordSettings(cmd),
        ...(flags.speakerNorm ? { speakerNorm: true } : {}),
        ...(featureOptions(flags) ? { features: featureOptions(flags) } : {}),
        ...(flags.clipFrames !== undefined ? { windows: { frames: WINDOW, evalWindows: flags.evalWindows } } : {}),
        log,
        shouldStop: () => stop,
        onProgress: (p) => {
          if (p.epoch !== barEpoch) {
            if (barEpoch >= 0) bar.stop();
            bar.start(p.steps, 0, { fold, epoch: p.epoch, loss: '-', acc: '-', sps: '-' });
            barEpoch = p.epoch;
          }
          bar.update(p.step, { loss: Number.isNaN(p.loss) ? '-' : p.loss.toFixed(4), acc: Number.isNaN(p.accuracy) ? '-' : p.accuracy.toFixed(3), sps: p.samplesPerSecond.toFixed(1) });
          if (p.step === p.steps) {
            bar.stop();
            barEpoch = -1;
          }
        },
      };
      try {
        if (flags.folds !== undefined) {
          const r = await foldsRun(gpu, (c) => makeExtractor(gpu, c), { ...common, folds: flags.folds, ...(flags.onlyFolds ? { onlyFolds: flags.onlyFolds } : {}), ...(flags.foldCorpus !== undefined ? { foldCorpus: flags.foldCorpus } : {}), onFold: (f, k) => void (fold = `fold ${f}/${k} `) });
          bar.stop();
          if (!r.summary) process.exitCode = r.pending.length && !stop ? 0 : 130;
          else if (flags.json) console.log(JSON.stringify({ out, seconds: r.seconds, ...r.summary }));
          else log(`\ndone in ${r.seconds.toFixed(0)} s; wrote ${out}/folds.md, folds.json, splits.json, confusion.svg (pooled) and fold-1..${flags.folds}/`);
          return;
        }
        if (flags.seeds !== undefined) {
          const r = await seedsRun(gpu, (c) => makeExtractor(gpu, c), { ...common, split: flags.valSpeakers ? 'speaker' : flags.split, val: flags.val, valSpeakers: flags.valSpeakers, seeds: flags.seeds, onSeed: (s, k, n) => void (fold = `seed ${s} (${k}/${n}) `) });
          bar.stop();
          if (!r.summary) process.exitCode = 130;
          else if (flags.json) console.log(JSON.stringify({ out, seconds: r.seconds, ...r.summary }));
          else log(`\ndone in ${r.seconds.toFixed(0)} s; wrote ${out}/seeds.md, seeds.json and seed-${flags.seeds.join(', seed-')}/`);
          return;
        }
        const result = await trainRun(gpu, (c) => makeExtractor(gpu, c), { ...common, split: flags.valSpeakers ? 'speaker' : flags.split, val: flags.val, valSpeakers: flags.valSpeakers });
        bar.stop();
        await writeReport(result);
        if (flags.json) {
          console.log(JSON.stringify({ out, seconds: result.seconds, bestEpoch: result.state.bestEpoch, accuracy: result.report.accuracy, uar: result.report.uar, macroF1: result.report.macroF1 }));
        } else {
          const last = result.state.history[result.state.history.length - 1];
          log(`\ndone in ${result.seconds.toFixed(0)} s: ${result.state.history.length} epochs, best epoch ${result.state.bestEpoch}${last ? `, ${last.samplesPerSecond.toFixed(1)} samples/s` : ''}`);
          log(`validation (best weights): accuracy ${(100 * result.report.accuracy).toFixed(2)}%, UAR ${(100 * result.report.uar).toFixed(2)}%, macro F1 ${(100 * result.report.macroF1).toFixed(2)}%`);
          log(`wrote ${out}/model.safetensors, model.json, report.md, report.json, confusion.svg, curves.svg`);
        }
      } finally {
        bar.stop();
        process.off('SIGINT', onSigint);
        gpu.destroy();
      }
    });
}

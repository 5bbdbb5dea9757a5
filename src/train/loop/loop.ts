// The epoch loop. The (scaled) features and labels stay on the host; each step assembles its batch
// there, uploads it (batches.ts) and records one training step. Loss and accuracy are
// read back every `readEvery` steps (a readback drains the queue, so not each step), which is also when
// divergence (a non-finite loss or non-finite weights) is detected and reported with its step. Each
// epoch ends with validation, early stopping on validation accuracy (the best weights are kept and
// restored) and learning-rate reduction when the validation loss plateaus (as Keras'
// ReduceLROnPlateau, min_delta 1e-4). The loss, not the accuracy, drives the schedule: accuracy on a
// few hundred clips moves in steps of several tenths of a percent and halved the rate of a RAVDESS
// run while its loss was still falling. With windows (batches.ts) each epoch draws a fresh random
// window of every training clip, and validation averages several windows per clip. With masks
// (masks.ts) each training example also gets bands of frames and rows set to 0. With weight averaging
// (average.ts, swaFrom) validation from that epoch on evaluates the running mean of the epochs'
// weights, recalibrated, and the raw weights are put back to train on. schedule.ts has the
// alternatives to the plateau rule (cosine decay) and to natural class frequencies (balanced epochs
// or class-weighted loss), and swapped augmentation (each epoch draws some clips as one of their
// augmented copies, at the epoch's usual length). With mixup (mixup.ts) each batch is blended with a
// shuffled copy of itself and the loss aims at the blended labels. With logit adjustment
// (logit-adjust.ts) validation accuracy and the best epoch use the prior-corrected decision; the
// validation loss stays on the raw outputs.
// Browser-safe: checkpointing goes through the onEpochEnd callback.

import { createRng } from '../../common/random';
import type { Gpu, Tensor } from '../../gpu';
import { add, mul } from '../../kernels/elementwise';
import { squaredNorms } from '../../kernels/optim';
import type { Trainer } from '../../nn/train-step';
import { type TrainingExamples, gatherTrainingBatch, examplesLogits, randomStarts, recalibrateBatchNorm } from './batches';
import { accumulateAverage, type WeightAverage } from './average';
import { applyMasks, type MaskSettings } from './masks';
import { argmaxRows, unweightedAverageRecall } from '../scores/metrics';
import { checkMixup, drawMixup, mixBatch, type MixupSettings } from './mixup';
import { adjustmentProblem, adjustRows, logPriorAdjustment } from './logit-adjust';
import type { NamedTensors } from '../../nn/model';
import { type ClassMask, maskedArgmaxRows, maskedMeanCrossEntropy, maskRows } from '../scores/corpora';
import { balancedClassWeights, balancedExamples, cosineRate, type LrSchedule, scheduleAfterEpoch, swappedExamples } from './schedule';

export type { TrainingExamples } from './batches';
export { examplesLogits, recalibrateBatchNorm } from './batches';
export { scheduleAfterEpoch } from './schedule';

export interface LoopOptions {
  epochs: number;
  batch: number;
  seed: number;
  /** Read loss/accuracy back every this many steps. */
  readEvery: number;
  /** Epochs without validation improvement before stopping (0: never stop early). */
  patience: number;
  /** The learning-rate schedule (schedule.ts); absent: the plateau rule of lrPatience and lrFactor. */
  schedule?: LrSchedule;
  /** Epochs without improvement before the learning rate is multiplied by lrFactor (plateau rule). */
  lrPatience: number;
  lrFactor: number;
  minLr: number;
  /**
   * Before each validation, recompute the BN moving statistics as the mean of batch statistics over
   * this many training examples, without dropout (0: keep Keras' moving averages, which carry the
   * variance dropout adds in training and lag the weights; see recalibrateBatchNorm).
   */
  bnRecalibration: number;
  /** Class-balanced epochs: smaller classes' clips repeated up to the largest class's count (schedule.ts). */
  balance?: boolean;
  /**
   * With balance and several corpora: balance (corpus, class) pairs instead of classes, from the
   * split's balanceKeys (corpora.ts balanceKeys); recorded with the training settings.
   */
  balanceCorpora?: boolean;
  /** Band masks on every training example (masks.ts); validation and recalibration see unmasked maps. */
  masks?: MaskSettings;
  /**
   * Class-weighted training loss (schedule.ts balancedClassWeights over the training split); the
   * validation loss that drives the plateau rule stays unweighted. Not with `balance`.
   */
  classWeights?: 'balanced';
  /**
   * Stochastic weight averaging from this epoch on (1-based; average.ts): validation, the best epoch
   * and the saved model then use the mean of the weights at the end of each epoch since. Needs BN
   * recalibration (bnRecalibration > 0).
   */
  swaFrom?: number;
  /** Mixup (mixup.ts) on every training batch; not with classWeights. */
  mixup?: MixupSettings;
  /**
   * AdamW's decoupled weight decay on the conv and dense kernels (kernels/adam.ts); read where the
   * Trainer is built (run.node.ts), recorded with the other training settings.
   */
  weightDecay?: number;
  /**
   * Logit adjustment (logit-adjust.ts): validation accuracy, the best epoch and early stopping use
   * argmax of log p - log prior (true: the training split's class frequencies; or the vector to add
   * itself); training is unchanged.
   */
  logitAdjust?: boolean | readonly number[];
  /**
   * Swapped augmentation (schedule.ts swappedExamples): each epoch, every training example is drawn
   * as one of its augmented copies (the split's `copiesOf`) with this probability, else as itself;
   * the epoch keeps the originals' length. Recorded with the training settings.
   */
  augmentSwap?: number;
}

export const defaultLoopOptions: LoopOptions = {
  epochs: 30,
  batch: 32,
  seed: 0,
  readEvery: 10,
  patience: 10,
  lrPatience: 4,
  lrFactor: 0.5,
  minLr: 1e-5,
  bnRecalibration: 256,
};

export interface EpochMetrics {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  valLoss: number | null;
  valAccuracy: number | null;
  /** Unweighted average recall on the validation clips (absent in checkpoints written before it was recorded). */
  valUar?: number | null;
  lr: number;
  seconds: number;
  samplesPerSecond: number;
}

/** Everything needed to continue a run exactly where an epoch ended. */
export interface LoopState {
  epoch: number;
  history: EpochMetrics[];
  bestEpoch: number;
  bestValAccuracy: number;
  /** Lowest validation loss so far (the learning-rate schedule's reference; absent in old checkpoints). */
  bestValLoss?: number | null;
  sinceBest: number;
  sinceLrChange: number;
}

/**
 * Seconds spent in the epochs of a run's history (training, BN recalibration, validation), summed
 * over every call that ran them: unlike a call's wall time, it covers a run stopped and resumed.
 */
export function epochsSeconds(history: readonly Pick<EpochMetrics, 'seconds'>[]): number {
  return history.reduce((sum, e) => sum + e.seconds, 0);
}

export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
}

export interface LoopHooks {
  onProgress?: (p: { epoch: number; step: number; steps: number; loss: number; accuracy: number; samplesPerSecond: number }) => void;
  /**
   * Called after each validation while the model still holds the validated weights (with weight
   * averaging, the average): the moment to snapshot the best model.
   */
  onValidated?: (state: LoopState, improved: boolean) => Promise<void>;
  /**
   * Called after each validation with the epoch (1-based), the validation examples' log class
   * probabilities [val, classes] (with windows: log of the windows' mean probabilities) and their labels.
   */
  onValidationLogits?: (epoch: number, logits: Float32Array, labels: readonly number[]) => void;
  /**
   * Called after each epoch, the model holding the weights training continues from, with the state to
   * checkpoint (and the weight average so far, when averaging, with the raw weights the loop already
   * read back for it, so the checkpoint need not read them again); `improved` when this epoch is the best so far.
   */
  onEpochEnd?: (state: LoopState, improved: boolean, average: WeightAverage | null, raw: NamedTensors | null) => Promise<void>;
  /**
   * Checked between steps (Ctrl-C): true abandons the epoch in progress, so the state stays that of the
   * last completed (checkpointed) epoch and a resumed run repeats exactly the same work.
   */
  shouldStop?: () => boolean;
}

/** The shuffled order of training examples in an epoch: a pure function of (seed, epoch). */
export function epochOrder(train: readonly number[], seed: number, epoch: number): number[] {
  return createRng((seed * 1000003 + epoch * 7919) >>> 0).shuffle([...train]);
}

/** Mean label-smoothed cross-entropy of logits on the CPU (validation loss). */
export function meanCrossEntropy(logits: Float32Array, labels: readonly number[], classes: number, smoothing: number): number {
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    const row = logits.subarray(i * classes, (i + 1) * classes);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    for (let k = 0; k < classes; k++) {
      const t = (k === labels[i] ? 1 - smoothing : 0) + smoothing / classes;
      total -= t * (row[k]! - lse);
    }
  }
  return total / labels.length;
}

export async function trainLoop(
  gpu: Gpu,
  trainer: Trainer,
  data: TrainingExamples,
  split: { train: number[]; val: number[]; copiesOf?: ReadonlyMap<number, readonly number[]>; classMask?: ClassMask; balanceKeys?: ArrayLike<number> },
  opts: LoopOptions,
  hooks: LoopHooks = {},
  resume?: LoopState,
  resumeAverage: WeightAverage | null = null,
): Promise<LoopState> {
  const state: LoopState = resume ?? { epoch: 0, history: [], bestEpoch: -1, bestValAccuracy: -Infinity, bestValLoss: null, sinceBest: 0, sinceLrChange: 0 };
  const classes = trainer.model.config.classes;
  if (opts.balance && opts.classWeights) throw new RangeError('class-balanced epochs and class-weighted loss both correct class frequencies: use one');
  if (opts.mixup) {
    checkMixup(opts.mixup);
    if (opts.classWeights) throw new RangeError('mixup targets and a class-weighted loss are not combined: use one');
  }
  if (opts.swaFrom !== undefined) {
    if (!Number.isInteger(opts.swaFrom) || opts.swaFrom < 1) throw new RangeError(`weight averaging must start at an epoch >= 1, got ${opts.swaFrom}`);
    if (opts.bnRecalibration <= 0) throw new RangeError('weight averaging needs BN recalibration (the averaged weights have no BN statistics of their own): set bnRecalibration > 0');
  }
  if (opts.augmentSwap !== undefined && !(split.copiesOf && split.copiesOf.size > 0)) throw new RangeError('swapped augmentation needs augmented copies of the training examples (--augment)');
  let average = resumeAverage;
  const sampled = (epoch: number) => (opts.balance ? balancedExamples(split.train, split.balanceKeys ?? data.labels, opts.seed, epoch) : split.train);
  const examplesOf = (epoch: number) => (opts.augmentSwap !== undefined ? swappedExamples(sampled(epoch), split.copiesOf!, opts.augmentSwap, opts.seed, epoch) : sampled(epoch));
  const steps = Math.ceil(examplesOf(0).length / opts.batch);
  const cosine = opts.schedule?.kind === 'cosine' ? opts.schedule : null;
  const names = [...trainer.model.params.keys()];
  const weights = names.map((n) => trainer.model.params.get(n)!.value);
  let globalStep = state.epoch * steps;
  const adjustment = Array.isArray(opts.logitAdjust) ? opts.logitAdjust : opts.logitAdjust ? logPriorAdjustment(split.train.map((i) => data.labels[i]!), classes) : null;
  const badAdjustment = adjustment && adjustmentProblem(adjustment, classes);
  if (badAdjustment) throw new RangeError(`logit adjustment: ${badAdjustment}`);
  const classWeights = opts.classWeights ? gpu.upload(balancedClassWeights(split.train, data.labels, classes), [classes], 'f32', 'loss.classWeights') : undefined;
  try {
    const firstEpoch = state.epoch;
    while (state.epoch < opts.epochs) {
      // A stop asked for during this call's last epoch's validation or checkpoint: end here, before a
      // step of the next epoch is spent and thrown away (before the first epoch the check stays after
      // each step, as the callers' stop conditions expect).
      if (state.epoch > firstEpoch && hooks.shouldStop?.()) return state;
      const started = performance.now();
      if (cosine) trainer.adam.setLearningRate(cosineRate(cosine.lr, opts.minLr, state.epoch, opts.epochs));
      const order = epochOrder(examplesOf(state.epoch), opts.seed, state.epoch);
      const w = data.windows;
      const starts = w ? randomStarts(order, w.lengths, w.frames, data.frames, opts.seed, state.epoch) : undefined;
      let acc: Tensor | null = null;
      let lastRead = { loss: NaN, accuracy: NaN };
      let seen = 0;
      for (let s = 0; s < steps; s++) {
        const ids = order.slice(s * opts.batch, (s + 1) * opts.batch);
        const batch = gatherTrainingBatch(gpu, data, ids, starts?.subarray(s * opts.batch, (s + 1) * opts.batch));
        const yb = batch.y;
        let xb = batch.x;
        if (opts.masks) {
          xb = applyMasks(gpu, batch.x, ids, opts.masks, opts.seed, state.epoch);
          batch.x.dispose();
        }
        const mixed = opts.mixup ? mixBatch(gpu, xb, ids, data.labels, opts.mixup, opts.seed, state.epoch, s) : null;
        // Several corpora: each example's loss spans only its corpus's classes (corpora.ts).
        const mask = split.classMask ? gpu.upload(maskRows(split.classMask, ids, classes, mixed && opts.mixup ? Array.from(drawMixup(ids.length, opts.mixup, opts.seed, state.epoch, s).partners, (p) => ids[p]!) : undefined), [ids.length, classes], 'u32', 'loss.classMask') : undefined;
        const stats = mixed ? trainer.step(mixed.x, yb, undefined, mixed.mix, mask) : trainer.step(xb, yb, classWeights, undefined, mask);
        mask?.dispose();
        if (mixed) for (const t of [mixed.x, mixed.mix.partners, mixed.mix.weight]) t.dispose();
        // Sum [loss * batch, correct] over the epoch on the GPU; the mean loss is per batch.
        const weighted = gpu.upload([ids.length, 1], [2], 'f32', 'batch.weight');
        const w = mul(gpu, stats, weighted);
        const next: Tensor = acc ? add(gpu, acc, w) : w;
        if (acc) {
          acc.dispose();
          w.dispose();
        }
        acc = next;
        for (const t of [xb, yb, stats, weighted]) t.dispose();
        seen += ids.length;
        globalStep++;
        if ((s + 1) % opts.readEvery === 0 || s === steps - 1) {
          // The weights' norms are read with the loss: lavapipe's max(NaN, 0) is 0, so NaN weights can
          // sit behind a ReLU while the loss stays finite.
          const norms = squaredNorms(gpu, weights);
          const [accRead, normsRead] = await gpu.readMany([acc, norms]);
          norms.dispose();
          const [sumLoss, correct] = accRead as Float32Array;
          const bad = names.filter((_, i) => !Number.isFinite(normsRead![i]!));
          if (!Number.isFinite(sumLoss!) || bad.length > 0) {
            const what = !Number.isFinite(sumLoss!) ? `loss became ${sumLoss}` : `weights became non-finite (${bad.slice(0, 3).join(', ')}${bad.length > 3 ? ', ...' : ''})`;
            throw new NonFiniteLossError(`training diverged: ${what} by step ${globalStep} (epoch ${state.epoch + 1}, batch ${s + 1}); lower the learning rate or check the inputs for NaN/Inf`);
          }
          lastRead = { loss: sumLoss! / seen, accuracy: correct! / seen };
        } else {
          await gpu.sync(); // one step at a time keeps memory flat and the progress honest
        }
        // Between readbacks the bar advances with the last loss and accuracy read.
        hooks.onProgress?.({ epoch: state.epoch + 1, step: s + 1, steps, ...lastRead, samplesPerSecond: seen / ((performance.now() - started) / 1000) });
        if (hooks.shouldStop?.()) {
          acc.dispose();
          return state;
        }
      }
      acc?.dispose();
      const trainSeconds = (performance.now() - started) / 1000;
      // With averaging, validate the mean of the weights so far and keep the raw ones to put back.
      let raw: NamedTensors | null = null;
      if (opts.swaFrom !== undefined && state.epoch + 1 >= opts.swaFrom) {
        raw = await trainer.model.exportTensors();
        average = accumulateAverage(average, raw, names);
        trainer.model.importTensors(average.tensors);
      }
      if (opts.bnRecalibration > 0) await recalibrateBatchNorm(gpu, trainer, data, order.slice(0, opts.bnRecalibration), opts.batch, starts);
      let valLoss: number | null = null;
      let valAccuracy: number | null = null;
      let valUar: number | null = null;
      if (split.val.length > 0) {
        const logits = await examplesLogits(gpu, trainer.model, data, split.val, opts.batch);
        const labels = split.val.map((i) => data.labels[i]!);
        const cm = split.classMask;
        const pred = cm ? maskedArgmaxRows(adjustment ? adjustRows(logits, adjustment) : logits, classes, split.val, cm) : argmaxRows(adjustment ? adjustRows(logits, adjustment) : logits, classes);
        valAccuracy = pred.filter((p, i) => p === labels[i]).length / labels.length;
        valUar = unweightedAverageRecall(labels, pred, classes);
        valLoss = cm ? maskedMeanCrossEntropy(logits, labels, classes, trainer.model.config.labelSmoothing, split.val, cm) : meanCrossEntropy(logits, labels, classes, trainer.model.config.labelSmoothing);
        hooks.onValidationLogits?.(state.epoch + 1, logits, labels);
      }
      const metric = valAccuracy ?? lastRead.accuracy;
      state.history.push({
        epoch: state.epoch + 1,
        trainLoss: lastRead.loss,
        trainAccuracy: lastRead.accuracy,
        valLoss,
        valAccuracy,
        valUar,
        lr: trainer.adam.learningRate,
        seconds: (performance.now() - started) / 1000,
        samplesPerSecond: seen / trainSeconds,
      });
      const { improved, learningRate } = scheduleAfterEpoch(state, metric, valLoss, trainer.adam.learningRate, opts);
      if (!cosine && learningRate !== trainer.adam.learningRate) trainer.adam.setLearningRate(learningRate);
      state.epoch++;
      await hooks.onValidated?.(state, improved);
      if (raw) trainer.model.importTensors(raw);
      await hooks.onEpochEnd?.(state, improved, average, raw);
      if (opts.patience > 0 && state.sinceBest >= opts.patience) break;
    }
  } finally {
    classWeights?.dispose();
  }
  return state;
}

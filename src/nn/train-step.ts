// One training step, recorded into the runtime's encoder with no readback: forward through the model
// on the tape, fused softmax cross-entropy, backward, Adam with clipping (norms, scale and update on the
// GPU), then the dropout step counter advances. Returns the step's [mean loss, correct] statistics
// (the caller reads them back every N steps, not each step). Every intermediate is freed at the end, also
// when a kernel throws. Batch shapes and dtypes are checked before any GPU work; label ranges and NaN
// features cannot be seen without a readback, so they are checked once per data set
// (src/train/data/validate.ts).

import { ShapeError, fmtShape, type Gpu, type Tensor } from '../gpu';
import { Adam, type AdamOptions } from '../kernels/adam';
import { advanceDropoutStep } from '../kernels/dropout';
import { type LossMix, softmaxCrossEntropy } from './layers';
import type { ModelConfig, SerModel } from './model';
import { Tape } from './tape';

/** Input f32 [B, rows, frames, 1] for the model and, when given, labels u32 [B]. */
export function validateBatch(config: ModelConfig, x: Tensor, labels?: Tensor): void {
  const want = `[B, ${config.inputRows}, ${config.inputFrames}, 1]`;
  const [b, h, w, c] = x.shape;
  if (x.dtype !== 'f32' || x.shape.length !== 4 || !(b! >= 1) || h !== config.inputRows || w !== config.inputFrames || c !== 1) {
    throw new ShapeError(`train step: input '${x.label}' ${x.dtype}${fmtShape(x.shape)} must be f32 ${want}`);
  }
  if (labels && (labels.dtype !== 'u32' || labels.shape.length !== 1 || labels.shape[0] !== b)) {
    throw new ShapeError(`train step: labels '${labels.label}' ${labels.dtype}${fmtShape(labels.shape)} must be u32 [${b}], one class index per input`);
  }
}

/**
 * Logits [B, classes] of x [B, rows, frames, 1] in inference mode (moving BN statistics, no dropout),
 * recorded with no readback; the caller disposes them. Needs no optimiser state, unlike a Trainer.
 */
export function predictLogits(model: SerModel, x: Tensor): Tensor {
  validateBatch(model.config, x);
  const tape = new Tape(model.gpu);
  tape.training = false;
  const logits = tape.noGrad(() => model.forward(tape, tape.input(x)));
  const out = model.gpu.empty(logits.shape, 'f32', 'logits');
  model.gpu.copy(logits.value, out);
  tape.release();
  return out;
}

/**
 * A forward pass on x [B, rows, frames, 1] with batch statistics and no dropout whose BN layers blend
 * their moving statistics with weight `momentum` on the old values (0: replace them); nothing is
 * recorded and no weight changes. Recalibration and the adaptation of BN statistics to new data use it.
 */
export function refreshBatchNorm(model: SerModel, x: Tensor, momentum: number): void {
  validateBatch(model.config, x);
  const tape = new Tape(model.gpu);
  tape.dropout = false;
  tape.bnMomentum = momentum;
  try {
    tape.noGrad(() => model.forward(tape, tape.input(x)));
  } finally {
    tape.release();
  }
}

export class Trainer {
  readonly adam: Adam;
  private readonly gpu: Gpu;

  constructor(
    readonly model: SerModel,
    adamOptions: AdamOptions = { learningRate: 1e-3, clipnorm: 1.0 },
  ) {
    this.gpu = model.gpu;
    const weights = Object.fromEntries([...model.params].map(([name, p]) => [name, p.value]));
    this.adam = new Adam(this.gpu, weights, adamOptions);
  }

  /**
   * Record one step on a batch x [B, rows, frames, 1] with labels [B] (u32), the loss optionally
   * weighted by class (classWeights [classes] f32) or aimed at mixup targets (mix: partner labels [B]
   * u32 and the labels' share [1] f32, for an x blended by the caller), optionally over each example's
   * allowed classes only (classMask [B, classes] u32, nonzero: allowed); returns stats [2].
   */
  step(x: Tensor, labels: Tensor, classWeights?: Tensor, mix?: LossMix, classMask?: Tensor): Tensor {
    validateBatch(this.model.config, x, labels);
    if (mix) validateBatch(this.model.config, x, mix.partners);
    const gpu = this.gpu;
    const tape = new Tape(gpu);
    try {
      const logits = this.model.forward(tape, tape.input(x));
      const loss = softmaxCrossEntropy(tape, logits, labels, this.model.config.labelSmoothing, classWeights, mix, classMask);
      tape.backward(loss);
      const grads: Record<string, Tensor> = {};
      for (const [name, p] of this.model.params) {
        if (!p.grad) throw new Error(`train step: parameter '${name}' received no gradient`);
        grads[name] = p.grad;
      }
      this.adam.step(grads);
      advanceDropoutStep(gpu, this.model.dropoutState);
      const stats = gpu.empty([2], 'f32', 'step.stats');
      gpu.copy(loss.value, stats);
      return stats;
    } finally {
      tape.release();
      for (const p of this.model.params.values()) {
        p.grad?.dispose();
        p.grad = null;
      }
    }
  }

  /**
   * One batch of a batch-norm recalibration: a forward pass on x with batch statistics and no dropout
   * whose BN layers blend their moving statistics with weight `momentum` on the old values (nothing is
   * recorded; weights and the optimiser are untouched).
   */
  refreshBatchNorm(x: Tensor, momentum: number): void {
    refreshBatchNorm(this.model, x, momentum);
  }

  /** Logits [B, classes] in inference mode (moving BN statistics, no dropout, nothing recorded). */
  predict(x: Tensor): Tensor {
    return predictLogits(this.model, x);
  }

  dispose(): void {
    this.adam.dispose();
  }
}

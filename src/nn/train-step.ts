// One training step, recorded into the runtime's encoder with no readback: forward through the model
// on the tape, fused softmax cross-entropy, backward, Adam with clipping (norms, scale and update on the
// GPU), then the dropout step counter advances. Returns the step's [mean loss, correct] statistics
// (the caller reads them back every N steps, not each step). Every intermediate is freed at the end.

import type { Gpu, Tensor } from '../gpu';
import { Adam, type AdamOptions } from '../kernels/adam';
import { advanceDropoutStep } from '../kernels/dropout';
import { softmaxCrossEntropy } from './layers';
import type { SerModel } from './model';
import { Tape } from './tape';

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

  /** Record one step on a batch x [B, rows, frames, 1] with labels [B] (u32); returns stats [2]. */
  step(x: Tensor, labels: Tensor): Tensor {
    const gpu = this.gpu;
    const tape = new Tape(gpu);
    const logits = this.model.forward(tape, tape.input(x));
    const loss = softmaxCrossEntropy(tape, logits, labels, this.model.config.labelSmoothing);
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
    tape.release();
    for (const p of this.model.params.values()) {
      p.grad?.dispose();
      p.grad = null;
    }
    return stats;
  }

  /** Logits [B, classes] in inference mode (moving BN statistics, no dropout, nothing recorded). */
  predict(x: Tensor): Tensor {
    const tape = new Tape(this.gpu);
    tape.training = false;
    const logits = tape.noGrad(() => this.model.forward(tape, tape.input(x)));
    const out = this.gpu.empty(logits.shape, 'f32', 'logits');
    this.gpu.copy(logits.value, out);
    tape.release();
    return out;
  }

  dispose(): void {
    this.adam.dispose();
  }
}

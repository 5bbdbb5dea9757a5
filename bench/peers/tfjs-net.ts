// The SER residual CNN written with TensorFlow.js core ops, for the peer benchmarks only: the same layers
// as src/nn/model.ts (NHWC, HWIO filters, Keras BN semantics), loaded from the named weights of
// bench/peers/weights.ts. trainStep() is what a Keras-style step does: BN on batch moments with
// moving-statistics updates, dropout, softmax cross-entropy with label smoothing, per-weight clipnorm
// (Keras clip_by_norm: g * c / max(||g||, c)) and Adam (lr 1e-3, 0.9, 0.999, eps 1e-7).
// Backend-agnostic: used on tfjs-backend-webgpu and tfjs-backend-wasm (inference only there).

import type * as TF from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../../src/nn/model';
import type { Weights } from './weights';

type Tf = typeof TF;
let instances = 0;

export class TfjsNet {
  private readonly vars = new Map<string, TF.Variable>();
  private readonly prefix = `peer${instances++}/`;
  private readonly optimizer: TF.AdamOptimizer;

  constructor(
    private readonly tf: Tf,
    readonly config: ModelConfig,
    weights: Weights,
    readonly clipnorm = 1.0,
  ) {
    for (const [name, t] of weights) {
      const trainable = !/moving_(mean|var)$/.test(name);
      this.vars.set(name, tf.variable(tf.tensor(t.data, t.shape), trainable, this.prefix + name));
    }
    this.optimizer = tf.train.adam(1e-3, 0.9, 0.999, 1e-7);
  }

  private v(name: string): TF.Variable {
    const t = this.vars.get(name);
    if (!t) throw new Error(`tfjs net: no weight named '${name}'`);
    return t;
  }

  private convBn(x: TF.Tensor4D, name: string, relu: boolean, training: boolean): TF.Tensor4D {
    const tf = this.tf;
    const y = tf.add(tf.conv2d(x, this.v(`${name}.w`) as TF.Tensor4D, 1, 'same'), this.v(`${name}.b`)) as TF.Tensor4D;
    const gamma = this.v(`${name}.bn.gamma`);
    const beta = this.v(`${name}.bn.beta`);
    const mm = this.v(`${name}.bn.moving_mean`);
    const mv = this.v(`${name}.bn.moving_var`);
    let out: TF.Tensor4D;
    if (training) {
      const { mean, variance } = tf.moments(y, [0, 1, 2]);
      out = tf.batchNorm(y, mean, variance, beta, gamma, this.config.bnEpsilon) as TF.Tensor4D;
      // Side effects, not on the path to the loss: no gradient flows through them.
      const m = this.config.bnMomentum;
      mm.assign(tf.add(tf.mul(mm, m), tf.mul(mean, 1 - m)));
      mv.assign(tf.add(tf.mul(mv, m), tf.mul(variance, 1 - m)));
    } else {
      out = tf.batchNorm(y, mm, mv, beta, gamma, this.config.bnEpsilon) as TF.Tensor4D;
    }
    return relu ? tf.relu(out) : out;
  }

  /** Logits [N, classes] of x [N, rows, frames, 1]; call inside tf.tidy or a gradient function. */
  forward(x: TF.Tensor4D, training: boolean): TF.Tensor2D {
    const tf = this.tf;
    const c = this.config;
    const drop = <T extends TF.Tensor>(t: T, rate: number): T => (training && rate > 0 ? (tf.dropout(t, rate) as T) : t);
    const pool = (t: TF.Tensor4D) => tf.maxPool(t, 2, 2, 'valid');
    let y = drop(pool(this.convBn(x, 'stem', true, training)), c.stem.dropout);
    c.blocks.forEach((b, i) => {
      const n = `block${i + 1}`;
      const a = this.convBn(this.convBn(y, `${n}.conv_a`, true, training), `${n}.conv_b`, false, training);
      const s = this.convBn(y, `${n}.shortcut`, false, training);
      y = drop(pool(tf.relu(tf.add(a, s)) as TF.Tensor4D), b.dropout);
    });
    let h = tf.mean(y, [1, 2]) as TF.Tensor2D;
    c.dense.forEach((d, i) => {
      const n = `dense${i + 1}`;
      h = drop(tf.relu(tf.add(tf.matMul(h, this.v(`${n}.w`) as TF.Tensor2D), this.v(`${n}.b`))) as TF.Tensor2D, d.dropout);
    });
    return tf.add(tf.matMul(h, this.v('logits.w') as TF.Tensor2D), this.v('logits.b')) as TF.Tensor2D;
  }

  /** Inference-mode logits (moving BN statistics, no dropout). */
  predict(x: TF.Tensor4D): TF.Tensor2D {
    return this.tf.tidy(() => this.forward(x, false));
  }

  /** One training step on x [N, rows, frames, 1] and integer labels [N]; returns the mean loss (caller disposes). */
  trainStep(x: TF.Tensor4D, labels: TF.Tensor1D): TF.Scalar {
    const tf = this.tf;
    return tf.tidy(() => {
      const targets = tf.oneHot(labels, this.config.classes);
      const { value, grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(targets, this.forward(x, true), undefined, this.config.labelSmoothing) as TF.Scalar,
        [...this.vars.values()].filter((v) => v.trainable),
      );
      const clipped = Object.entries(grads).map(([name, g]) => ({
        name,
        tensor: tf.div(tf.mul(g, this.clipnorm), tf.maximum(tf.norm(g), this.clipnorm)),
      }));
      this.optimizer.applyGradients(clipped);
      return value;
    });
  }

  /** The weight as tfjs holds it now (for parity checks). */
  variable(name: string): TF.Variable {
    return this.v(name);
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.optimizer.dispose();
  }
}

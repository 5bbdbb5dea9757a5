// The Adam optimiser as a recorder of GPU work: it owns m and v for a fixed list of named parameter
// tensors, the learning rate ([1] f32) and the iteration count ([1] u32), and step(grads) records one
// full Keras update into the runtime's encoder: squared norms and clip factors (when clipping), the
// update of every tensor, then iterations += 1. Nothing is read back; setLearningRate writes the one
// float between steps (reduce-on-plateau) without recompiling. Kernels and formulas: optim.ts.
// With weightDecay it is Keras' AdamW (decoupled decay, w -= w * wd * lr before each update) on the
// tensors of rank 2 and more (conv and dense kernels); biases and batch-norm scales and shifts are
// left out, as Keras users do with exclude_from_weight_decay.
// Its tensors are untracked by scopes (the state outlives any step): dispose() it when done.

import { ShapeError, fmtShape, type Gpu, type Tensor } from '../gpu';
import { adamUpdate, clipScales, incrementCounter, positive, squaredNorms, type ClipMode } from './optim';

export interface AdamOptions {
  learningRate?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Clip each gradient tensor to this L2 norm (Keras clipnorm). */
  clipnorm?: number;
  /** Clip all gradients together to this global L2 norm (Keras global_clipnorm). */
  globalClipnorm?: number;
  /** AdamW's decoupled weight decay on the tensors of rank >= 2 (absent or 0: plain Adam). */
  weightDecay?: number;
}

export const ADAM_DEFAULTS = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } as const;

export class Adam {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly clip: ClipMode | null;
  readonly weightDecay: number;
  /** [1] u32: updates recorded so far (Keras' optimizer.iterations). */
  readonly iterations: Tensor;
  /** [T] f32 squared gradient norms of the last step, in parameter order (only when clipping). */
  lastSquaredNorms: Tensor | null = null;
  private lr: number;
  private readonly lrTensor: Tensor;
  private readonly names: string[];
  private readonly slots = new Map<string, { weight: Tensor; m: Tensor; v: Tensor; clipIndex: Tensor | null }>();

  constructor(private readonly gpu: Gpu, params: Readonly<Record<string, Tensor>>, opts: AdamOptions = {}) {
    const o = { ...ADAM_DEFAULTS, ...opts };
    positive('Adam', 'learningRate', o.learningRate);
    positive('Adam', 'epsilon', o.epsilon);
    for (const [name, b] of [['beta1', o.beta1], ['beta2', o.beta2]] as const) {
      if (typeof b !== 'number' || !Number.isFinite(b) || b <= 0 || b >= 1) throw new ShapeError(`Adam: ${name} must lie strictly between 0 and 1, got ${b}`);
    }
    if (o.clipnorm !== undefined && o.globalClipnorm !== undefined) {
      throw new ShapeError('Adam: clipnorm and globalClipnorm cannot both be set (as in Keras)');
    }
    if (o.clipnorm !== undefined) positive('Adam', 'clipnorm', o.clipnorm);
    if (o.globalClipnorm !== undefined) positive('Adam', 'globalClipnorm', o.globalClipnorm);
    if (o.weightDecay !== undefined && !(Number.isFinite(o.weightDecay) && o.weightDecay >= 0)) throw new ShapeError(`Adam: weightDecay must be a finite number >= 0, got ${o.weightDecay}`);
    this.weightDecay = o.weightDecay ?? 0;
    this.names = Object.keys(params);
    if (this.names.length === 0) throw new ShapeError('Adam: needs at least one parameter tensor');
    this.beta1 = o.beta1;
    this.beta2 = o.beta2;
    this.epsilon = o.epsilon;
    this.clip = o.clipnorm !== undefined ? { clipnorm: o.clipnorm } : o.globalClipnorm !== undefined ? { globalClipnorm: o.globalClipnorm } : null;
    this.lr = o.learningRate;
    this.lrTensor = this.own(gpu.upload([o.learningRate], [1], 'f32', 'adam.learningRate'));
    this.iterations = this.own(gpu.zeros([1], 'u32', 'adam.iterations'));
    for (const name of this.names) {
      const weight = params[name]!;
      if (weight.dtype !== 'f32') throw new ShapeError(`Adam: parameter '${name}' is ${weight.dtype}${fmtShape(weight.shape)}, expected f32`);
      this.slots.set(name, {
        weight,
        m: this.own(gpu.zeros(weight.shape, 'f32', `adam.m.${name}`)),
        v: this.own(gpu.zeros(weight.shape, 'f32', `adam.v.${name}`)),
        // Its index among the clip factors, on the GPU: one update pipeline serves every parameter.
        clipIndex: this.clip ? this.own(gpu.upload([this.names.indexOf(name)], [1], 'u32', `adam.clipIndex.${name}`)) : null,
      });
    }
  }

  get learningRate(): number {
    return this.lr;
  }

  /** Change the learning rate for the following steps (one 4-byte write; no recompilation). */
  setLearningRate(lr: number): void {
    positive('Adam', 'learningRate', lr);
    this.lr = lr;
    this.gpu.write(this.lrTensor, [lr]);
  }

  /** The moment estimates of one parameter (for checkpoints and tests). */
  moments(name: string): { m: Tensor; v: Tensor } {
    const s = this.slots.get(name);
    if (!s) throw new ShapeError(`Adam: no parameter named '${name}'`);
    return { m: s.m, v: s.v };
  }

  /** Record one update of every parameter from gradients with the same names and shapes. */
  step(grads: Readonly<Record<string, Tensor>>): void {
    const ordered = this.names.map((name) => {
      const g = grads[name];
      const w = this.slots.get(name)!.weight;
      if (!g) throw new ShapeError(`Adam.step: no gradient for parameter '${name}'`);
      if (g.shape.length !== w.shape.length || g.shape.some((d, i) => d !== w.shape[i])) {
        throw new ShapeError(`Adam.step: gradient of '${name}' is ${fmtShape(g.shape)}, parameter is ${fmtShape(w.shape)}`);
      }
      return g;
    });
    const extra = Object.keys(grads).filter((k) => !this.slots.has(k));
    if (extra.length > 0) throw new ShapeError(`Adam.step: gradients for unknown parameters: ${extra.join(', ')}`);
    let scales: Tensor | null = null;
    if (this.clip) {
      this.lastSquaredNorms?.dispose();
      this.lastSquaredNorms = this.own(squaredNorms(this.gpu, ordered));
      scales = clipScales(this.gpu, this.lastSquaredNorms, this.clip);
    }
    const plain = { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
    const decaying = { ...plain, weightDecay: this.weightDecay };
    this.names.forEach((name, index) => {
      const s = this.slots.get(name)!;
      adamUpdate(
        this.gpu,
        { weight: s.weight, grad: ordered[index]!, m: s.m, v: s.v, learningRate: this.lrTensor, iterations: this.iterations, clip: scales && s.clipIndex ? { scales, index: s.clipIndex } : undefined },
        this.decays(name) ? decaying : plain,
      );
    });
    scales?.dispose();
    incrementCounter(this.gpu, this.iterations);
  }

  /** Whether weight decay applies to this parameter: kernels (rank >= 2), not biases or BN parameters. */
  decays(name: string): boolean {
    return this.weightDecay > 0 && this.slots.get(name)!.weight.shape.length >= 2;
  }

  private own(t: Tensor): Tensor {
    this.gpu.untrack(t);
    return t;
  }

  dispose(): void {
    for (const s of this.slots.values()) {
      s.m.dispose();
      s.v.dispose();
      s.clipIndex?.dispose();
    }
    this.lastSquaredNorms?.dispose();
    this.lrTensor.dispose();
    this.iterations.dispose();
  }
}

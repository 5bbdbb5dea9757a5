// The autograd tape: define-by-run. Each op runs its forward kernels at once and records, right beside
// them, a closure that maps the gradient of its output to the gradients of its inputs. backward() walks
// the records in reverse (the tape order is already topological) and accumulates gradients where a
// value feeds several ops (the residual branch). release() frees every intermediate of the step:
// values, gradients and tensors saved for backward; parameters keep their values, and their gradients
// live until the optimiser has used them (zeroGrad()).

import { GpuError, type Gpu, type Tensor } from '../gpu';
import { add } from '../kernels/elementwise';

export class Var {
  grad: Tensor | null = null;

  constructor(
    public value: Tensor,
    readonly requiresGrad: boolean,
    /** Parameters and inputs are not freed by release(). */
    readonly persistent = false,
    readonly name = value.label,
  ) {}

  get shape(): readonly number[] {
    return this.value.shape;
  }
}

/** A trainable tensor registered by name. */
export class Parameter extends Var {
  constructor(value: Tensor, name: string) {
    super(value, true, true, name);
  }
}

/** Maps the output gradient (null: the output is the loss, seeded with 1) to one gradient per input. */
export type Backward = (dOut: Tensor | null) => (Tensor | null)[];

interface Record {
  inputs: Var[];
  output: Var;
  backward: Backward;
  saved: Tensor[];
}

export class Tape {
  private records: Record[] = [];
  private owned: Var[] = [];
  /** When false, ops record nothing (inference, evaluation). */
  gradEnabled = true;
  /** Training mode: dropout active, batch norm uses batch statistics. */
  training = true;
  /** In training mode, apply dropout (false for batch-norm recalibration passes). */
  dropout = true;
  /**
   * In training mode, the weight of the old BN moving statistics in this pass, overriding each layer's
   * momentum (a recalibration pass sets (i-1)/i for its i-th batch: a running mean of batch statistics).
   */
  bnMomentum: number | null = null;

  constructor(readonly gpu: Gpu) {}

  /** A non-trainable input (data, labels). Not freed by release(). */
  input(t: Tensor): Var {
    return new Var(t, false, true);
  }

  /**
   * Register an op's result. `saved` are tensors the backward closure reads that nobody else owns
   * (freed on release). Without grad mode or when no input needs a gradient nothing is recorded.
   */
  record(inputs: Var[], value: Tensor, backward: Backward, saved: Tensor[] = []): Var {
    const needs = this.gradEnabled && inputs.some((v) => v.requiresGrad);
    const out = new Var(value, needs);
    this.owned.push(out);
    if (needs) this.records.push({ inputs, output: out, backward, saved });
    else for (const s of saved) s.dispose();
    return out;
  }

  /** Run `fn` without recording (inference). */
  noGrad<T>(fn: () => T): T {
    const prev = this.gradEnabled;
    this.gradEnabled = false;
    try {
      return fn();
    } finally {
      this.gradEnabled = prev;
    }
  }

  /** Back-propagate from a scalar loss whose op seeds its own gradient. */
  backward(loss: Var): void {
    const last = this.records[this.records.length - 1];
    if (!last || last.output !== loss) throw new GpuError('backward: the loss must be the last op recorded on the tape');
    for (let i = this.records.length - 1; i >= 0; i--) {
      const r = this.records[i]!;
      const dOut = r.output === loss ? null : r.output.grad;
      if (r.output !== loss && !dOut) continue; // this branch does not reach the loss
      const grads = r.backward(dOut);
      r.inputs.forEach((v, k) => {
        const g = grads[k];
        if (!g) return;
        if (!v.requiresGrad) g.dispose();
        else this.accumulate(v, g);
      });
    }
  }

  private accumulate(v: Var, g: Tensor): void {
    if (!v.grad) {
      v.grad = g;
      return;
    }
    const sum = add(this.gpu, v.grad, g);
    v.grad.dispose();
    g.dispose();
    v.grad = sum;
  }

  /** Free every intermediate of this step (parameter gradients stay until zeroGrad). */
  release(): void {
    for (const r of this.records) for (const s of r.saved) s.dispose();
    for (const v of this.owned) {
      v.value.dispose();
      v.grad?.dispose();
      v.grad = null;
    }
    this.records = [];
    this.owned = [];
  }

  get size(): number {
    return this.records.length;
  }
}

// Reference gradient clipping and Adam, Keras semantics, float64. Parameters and gradients are flat
// Float64Arrays (one per variable, any shape).
//   clipnorm c:        each gradient g -> g * min(1, c / ||g||)          (keras clip_by_norm)
//   global_clipnorm c: every g -> g * min(1, c / sqrt(sum of ||g||^2))   (keras clip_by_global_norm)
//   Adam, step t = 1, 2, ...: m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
//     lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t);  w -= lr_t * m / (sqrt(v) + eps)
//   with eps = 1e-7 added to sqrt(v) OUTSIDE the bias correction: exactly Keras's Adam (it folds the
//   corrections into lr_t), which differs from the paper's m_hat / (sqrt(v_hat) + eps) in the eps term.
//   Keras writes the moment updates as m += (g - m)(1 - b1); equal in exact arithmetic.
//   AdamW (keras.optimizers.AdamW, decoupled weight decay wd): before the update, each decayed
//   variable w -= w * wd * lr (the step's learning rate, not lr_t); the Adam update then uses the
//   decayed w. Which variables decay is the caller's choice (Keras: exclude_from_weight_decay).

export function l2Norm(g: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < g.length; i++) s += g[i]! ** 2;
  return Math.sqrt(s);
}

export function globalNorm(grads: readonly Float64Array[]): number {
  return Math.sqrt(grads.reduce((s, g) => s + l2Norm(g) ** 2, 0));
}

/** Keras clipnorm: every tensor rescaled on its own; a zero gradient stays zero. */
export function clipByNorm(grads: readonly Float64Array[], clipnorm: number): Float64Array[] {
  return grads.map((g) => {
    const norm = l2Norm(g);
    const scale = norm > clipnorm ? clipnorm / norm : 1;
    return g.map((v) => v * scale);
  });
}

/** Keras global_clipnorm: one scale for all tensors, from the norm of their concatenation. */
export function clipByGlobalNorm(grads: readonly Float64Array[], clipnorm: number): { grads: Float64Array[]; norm: number; scale: number } {
  const norm = globalNorm(grads);
  const scale = norm > clipnorm ? clipnorm / norm : 1;
  return { grads: grads.map((g) => g.map((v) => v * scale)), norm, scale };
}

export interface AdamOptions {
  learningRate?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** AdamW's decoupled weight decay (0 or absent: plain Adam). */
  weightDecay?: number;
  /** Which params decay (absent: all). */
  decayed?: readonly boolean[];
}

export const ADAM_DEFAULTS = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

export interface AdamState {
  /** Steps taken so far; the next update uses t = step + 1. */
  step: number;
  m: Float64Array[];
  v: Float64Array[];
}

export function adamInit(params: readonly Float64Array[]): AdamState {
  return { step: 0, m: params.map((p) => new Float64Array(p.length)), v: params.map((p) => new Float64Array(p.length)) };
}

/** One Adam update; params and state are updated in place (the optimiser owns both, as on the GPU). */
export function adamStep(params: Float64Array[], grads: readonly Float64Array[], state: AdamState, options: AdamOptions = {}): void {
  const { learningRate, beta1, beta2, epsilon } = { ...ADAM_DEFAULTS, ...options };
  const wd = options.weightDecay ?? 0;
  if (params.length !== grads.length || params.length !== state.m.length) {
    throw new Error(`adamStep: ${params.length} params, ${grads.length} grads, ${state.m.length} moment slots`);
  }
  state.step += 1;
  const t = state.step;
  const lrT = (learningRate * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
  params.forEach((w, k) => {
    const g = grads[k]!, m = state.m[k]!, v = state.v[k]!;
    if (g.length !== w.length) throw new Error(`adamStep: param ${k} has ${w.length} values, its gradient ${g.length}`);
    if (wd > 0 && (options.decayed?.[k] ?? true)) for (let i = 0; i < w.length; i++) w[i] -= w[i]! * wd * learningRate;
    for (let i = 0; i < w.length; i++) {
      m[i] = beta1 * m[i]! + (1 - beta1) * g[i]!;
      v[i] = beta2 * v[i]! + (1 - beta2) * g[i]! ** 2;
      w[i] -= (lrT * m[i]!) / (Math.sqrt(v[i]!) + epsilon);
    }
  });
}

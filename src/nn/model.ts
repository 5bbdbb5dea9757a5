// The SER model: the seed report's residual CNN on [N, 82, 64, 1] inputs (NHWC), as a config object.
//   stem:   conv3x3 -> BN -> ReLU -> maxpool 2x2 -> dropout
//   blocks: [conv3x3 -> BN -> ReLU -> conv3x3 -> BN] + [conv1x1 -> BN] -> add -> ReLU -> maxpool -> dropout
//   head:   global average pooling -> (dense -> ReLU -> dropout)* -> dense K (softmax lives in the loss)
// Parameters are registered by name (e.g. "block1.conv_a.w"), initialised from a seed: layers followed
// by ReLU He-normal (Keras he_normal: truncated normal, stddev sqrt(2 / fan_in) / 0.8796); the linear
// output layer Glorot-uniform (Keras' Dense default), since He scaling there starts training with
// needlessly large logits; biases and BN shifts 0, BN scales 1, moving means 0 and variances 1. Weights and BN moving statistics save and load by name.

import { createRng } from '../common/random';
import { ShapeError, type Gpu, type Tensor } from '../gpu';
import { dropoutState } from '../kernels/dropout';
import { batchNorm, conv2d, dropout, globalAvgPool, maxPool } from './layers';
import { conv2d as conv2dKernel, conv2dGeometry, useWinograd } from '../kernels/conv2d';
import { conv1x1, conv1x1Fits } from '../kernels/conv1x1';
import { foldBatchNorm } from '../kernels/bn-fold';
import { stemConvFits, stemConvPool } from '../kernels/stem-conv';
import { forwardPass, winogradConv, winogradFilter } from '../kernels/winograd';
import { add, dense, relu } from './ops';
import { Parameter, type Tape, type Var } from './tape';

export { SEED_MODEL, modelConfig, type ModelConfig } from './model-config';
import type { ModelConfig } from './model-config';

interface ConvUnit {
  w: Parameter;
  b: Parameter;
  bn: { gamma: Parameter; beta: Parameter; movingMean: Tensor; movingVar: Tensor };
}

/** A model's weights and statistics by name, as read back from the GPU (what safetensors files hold). */
export type NamedTensors = Map<string, { shape: number[]; data: Float32Array }>;

export class SerModel {
  readonly params = new Map<string, Parameter>();
  /** BN moving statistics (not trained by the optimiser, saved with the weights). */
  readonly state = new Map<string, Tensor>();
  /** u32 [step, seed] read by the dropout kernels. */
  readonly dropoutState: Tensor;
  private readonly units = new Map<string, ConvUnit>();
  /**
   * At inference (not training, no gradients), run the fused kernels: the stem's conv + ReLU + max pool
   * in one pass, the 1x1 shortcuts as a GEMM, and each block's tail (conv_b + shortcut, ReLU, max pool)
   * inside conv_b's Winograd inverse transform. false: the layer-by-layer path (for comparisons).
   */
  fuseInference = true;

  constructor(
    readonly gpu: Gpu,
    readonly config: ModelConfig,
    seed = 0,
  ) {
    const rng = createRng(seed);
    const heNormal = (shape: number[], fanIn: number): Float32Array => {
      const std = Math.sqrt(2 / fanIn) / 0.87962566103423978;
      const n = shape.reduce((a, b) => a * b, 1);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        let z = rng.normal();
        while (Math.abs(z) > 2) z = rng.normal();
        out[i] = z * std;
      }
      return out;
    };
    const param = (name: string, shape: number[], data: Float32Array | number) => {
      const t = gpu.upload(typeof data === 'number' ? new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(data) : data, shape, 'f32', name);
      gpu.scopes.keep(t);
      const p = new Parameter(t, name);
      this.params.set(name, p);
      return p;
    };
    const stateT = (name: string, c: number, v: number) => {
      const t = gpu.scopes.keep(gpu.upload(new Float32Array(c).fill(v), [c], 'f32', name));
      this.state.set(name, t);
      return t;
    };
    const conv = (name: string, k: number, cin: number, cout: number) => {
      this.units.set(name, {
        w: param(`${name}.w`, [k, k, cin, cout], heNormal([k, k, cin, cout], k * k * cin)),
        b: param(`${name}.b`, [cout], 0),
        bn: {
          gamma: param(`${name}.bn.gamma`, [cout], 1),
          beta: param(`${name}.bn.beta`, [cout], 0),
          movingMean: stateT(`${name}.bn.moving_mean`, cout, 0),
          movingVar: stateT(`${name}.bn.moving_var`, cout, 1),
        },
      });
    };
    conv('stem', 3, 1, config.stem.filters);
    let cin = config.stem.filters;
    config.blocks.forEach((b, i) => {
      conv(`block${i + 1}.conv_a`, 3, cin, b.filters);
      conv(`block${i + 1}.conv_b`, 3, b.filters, b.filters);
      conv(`block${i + 1}.shortcut`, 1, cin, b.filters);
      cin = b.filters;
    });
    const glorotUniform = (fanIn: number, fanOut: number): Float32Array => {
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      return Float32Array.from({ length: fanIn * fanOut }, () => (2 * rng.next() - 1) * limit);
    };
    let fin = cin;
    [...config.dense.map((d) => d.units), config.classes].forEach((units, i) => {
      const isLogits = i === config.dense.length;
      const name = isLogits ? 'logits' : `dense${i + 1}`;
      param(`${name}.w`, [fin, units], isLogits ? glorotUniform(fin, units) : heNormal([fin, units], fin));
      param(`${name}.b`, [units], 0);
      fin = units;
    });
    this.dropoutState = gpu.scopes.keep(dropoutState(gpu, seed >>> 0));
  }

  /** The conv's weights and bias with its BN's moving statistics folded in (new tensors). */
  private folded(name: string): { w: Tensor; b: Tensor } {
    const u = this.units.get(name)!;
    const bn = { gamma: u.bn.gamma.value, beta: u.bn.beta.value, movingMean: u.bn.movingMean, movingVar: u.bn.movingVar };
    return foldBatchNorm(this.gpu, u.w.value, u.b.value, bn, this.config.bnEpsilon);
  }

  private convBn(tape: Tape, x: Var, name: string, relu: boolean): Var {
    const u = this.units.get(name)!;
    if (!tape.training && !tape.gradEnabled) {
      // Inference: the moving statistics folded into the conv's weights and bias (one pass fewer).
      const y = this.gpu.scope(() => {
        const f = this.folded(name);
        return conv2dKernel(this.gpu, x.value, f.w, { padding: 'same', bias: f.b, activation: relu ? 'relu' : 'none' });
      });
      return tape.record([x], y, () => [null]);
    }
    const y = conv2d(tape, x, u.w, u.b, { padding: 'same' });
    return batchNorm(tape, y, u.bn, { relu, momentum: this.config.bnMomentum, epsilon: this.config.bnEpsilon });
  }

  /** Logits [N, classes] of inputs [N, rows, frames, 1]. */
  forward(tape: Tape, x: Var): Var {
    const c = this.config;
    const [, h, w, ch] = x.shape;
    if (x.shape.length !== 4 || h !== c.inputRows || w !== c.inputFrames || ch !== 1) {
      throw new ShapeError(`model: input ${JSON.stringify(x.shape)} must be [N, ${c.inputRows}, ${c.inputFrames}, 1]`);
    }
    // Dropout streams: 0 the stem, 1..B the blocks, then the dense layers. Dropout is the identity at
    // inference, so the fused paths leave it out.
    const fused = this.fuseInference && !tape.training && !tape.gradEnabled;
    let y: Var = (fused ? this.stemFused(tape, x) : null) ??
      dropout(tape, maxPool(tape, this.convBn(tape, x, 'stem', true)), c.stem.dropout, this.dropoutState, 0);
    c.blocks.forEach((b, i) => {
      const name = `block${i + 1}`;
      y = (fused ? this.blockFused(tape, y, name) : null) ?? dropout(tape, this.block(tape, y, name), b.dropout, this.dropoutState, i + 1);
    });
    y = globalAvgPool(tape, y);
    c.dense.forEach((d, i) => {
      y = dropout(tape, dense(tape, y, this.p(`dense${i + 1}.w`), this.p(`dense${i + 1}.b`), 'relu'), d.dropout, this.dropoutState, c.blocks.length + 1 + i);
    });
    return dense(tape, y, this.p('logits.w'), this.p('logits.b'));
  }

  /** A residual block layer by layer: maxpool(relu(conv_b(conv_a(x)) + shortcut(x))), each conv + BN. */
  private block(tape: Tape, x: Var, name: string): Var {
    const a = this.convBn(tape, this.convBn(tape, x, `${name}.conv_a`, true), `${name}.conv_b`, false);
    const s = this.convBn(tape, x, `${name}.shortcut`, false);
    return maxPool(tape, relu(tape, add(tape, a, s)));
  }

  /** Inference stem: maxpool(relu(conv + folded BN)) in one kernel, or null where it does not fit. */
  private stemFused(tape: Tape, x: Var): Var | null {
    const u = this.units.get('stem')!;
    const g = conv2dGeometry('stem', x.shape, u.w.shape, { padding: 'same' });
    if (!stemConvFits(g)) return null;
    const y = this.gpu.scope(() => {
      const f = this.folded('stem');
      return stemConvPool(this.gpu, g, x.value, f.w, f.b);
    });
    return tape.record([x], y, () => [null]);
  }

  /**
   * Inference block: conv_a (Winograd, folded BN, ReLU), the shortcut (1x1 GEMM), then conv_b with the
   * shortcut added, ReLU and max pool fused into its inverse transform. null where conv_b cannot run as
   * Winograd or its output is smaller than 2x2 (the layer-by-layer path then runs).
   */
  private blockFused(tape: Tape, x: Var, name: string): Var | null {
    const gpu = this.gpu;
    const [N, H, W] = x.shape as [number, number, number, number];
    const wb = this.units.get(`${name}.conv_b`)!.w;
    const g = conv2dGeometry('conv2d', [N, H, W, wb.shape[2]!], wb.shape, { padding: 'same' });
    if (H < 2 || W < 2 || !useWinograd('conv2d', gpu, g)) return null;
    const a = this.convBn(tape, x, `${name}.conv_a`, true);
    const y = gpu.scope(() => {
      const fs = this.folded(`${name}.shortcut`);
      const s = conv1x1Fits(x.shape, g.Cout, gpu.limits.maxStorageBufferBindingSize)
        ? conv1x1(gpu, x.value, fs.w, fs.b)
        : conv2dKernel(gpu, x.value, fs.w, { bias: fs.b });
      const fb = this.folded(`${name}.conv_b`);
      return winogradConv(gpu, forwardPass(g), a.value, winogradFilter(gpu, fb.w, false), { bias: fb.b, residual: s, relu: true, pool: true }, `${name}.tail`);
    });
    return tape.record([x], y, () => [null]);
  }

  private p(name: string): Parameter {
    return this.params.get(name)!;
  }

  /** Every saved tensor (parameters and BN moving statistics) by name, with its shape. */
  tensorShapes(): Map<string, readonly number[]> {
    const m = new Map<string, readonly number[]>();
    for (const [k, p] of this.params) m.set(k, p.shape);
    for (const [k, t] of this.state) m.set(k, t.shape);
    return m;
  }

  async exportTensors(): Promise<NamedTensors> {
    const names = [...this.params.keys(), ...this.state.keys()];
    const tensors = names.map((n) => this.params.get(n)?.value ?? this.state.get(n)!);
    const data = await this.gpu.readMany(tensors);
    return new Map(names.map((n, i) => [n, { shape: [...tensors[i]!.shape], data: data[i] as Float32Array }]));
  }

  importTensors(named: NamedTensors): void {
    for (const [name, t] of named) {
      const target = this.params.get(name)?.value ?? this.state.get(name);
      if (!target) throw new ShapeError(`model: no tensor named '${name}'`);
      this.gpu.write(target, t.data);
    }
  }

  get parameterCount(): number {
    let n = 0;
    for (const p of this.params.values()) n += p.value.size;
    return n;
  }

  dispose(): void {
    for (const p of this.params.values()) p.value.dispose();
    for (const t of this.state.values()) t.dispose();
    this.dropoutState.dispose();
  }
}

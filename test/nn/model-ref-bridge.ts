// Float64 reference of the GPU SerModel architecture (src/nn/model.ts), training mode, dropout off,
// composed from the finite-difference-checked layers in test/ref. test/ref/model.ts cannot stand in for
// it: that network has no max-pool after its residual block and exactly one block and one dense layer,
// while SerModel pools after every block and may stack dense layers.
//   stem:   conv3x3 same -> BN -> ReLU -> maxpool 2x2
//   blocks: [conv3x3 -> BN -> ReLU -> conv3x3 -> BN] + [conv1x1 -> BN] -> add -> ReLU -> maxpool 2x2
//   head:   global average pool -> (dense -> ReLU)* -> dense 'logits' -> mean label-smoothed CE
// Parameters are keyed by the GPU model's names ("stem.w", "block1.conv_a.bn.gamma", "dense1.b", ...).

import type { ModelConfig } from '../../src/nn/model';
import { conv2dBackward, conv2dForward } from '../ref/conv';
import {
  addForward, denseBackward, denseForward, globalAvgPoolBackward, globalAvgPoolForward, maxPool2x2Backward,
  maxPool2x2Forward, reluBackward, reluForward,
} from '../ref/layers';
import { softmaxCrossEntropy } from '../ref/loss';
import { batchNormTrainBackward, batchNormTrainForward } from '../ref/norm';
import type { Tensor } from '../ref/tensor';

export type NamedTensors = Record<string, Tensor>;

export interface SerModelRefResult {
  loss: number;
  logits: Tensor;
  /** Gradient of the mean loss wrt every parameter, by GPU name. */
  backward: () => Record<string, Float64Array>;
}

type Back = (dy: Tensor) => Tensor;

/** The reference forward pass; throws on a config with dropout (masks are not modelled here). */
export function serModelRef(config: ModelConfig, params: NamedTensors, x: Tensor, labels: ArrayLike<number>): SerModelRefResult {
  const rates = [config.stem.dropout, ...config.blocks.map((b) => b.dropout), ...config.dense.map((d) => d.dropout)];
  if (rates.some((r) => r !== 0)) throw new Error('serModelRef: dropout rates must all be 0');
  const p = (name: string): Tensor => {
    const t = params[name];
    if (!t) throw new Error(`serModelRef: missing parameter ${name}`);
    return t;
  };
  const grads: Record<string, Float64Array> = {};
  const bnOptions = { momentum: config.bnMomentum, epsilon: config.bnEpsilon };

  const convBn = (name: string, input: Tensor, relu: boolean): { y: Tensor; back: Back } => {
    const w = p(`${name}.w`);
    const gamma = p(`${name}.bn.gamma`);
    const c = conv2dForward(input, w, p(`${name}.b`), { padding: 'same' });
    const f = batchNormTrainForward(c, gamma, p(`${name}.bn.beta`), bnOptions);
    const y = relu ? reluForward(f.y) : f.y;
    const back: Back = (dy) => {
      const g = batchNormTrainBackward(relu ? reluBackward(dy, f.y) : dy, f, gamma);
      grads[`${name}.bn.gamma`] = g.dgamma.data;
      grads[`${name}.bn.beta`] = g.dbeta.data;
      const cg = conv2dBackward(g.dx, input, w, { padding: 'same' });
      grads[`${name}.w`] = cg.dw.data;
      grads[`${name}.b`] = cg.db.data;
      return cg.dx;
    };
    return { y, back };
  };

  const backs: Back[] = [];
  const stem = convBn('stem', x, true);
  const stemPool = maxPool2x2Forward(stem.y);
  backs.push((dy) => stem.back(maxPool2x2Backward(dy, stemPool, stem.y.shape)));
  let y = stemPool.y;

  config.blocks.forEach((_, i) => {
    const name = `block${i + 1}`;
    const input = y;
    const a = convBn(`${name}.conv_a`, input, true);
    const b = convBn(`${name}.conv_b`, a.y, false);
    const s = convBn(`${name}.shortcut`, input, false);
    const sum = addForward(b.y, s.y);
    const act = reluForward(sum);
    const pool = maxPool2x2Forward(act);
    backs.push((dy) => {
      const dSum = reluBackward(maxPool2x2Backward(dy, pool, act.shape), sum);
      return addForward(a.back(b.back(dSum)), s.back(dSum));
    });
    y = pool.y;
  });

  const gapShape = y.shape;
  y = globalAvgPoolForward(y);
  backs.push((dy) => globalAvgPoolBackward(dy, gapShape));

  [...config.dense.map((_, i) => `dense${i + 1}`), 'logits'].forEach((name, i) => {
    const input = y;
    const w = p(`${name}.w`);
    const z = denseForward(input, w, p(`${name}.b`));
    const relu = i < config.dense.length;
    y = relu ? reluForward(z) : z;
    backs.push((dy) => {
      const g = denseBackward(relu ? reluBackward(dy, z) : dy, input, w);
      grads[`${name}.w`] = g.dw.data;
      grads[`${name}.b`] = g.db.data;
      return g.dx;
    });
  });

  const ce = softmaxCrossEntropy(y, labels, { labelSmoothing: config.labelSmoothing });
  const backward = (): Record<string, Float64Array> => {
    let d = ce.dlogits;
    for (let i = backs.length - 1; i >= 0; i--) d = backs[i]!(d);
    return grads;
  };
  return { loss: ce.loss, logits: y, backward };
}

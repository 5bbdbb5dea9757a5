// The SER residual CNN as an ONNX graph (inference mode: BN from moving statistics, no dropout), encoded
// with onnx-proto (protobufjs) from the named weights of bench/peers/weights.ts, so ONNX Runtime runs
// exactly our network on our weights. Layout NCHW: input x [N, 1, rows, frames] has the same memory as
// our NHWC [N, rows, frames, 1]; conv filters are transposed from HWIO to OIHW. Opset 13, IR version 7.

import { createRequire } from 'node:module';
import type { ModelConfig } from '../../src/nn/model';
import type { Weights } from './weights';

type OnnxProto = typeof import('onnx-proto');
const { onnx } = createRequire(import.meta.url)('onnx-proto') as OnnxProto;
type INode = import('onnx-proto').onnx.INodeProto;
type ITensor = import('onnx-proto').onnx.ITensorProto;
type IAttr = import('onnx-proto').onnx.IAttributeProto;

const FLOAT = onnx.TensorProto.DataType.FLOAT;

function ints(name: string, v: number[]): IAttr {
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: v };
}
function int(name: string, v: number): IAttr {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i: v };
}
function float(name: string, v: number): IAttr {
  return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v };
}

/** HWIO [k, k, cin, cout] -> OIHW [cout, cin, k, k]. */
function hwioToOihw(data: Float32Array, [kh, kw, cin, cout]: number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let h = 0; h < kh!; h++)
    for (let w = 0; w < kw!; w++)
      for (let i = 0; i < cin!; i++)
        for (let o = 0; o < cout!; o++) out[((o * cin! + i) * kh! + h) * kw! + w] = data[((h * kw! + w) * cin! + i) * cout! + o]!;
  return out;
}

/** The model's ONNX encoding; the graph's input is "x" [N, 1, rows, frames] (N symbolic), output "logits" [N, classes]. */
export function encodeOnnxModel(config: ModelConfig, weights: Weights): Uint8Array {
  const nodes: INode[] = [];
  const init: ITensor[] = [];
  const get = (name: string) => {
    const t = weights.get(name);
    if (!t) throw new Error(`onnx model: no weight named '${name}'`);
    return t;
  };
  const addInit = (name: string, dims: number[], data: Float32Array) => {
    init.push({ name, dims, dataType: FLOAT, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
  };
  let n = 0;
  const node = (opType: string, input: string[], attribute: IAttr[] = []): string => {
    const out = `${opType.toLowerCase()}_${n++}`;
    nodes.push({ opType, input, output: [out], name: out, attribute });
    return out;
  };

  const convBn = (x: string, name: string, relu: boolean): string => {
    const w = get(`${name}.w`);
    const [k, , cin, cout] = w.shape as [number, number, number, number];
    addInit(`${name}.w`, [cout, cin, k, k], hwioToOihw(w.data, w.shape));
    addInit(`${name}.b`, [cout], get(`${name}.b`).data);
    for (const p of ['gamma', 'beta', 'moving_mean', 'moving_var']) addInit(`${name}.bn.${p}`, [cout], get(`${name}.bn.${p}`).data);
    const pad = (k - 1) / 2;
    let y = node('Conv', [x, `${name}.w`, `${name}.b`], [ints('kernel_shape', [k, k]), ints('pads', [pad, pad, pad, pad]), ints('strides', [1, 1])]);
    y = node('BatchNormalization', [y, `${name}.bn.gamma`, `${name}.bn.beta`, `${name}.bn.moving_mean`, `${name}.bn.moving_var`], [float('epsilon', config.bnEpsilon)]);
    return relu ? node('Relu', [y]) : y;
  };
  const pool = (x: string) => node('MaxPool', [x], [ints('kernel_shape', [2, 2]), ints('strides', [2, 2])]);

  let y = pool(convBn('x', 'stem', true));
  config.blocks.forEach((_, i) => {
    const b = `block${i + 1}`;
    const a = convBn(convBn(y, `${b}.conv_a`, true), `${b}.conv_b`, false);
    const s = convBn(y, `${b}.shortcut`, false);
    y = pool(node('Relu', [node('Add', [a, s])]));
  });
  y = node('Flatten', [node('GlobalAveragePool', [y])], [int('axis', 1)]);
  const denseNames = [...config.dense.map((_, i) => `dense${i + 1}`), 'logits'];
  denseNames.forEach((name, i) => {
    const w = get(`${name}.w`);
    addInit(`${name}.w`, w.shape, w.data);
    addInit(`${name}.b`, [w.shape[1]!], get(`${name}.b`).data);
    y = node('Gemm', [y, `${name}.w`, `${name}.b`]);
    if (i < denseNames.length - 1) y = node('Relu', [y]);
  });
  nodes[nodes.length - 1]!.output = ['logits'];

  const valueInfo = (name: string, dims: (number | string)[]) => ({
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'ser-webgpu bench',
    graph: {
      name: 'ser_cnn',
      node: nodes,
      initializer: init,
      input: [valueInfo('x', ['N', 1, config.inputRows, config.inputFrames])],
      output: [valueInfo('logits', ['N', config.classes])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

// The benchmark's peers compute what we compute: tfjs-webgpu's fused conv2d (bias + ReLU, 'same') on
// the same Dawn instance agrees with our conv2d kernel and with the float64 reference (relative L2
// 1e-5 each, so within 1e-4 of each other); and the ONNX graph that bench/peers/onnx-model.ts encodes
// from our weights gives, in ONNX Runtime (wasm provider), and the tfjs network of bench/peers/tfjs-net.ts
// gives, on tfjs-webgpu, our model's inference-mode logits (relative L2 1e-4).

import { afterAll, describe, expect, it } from 'vitest';
import { conv2d } from '../../src/kernels/conv2d';
import { encodeOnnxModel } from '../../bench/peers/onnx-model';
import { shutdownTfjs, useTfBackend } from '../../bench/peers/tfjs';
import { TfjsNet } from '../../bench/peers/tfjs-net';
import { BATCH, reference } from '../../bench/peers/weights';
import { TOL_F32, expectClose, randn, rng, useGpu } from '../harness';
import { conv2dForward } from '../ref/conv';
import { tensor } from '../ref/tensor';

const gpu = useGpu();
afterAll(() => shutdownTfjs());

const shapes: { x: [number, number, number, number]; k: number; cout: number }[] = [
  { x: [2, 7, 5, 3], k: 3, cout: 5 },
  { x: [1, 10, 9, 8], k: 1, cout: 16 },
  { x: [2, 41, 32, 32], k: 3, cout: 64 },
];

describe('tfjs-webgpu conv2d matches ours and float64', () => {
  shapes.forEach((c, i) => {
    it(`x[${c.x.join(',')}] k${c.k} ->${c.cout}`, async () => {
      const g = gpu();
      const r = rng(500 + i);
      const cin = c.x[3];
      const wShape = [c.k, c.k, cin, c.cout];
      const x = Float32Array.from(randn(c.x.reduce((a, b) => a * b, 1), r));
      const w = Float32Array.from(randn(c.k * c.k * cin * c.cout, r));
      const b = Float32Array.from(randn(c.cout, r));
      const ref = conv2dForward(tensor(c.x, x), tensor(wShape, w), tensor([c.cout], b), { padding: 'same' }).data.map((v) => Math.max(v, 0));
      const ours = await conv2d(g, g.upload(x, c.x), g.upload(w, wShape), { padding: 'same', bias: g.upload(b, [c.cout]), activation: 'relu' }).read();
      const tf = await useTfBackend(g, 'webgpu');
      expect(tf.getBackend()).toBe('webgpu');
      const y = tf.fused.conv2d({ x: tf.tensor4d(x, c.x), filter: tf.tensor4d(w, wShape as [number, number, number, number]), bias: tf.tensor1d(b), pad: 'same', strides: 1, activation: 'relu' });
      const peer = await y.data();
      tf.dispose(y);
      expectClose(ours, ref, TOL_F32, 'ours vs float64');
      expectClose(peer, ref, TOL_F32, 'tfjs-webgpu vs float64');
      expectClose(peer, ours, 1e-4, 'tfjs-webgpu vs ours');
    });
  });
});

describe('peer models give our logits on our weights', () => {
  it('ONNX graph in onnxruntime-web (wasm)', async () => {
    const ref = await reference(gpu());
    const c = ref.config;
    const ort = await import('onnxruntime-web');
    const session = await ort.InferenceSession.create(encodeOnnxModel(c, ref.weights), { executionProviders: ['wasm'] });
    const out = await session.run({ x: new ort.Tensor('float32', ref.input, [BATCH, 1, c.inputRows, c.inputFrames]) });
    expect(out.logits!.dims).toEqual([BATCH, c.classes]);
    expectClose((await out.logits!.getData()) as Float32Array, ref.logits, 1e-4, 'onnxruntime logits');
    await session.release();
  });

  it('tfjs network on tfjs-webgpu', async () => {
    const ref = await reference(gpu());
    const c = ref.config;
    const tf = await useTfBackend(gpu(), 'webgpu');
    const net = new TfjsNet(tf, c, ref.weights);
    const x = tf.tensor4d(ref.input, [BATCH, c.inputRows, c.inputFrames, 1]);
    const logits = net.predict(x);
    expect(logits.shape).toEqual([BATCH, c.classes]);
    expectClose(await logits.data(), ref.logits, 1e-4, 'tfjs-webgpu logits');
    tf.dispose([x, logits]);
    net.dispose();
  });
});

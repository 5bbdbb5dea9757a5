// TensorFlow.js peers: tfjs-backend-webgpu on the same Dawn instance as our runtime (navigator.gpu is
// set to the object `webgpu`'s create() returned, which our Gpu holds for the process lifetime, before
// the backend is loaded) and tfjs-backend-wasm (SIMD; inference only, it has no conv filter gradient).
// Cases: the SER model's training step and inference at batch 32 (tfjs-webgpu: opt-in, ~20 s a step on
// lavapipe, run with --filter tfjs), inference on wasm, and conv2d forward (bias + ReLU fused) of the
// 3x3 layers with 64 and 128 output channels. Every case checks its numbers against ours first (logits,
// conv outputs: relative L2 <= 1e-4; training loss finite) and refuses to time a peer that disagrees.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as TF from '@tensorflow/tfjs-core';
import { createRng } from '../../src/common/random';
import type { Gpu } from '../../src/gpu';
import { conv2d } from '../../src/kernels/conv2d';
import type { BenchCase } from '../harness';
import { TfjsNet } from './tfjs-net';
import { BATCH, checkParity, reference } from './weights';

type Tf = typeof TF;
export type TfBackend = 'webgpu' | 'wasm';

let tfPromise: Promise<Tf> | null = null;

/** Loads tfjs-core with both backends registered; the webgpu one opens its device on `gpu`'s Dawn instance. */
function loadTf(gpu: Gpu): Promise<Tf> {
  tfPromise ??= (async () => {
    const g = globalThis as { navigator?: { gpu?: unknown } };
    if (!g.navigator?.gpu) Object.defineProperty(globalThis, 'navigator', { value: { ...g.navigator, gpu: gpu.instance }, configurable: true, writable: true });
    const tf = await import('@tensorflow/tfjs-core');
    // tfjs-core's node build registers no gradients; the union package's bundle does (for trainStep).
    await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-webgpu');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const pkg = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json');
    wasm.setWasmPaths(`${join(dirname(pkg), 'dist')}/`);
    return tf;
  })();
  return tfPromise;
}

/** tfjs with `backend` active (switching backends moves no data of ours: each case owns its tensors). */
export async function useTfBackend(gpu: Gpu, backend: TfBackend): Promise<Tf> {
  const tf = await loadTf(gpu);
  if (tf.getBackend() !== backend) {
    if (!(await tf.setBackend(backend))) throw new Error(`tfjs: backend '${backend}' failed to initialise`);
    await tf.ready();
  }
  return tf;
}

/** Destroys tfjs-webgpu's device so the process can exit; call once after the last case. */
export async function shutdownTfjs(): Promise<void> {
  if (!tfPromise) return;
  const tf = await tfPromise;
  const backend = tf.engine().registry.webgpu as unknown as { device?: GPUDevice } | undefined;
  tf.engine().reset();
  backend?.device?.destroy();
}

/** Waits for tfjs-webgpu's queued work without reading anything back (as our cases wait on our queue). */
async function webgpuDone(tf: Tf): Promise<void> {
  const be = tf.backend() as unknown as { commandEncoder: GPUCommandEncoder | null; endComputePassEncoder(): void; submitQueue(): void; device: GPUDevice };
  if (be.commandEncoder) {
    be.endComputePassEncoder();
    be.submitQueue();
  }
  await be.device.queue.onSubmittedWorkDone();
}

interface ModelState {
  tf: Tf;
  net: TfjsNet;
  x: TF.Tensor4D;
  labels: TF.Tensor1D;
}

function modelCase(backend: TfBackend, train: boolean): BenchCase {
  const name = train ? 'train step b32' : 'inference b32';
  return {
    group: `tfjs-${backend}`,
    name,
    peer: `tfjs-${backend}`,
    compareTo: `model/${name}`,
    items: { count: BATCH, unit: 'samples' },
    optIn: backend === 'webgpu',
    sampling: train ? { minSamples: 1, maxTime: 1 } : { minSamples: 2, maxTime: 2 },
    setup(gpu) {
      let s: ModelState | null = null;
      let steps = 0;
      return {
        run: async () => {
          if (!s) {
            const ref = await reference(gpu);
            const tf = await useTfBackend(gpu, backend);
            const c = ref.config;
            const net = new TfjsNet(tf, c, ref.weights);
            s = { tf, net, x: tf.tensor4d(ref.input, [BATCH, c.inputRows, c.inputFrames, 1]), labels: tf.tensor1d(ref.labels, 'int32') };
            // Before any update: inference logits on the shared weights must match ours.
            const logits = s.net.predict(s.x);
            const err = checkParity(`tfjs-${backend} logits`, await logits.data(), ref.logits, 1e-4);
            logits.dispose();
            console.log(`  tfjs-${backend} ${name}: logits vs ours relative L2 ${err.toExponential(2)} (backend ${tf.getBackend()})`);
          }
          await useTfBackend(gpu, backend);
          if (train) {
            const loss = s.net.trainStep(s.x, s.labels);
            const v = (await loss.data())[0]!;
            loss.dispose();
            if (!Number.isFinite(v)) throw new Error(`tfjs-${backend} training loss is ${v}`);
            if (++steps === 1) console.log(`  tfjs-${backend} ${name}: first loss ${v.toFixed(4)} (ln K = ${Math.log(s.net.config.classes).toFixed(4)})`);
          } else {
            const logits = s.net.predict(s.x);
            await logits.data();
            logits.dispose();
          }
        },
        dispose: () => {
          if (!s) return;
          s.net.dispose();
          s.x.dispose();
          s.labels.dispose();
        },
      };
    },
  };
}

interface ConvLayer {
  name: string;
  H: number;
  W: number;
  cin: number;
  cout: number;
}

// The 3x3 layers with 64 and 128 output channels, named as in bench/conv2d.ts (our cases they pair with).
const CONV_LAYERS: ConvLayer[] = [
  { name: 'conv3x3 32->64 @41x32', H: 41, W: 32, cin: 32, cout: 64 },
  { name: 'conv3x3 64->64 @41x32', H: 41, W: 32, cin: 64, cout: 64 },
  { name: 'conv3x3 64->128 @20x16', H: 20, W: 16, cin: 64, cout: 128 },
  { name: 'conv3x3 128->128 @20x16', H: 20, W: 16, cin: 128, cout: 128 },
];

function convCase(l: ConvLayer): BenchCase {
  const name = `${l.name} fwd`;
  return {
    group: 'tfjs-webgpu',
    name,
    peer: 'tfjs-webgpu',
    compareTo: `conv2d/${name}`,
    flops: 2 * BATCH * l.H * l.W * l.cout * 9 * l.cin,
    sampling: { minSamples: 3, maxTime: 2 },
    setup(gpu) {
      let s: { tf: Tf; x: TF.Tensor4D; w: TF.Tensor4D; b: TF.Tensor1D } | null = null;
      const run = (tf: Tf) => tf.fused.conv2d({ x: s!.x, filter: s!.w, bias: s!.b, strides: 1, pad: 'same', activation: 'relu' });
      return {
        run: async () => {
          if (!s) {
            const tf = await useTfBackend(gpu, 'webgpu');
            const rng = createRng(l.cin * 1000 + l.cout);
            const rand = (n: number, scale: number) => Float32Array.from({ length: n }, () => rng.normal() * scale);
            const xd = rand(BATCH * l.H * l.W * l.cin, 1);
            const wd = rand(9 * l.cin * l.cout, Math.sqrt(2 / (9 * l.cin)));
            const bd = rand(l.cout, 0.1);
            s = { tf, x: tf.tensor4d(xd, [BATCH, l.H, l.W, l.cin]), w: tf.tensor4d(wd, [3, 3, l.cin, l.cout]), b: tf.tensor1d(bd) };
            // Parity with our kernel on identical inputs.
            const xs = gpu.upload(xd, [BATCH, l.H, l.W, l.cin]);
            const ws = gpu.upload(wd, [3, 3, l.cin, l.cout]);
            const bs = gpu.upload(bd, [l.cout]);
            const ys = conv2d(gpu, xs, ws, { padding: 'same', bias: bs, activation: 'relu' });
            const ours = (await gpu.read(ys)) as Float32Array;
            [xs, ws, bs, ys].forEach((t) => t.dispose());
            const y = run(tf);
            const err = checkParity(`tfjs-webgpu ${name}`, await y.data(), ours, 1e-4);
            y.dispose();
            console.log(`  tfjs-webgpu ${name}: output vs ours relative L2 ${err.toExponential(2)}`);
          }
          await useTfBackend(gpu, 'webgpu');
          const y = run(s.tf);
          y.dispose(); // tfjs frees the buffer only after its queue submit
          await webgpuDone(s.tf);
        },
        dispose: () => {
          if (!s) return;
          s.x.dispose();
          s.w.dispose();
          s.b.dispose();
        },
      };
    },
  };
}

export function tfjsCases(): BenchCase[] {
  return [modelCase('webgpu', true), modelCase('webgpu', false), modelCase('wasm', false), ...CONV_LAYERS.map(convCase)];
}

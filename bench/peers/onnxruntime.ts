// ONNX Runtime Web peers: inference of the SER model at batch 32 from the ONNX graph of onnx-model.ts
// (our weights), with the WebGPU execution provider on the same Dawn instance (navigator.gpu set as for
// tfjs) and, for reference, the wasm (CPU, SIMD) provider. Logits are checked against ours first.
// Node needs one shim: ORT's WebGPU build hands queue.writeBuffer views of its shared wasm memory
// (SharedArrayBuffer), which Dawn's node bindings reject with "Invalid argument"; the shim copies such
// views into a plain buffer before the call (one copy of the 0.7 MB input per run; nothing else changes).

import type * as ORT from 'onnxruntime-web';
import type { Gpu } from '../../src/gpu';
import type { BenchCase } from '../harness';
import { encodeOnnxModel } from './onnx-model';
import { BATCH, checkParity, reference } from './weights';

type Ort = typeof ORT;
type Provider = 'webgpu' | 'wasm';

let ortPromise: Promise<Ort> | null = null;
let shimmed = false;

function shimSharedWriteBuffer(): void {
  if (shimmed) return;
  const Queue = (globalThis as { GPUQueue?: { prototype: GPUQueue } }).GPUQueue;
  if (!Queue) throw new Error('onnxruntime-webgpu: no GPUQueue global (create the runtime with createNodeGpu first)');
  const write = Queue.prototype.writeBuffer;
  Queue.prototype.writeBuffer = function (this: GPUQueue, buffer: GPUBuffer, offset: number, data: unknown, dataOffset?: number, size?: number) {
    let d = data as BufferSource;
    if (ArrayBuffer.isView(d) && d.buffer instanceof SharedArrayBuffer) {
      const View = d.constructor as new (src: ArrayBufferView) => ArrayBufferView<ArrayBuffer>;
      d = new View(d);
    }
    return write.call(this, buffer, offset, d, dataOffset, size);
  } as GPUQueue['writeBuffer'];
  shimmed = true;
}

function loadOrt(gpu: Gpu): Promise<Ort> {
  ortPromise ??= (async () => {
    const g = globalThis as { navigator?: { gpu?: unknown } };
    if (!g.navigator?.gpu) Object.defineProperty(globalThis, 'navigator', { value: { ...g.navigator, gpu: gpu.instance }, configurable: true, writable: true });
    shimSharedWriteBuffer();
    const ort = (await import('onnxruntime-web/webgpu')) as Ort;
    ort.env.logLevel = 'error';
    return ort;
  })();
  return ortPromise;
}

function inferenceCase(provider: Provider): BenchCase {
  return {
    group: `onnxruntime-${provider}`,
    name: 'inference b32',
    peer: `onnxruntime-${provider}`,
    compareTo: 'model/inference b32',
    items: { count: BATCH, unit: 'samples' },
    sampling: { minSamples: 2, maxTime: 2 },
    setup(gpu) {
      let s: { session: ORT.InferenceSession; feeds: Record<string, ORT.Tensor> } | null = null;
      const infer = async () => {
        const out = await s!.session.run(s!.feeds);
        const logits = out.logits!;
        const data = (await logits.getData()) as Float32Array;
        logits.dispose();
        return data;
      };
      return {
        run: async () => {
          if (!s) {
            const ref = await reference(gpu);
            const ort = await loadOrt(gpu);
            const c = ref.config;
            const session = await ort.InferenceSession.create(encodeOnnxModel(c, ref.weights), { executionProviders: [provider] });
            s = { session, feeds: { x: new ort.Tensor('float32', ref.input, [BATCH, 1, c.inputRows, c.inputFrames]) } };
            const err = checkParity(`onnxruntime-${provider} logits`, await infer(), ref.logits, 1e-4);
            const threads = provider === 'wasm' ? `, ${ort.env.wasm.numThreads ?? 'default'} wasm threads` : '';
            console.log(`  onnxruntime-${provider} ${ort.env.versions.web}: logits vs ours relative L2 ${err.toExponential(2)}${threads}`);
          }
          await infer();
        },
        dispose: () => void s?.session.release(),
      };
    },
  };
}

export function onnxruntimeCases(): BenchCase[] {
  return [inferenceCase('webgpu'), inferenceCase('wasm')];
}

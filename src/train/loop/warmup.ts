// Compiling a run's pipelines ahead of use. Kernels bake channel counts and spatial sizes into the WGSL
// (the batch size and counts derived from it are read at run time, kernels/shape-params.ts; a batch size
// still changes the layout of a few: the Winograd GEMM's rows per workgroup, the dense matmul's vec4
// reads), and on a software adapter with a cold shader cache compiling them one at a time on first use
// costs more than the first epoch's work. (On lavapipe the LLVM compile itself happens at a pipeline's
// first dispatch, not at creation: scripts/pipeline-compile-times.ts.) trainingBatchSizes() lists the batch sizes
// an epoch will see (full batches, the last partial one, BN recalibration and validation batches);
// precompileTraining() traces one training step, one recalibration batch and one inference batch of
// each size on a throwaway model of the same config (nothing runs, gpu.precompile) and compiles every
// pipeline they use concurrently, so Dawn's worker threads compile them in parallel before the loop
// starts. The loop's own small kernels (gathers, loss sums) still compile on first use. Browser-safe.

import type { DispatchSpec, Gpu, Tensor } from '../../gpu';
import { dispatchEachOnce } from '../../gpu/compile-ahead';
import { add, mul } from '../../kernels/elementwise';
import { squaredNorms } from '../../kernels/optim';
import { SerModel, type ModelConfig } from '../../nn/model';
import { predictLogits, Trainer } from '../../nn/train-step';

export interface BatchSizes {
  /** Training steps' batch sizes (full, and the last partial one). */
  train: number[];
  /** BN recalibration batches (training-mode forward without gradients). */
  recalibrate: number[];
  /** Inference batches (validation). */
  evaluate: number[];
}

/** The distinct sizes of the chunks of `count` items taken `batch` at a time. */
export function chunkSizes(count: number, batch: number): number[] {
  if (count <= 0) return [];
  const sizes = [Math.min(batch, count)];
  if (count > batch && count % batch !== 0) sizes.push(count % batch);
  return sizes;
}

/**
 * The batch sizes of one epoch: `trainCount` examples per epoch in batches of `batch`, BN recalibration
 * on the first `recalibrate` of them, validation of `evalRows` forward rows (clips x evaluation windows).
 */
export function trainingBatchSizes(trainCount: number, batch: number, recalibrate: number, evalRows: number): BatchSizes {
  return {
    train: chunkSizes(trainCount, batch),
    recalibrate: chunkSizes(Math.min(recalibrate, trainCount), batch),
    evaluate: chunkSizes(evalRows, batch),
  };
}

export interface PrecompileOptions {
  /** AdamW's decay (a different optimiser kernel). */
  weightDecay?: number;
  /** A class-weighted loss (a different loss kernel). */
  classWeights?: boolean;
  /**
   * Also dispatch every traced pipeline once (one workgroup, throwaway buffers) before resolving, so
   * that a driver that compiles at first dispatch (lavapipe: gpu/compile-ahead.ts) compiles now (default
   * false; `ser train` turns it on by SER_COMPILE_AHEAD, train/loop/compile-ahead.node.ts).
   */
  dispatchAhead?: boolean;
  /**
   * More devices on the same adapter that share those dispatches (each traces the same work on a
   * throwaway model of its own and compiles into the shared Mesa cache; only with dispatchAhead). They
   * must have the same kernel choices as `gpu`; the caller creates and destroys them.
   */
  helpers?: readonly Gpu[];
}

export interface Precompiled {
  /** Pipelines created ahead (0 when all were in the runtime's cache already). */
  pipelines: number;
  /** Distinct pipelines dispatched once ahead, and by how many devices (0, 0 without dispatchAhead). */
  dispatched: number;
  devices: number;
  seconds: number;
}

/**
 * A throwaway model and trainer of `config` on `gpu`, and the dispatches of the work an epoch does
 * (Gpu.trace: nothing runs); `dispose` frees the model once the dispatches are no longer needed.
 */
export function traceTraining(gpu: Gpu, config: ModelConfig, sizes: BatchSizes, opts: PrecompileOptions): { dispatches: DispatchSpec[]; dispose: () => void } {
  const model = new SerModel(gpu, config, 0);
  const trainer = new Trainer(model, { learningRate: 1e-3, clipnorm: 1.0, ...(opts.weightDecay ? { weightDecay: opts.weightDecay } : {}) });
  const dispose = () => {
    trainer.dispose();
    model.dispose();
  };
  const weights = [...model.params.values()].map((p) => p.value);
  const input = (b: number): Tensor => gpu.empty([b, config.inputRows, config.inputFrames, 1], 'f32', 'precompile.x');
  try {
    const dispatches = gpu.trace(() =>
      gpu.scope(() => {
        const cw = opts.classWeights ? gpu.empty([config.classes], 'f32', 'precompile.classWeights') : undefined;
        for (const b of sizes.train) {
          const stats = trainer.step(input(b), gpu.empty([b], 'u32', 'precompile.y'), cw);
          const w = mul(gpu, stats, gpu.empty([2], 'f32', 'precompile.weight'));
          add(gpu, w, w);
        }
        squaredNorms(gpu, weights);
        sizes.recalibrate.forEach((b, i) => trainer.refreshBatchNorm(input(b), i / (i + 1)));
        for (const b of sizes.evaluate) predictLogits(model, input(b));
      }),
    );
    return { dispatches, dispose };
  } catch (e) {
    dispose();
    throw e;
  }
}

/**
 * Compile, in parallel, the pipelines that training a model of `config` with these batch sizes will
 * use, and with dispatchAhead run each once (on `gpu` and the helpers) so that their machine code is
 * compiled too; resolves when all is done.
 */
export async function precompileTraining(gpu: Gpu, config: ModelConfig, sizes: BatchSizes, opts: PrecompileOptions = {}): Promise<Precompiled> {
  const t0 = performance.now();
  const devices = [gpu, ...(opts.dispatchAhead ? (opts.helpers ?? []) : [])];
  const traced: { dispatches: DispatchSpec[]; dispose: () => void }[] = [];
  try {
    for (const g of devices) traced.push(traceTraining(g, config, sizes, opts));
    // Creation (Tint, NIR) in parallel on Dawn's worker threads; a helper creates only the pipelines it
    // takes, when it takes them (on a warm Mesa cache there is nothing else for it to do).
    const created = await gpu.pipelines.prepare(traced[0]!.dispatches.filter((d) => !gpu.pipelines.has(d.key)));
    const once = opts.dispatchAhead ? await dispatchEachOnce(traced.map(({ dispatches }, i) => ({ gpu: devices[i]!, dispatches }))) : null;
    return { pipelines: created, dispatched: once?.pipelines ?? 0, devices: once ? once.perDevice.filter((n) => n > 0).length : 0, seconds: (performance.now() - t0) / 1000 };
  } finally {
    traced.forEach((t) => t.dispose());
  }
}

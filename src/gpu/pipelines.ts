// Pipeline cache: one compute pipeline per kernel specialisation. The key must capture everything the
// WGSL source depends on (shapes baked in as constants, flags); the source is generated only on a miss.
// Compilation errors are caught with an error scope and rethrown naming the kernel and the WGSL line.
//
// Two ways in. get() is the synchronous lookup-or-create used by every dispatch: a miss compiles on
// the spot (on lavapipe, tens to hundreds of ms per pipeline with a cold Mesa shader cache, so a first
// run is dominated by it). prepare() compiles a list of kernels ahead of their first use with
// createComputePipelineAsync, all at once, so that Dawn's worker threads compile them in parallel;
// get() then finds them. Every compile is timed (wall time on the calling side: for get() the blocking
// time, for prepare() the batch's elapsed time), so that `ser bench --filter pipelines` and the
// SER_PIPELINE_STATS report can say how many pipelines a job compiled and what they cost.
// PipelineCache.onCompile, when set (node: SER_PIPELINE_LOG, see node.node.ts), sees every pipeline
// created, key and WGSL, so that the distinct pipelines of a whole job (e.g. a test file) can be counted.
// Keys that generate the same WGSL (a kernel whose key names a shape it reads at run time:
// kernels/shape-params.ts) share one pipeline: on a key miss the source is generated and looked up by
// its text before anything is compiled, so only distinct WGSL costs a compile.

import { GpuError } from './errors';

/** A kernel to compile: its cache key and a generator of its WGSL source. */
export interface PipelineSpec {
  key: string;
  code: () => string;
  entryPoint?: string;
}

/** Compile counts and times since the cache was created (or since resetStats). */
export interface PipelineStats {
  /** Pipelines compiled synchronously on first use (get() misses). */
  sync: number;
  syncMs: number;
  /** Pipelines compiled ahead of use by prepare(), and the wall time of those batches. */
  prepared: number;
  preparedMs: number;
  /** Kernel family (the key up to its first ':') -> pipelines compiled, both ways. */
  byFamily: Record<string, number>;
}

/** The kernel family of a pipeline key: the part before the first ':' (e.g. 'conv2d', 'winograd.gemm'). */
export const familyOf = (key: string): string => key.split(':', 1)[0]!;

export class PipelineCache {
  /** Called with the key and WGSL of every pipeline created, by any cache in this process (diagnostics). */
  static onCompile: ((key: string, code: string) => void) | undefined;

  private cache = new Map<string, GPUComputePipeline>();
  private pending = new Map<string, Promise<void>>();
  /** Pipelines by WGSL text and entry point (keys with the same source share one). */
  private byCode = new Map<string, GPUComputePipeline>();
  /** Compiles in flight in prepare(), by WGSL text and entry point. */
  private pendingCode = new Map<string, Promise<void>>();
  private stats: PipelineStats = emptyStats();
  compiled = 0;

  constructor(private readonly device: GPUDevice) {}

  get size(): number {
    return this.cache.size;
  }

  /** The keys of the kernels compiled so far (tests check which variant a kernel took). */
  keys(): string[] {
    return [...this.cache.keys()];
  }

  has(key: string): boolean {
    return this.cache.has(key);
  }

  /** Synchronous lookup-or-create. Compile errors surface through checkCompile in tests and on flush. */
  get(key: string, source: () => string, entryPoint = 'main'): GPUComputePipeline {
    const hit = this.cache.get(key);
    if (hit) return hit;
    const t0 = performance.now();
    const code = source();
    const id = codeId(code, entryPoint);
    const same = this.byCode.get(id);
    if (same) {
      this.cache.set(key, same);
      return same;
    }
    PipelineCache.onCompile?.(key, code);
    const module = this.device.createShaderModule({ code, label: key });
    const pipeline = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint }, label: key });
    this.stats.syncMs += performance.now() - t0;
    this.stats.sync++;
    this.count(key);
    this.cache.set(key, pipeline);
    this.byCode.set(id, pipeline);
    return pipeline;
  }

  /**
   * Compile the kernels of `specs` not compiled yet, concurrently (createComputePipelineAsync), and
   * resolve when all are in the cache. Duplicate keys compile once; a key already being prepared is
   * awaited, not compiled again. A kernel that fails to compile rejects with its key and message.
   */
  async prepare(specs: readonly PipelineSpec[]): Promise<number> {
    const t0 = performance.now();
    const waits: Promise<void>[] = [];
    let started = 0;
    for (const spec of specs) {
      if (this.cache.has(spec.key)) continue;
      const inFlight = this.pending.get(spec.key);
      if (inFlight) {
        waits.push(inFlight);
        continue;
      }
      const entryPoint = spec.entryPoint ?? 'main';
      const code = spec.code();
      const id = codeId(code, entryPoint);
      const same = this.byCode.get(id);
      if (same) {
        this.cache.set(spec.key, same);
        continue;
      }
      const sameInFlight = this.pendingCode.get(id);
      if (sameInFlight) {
        waits.push(sameInFlight.then(() => void this.cache.set(spec.key, this.byCode.get(id)!)));
        continue;
      }
      // The scope takes a bad module's validation error, which would otherwise surface as an
      // uncaptured error at some later, unrelated readback.
      this.device.pushErrorScope('validation');
      PipelineCache.onCompile?.(spec.key, code);
      const module = this.device.createShaderModule({ code, label: spec.key });
      const created = this.device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint }, label: spec.key });
      const scope = this.device.popErrorScope();
      const job = Promise.all([created, scope])
        .then(
          ([pipeline, error]) => {
            if (error) throw new Error(error.message);
            if (!this.cache.has(spec.key)) {
              this.cache.set(spec.key, pipeline);
              this.stats.prepared++;
              this.count(spec.key);
            }
            if (!this.byCode.has(id)) this.byCode.set(id, pipeline);
          },
          (e: unknown) => {
            throw new GpuError(`kernel ${spec.key}: pipeline creation failed: ${e instanceof Error ? e.message : String(e)}`);
          },
        )
        .finally(() => {
          this.pending.delete(spec.key);
          this.pendingCode.delete(id);
        });
      this.pending.set(spec.key, job);
      this.pendingCode.set(id, job);
      waits.push(job);
      started++;
    }
    await Promise.all(waits);
    if (started > 0) this.stats.preparedMs += performance.now() - t0;
    return started;
  }

  /** A copy of the compile counts and times. */
  statistics(): PipelineStats {
    return { ...this.stats, byFamily: { ...this.stats.byFamily } };
  }

  /** Start counting afresh (the cache itself is kept). */
  resetStats(): void {
    this.stats = emptyStats();
  }

  private count(key: string): void {
    this.compiled++;
    const f = familyOf(key);
    this.stats.byFamily[f] = (this.stats.byFamily[f] ?? 0) + 1;
  }

  /** Compile a kernel and report WGSL errors with line numbers (used by tests and when debugging). */
  async check(key: string, code: string, entryPoint = 'main'): Promise<void> {
    const module = this.device.createShaderModule({ code, label: key });
    const info = await module.getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === 'error');
    if (errors.length > 0) {
      const lines = code.split('\n');
      const msg = errors.map((e) => `  line ${e.lineNum}: ${e.message}\n    ${lines[e.lineNum - 1]?.trim() ?? ''}`).join('\n');
      throw new GpuError(`kernel ${key} does not compile:\n${msg}`);
    }
    this.device.pushErrorScope('validation');
    this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint } });
    const err = await this.device.popErrorScope();
    if (err) throw new GpuError(`kernel ${key}: pipeline creation failed: ${err.message}`);
  }
}

/** Identity of a pipeline's source: its WGSL text and entry point. */
const codeId = (code: string, entryPoint: string): string => `${entryPoint}\n${code}`;

function emptyStats(): PipelineStats {
  return { sync: 0, syncMs: 0, prepared: 0, preparedMs: 0, byFamily: {} };
}

/** One line for logs: "N pipelines compiled (S on first use in X s, P ahead in Y s)". */
export function describeStats(s: PipelineStats): string {
  return `${s.sync + s.prepared} pipelines compiled (${s.sync} on first use in ${(s.syncMs / 1000).toFixed(1)} s, ${s.prepared} ahead of use in ${(s.preparedMs / 1000).toFixed(1)} s)`;
}

// Pipeline cache: one compute pipeline per kernel specialisation. The key must capture everything the
// WGSL source depends on (shapes baked in as constants, flags); the source is generated only on a miss.
// Compilation errors are caught with an error scope and rethrown naming the kernel and the WGSL line.

import { GpuError } from './errors';

export class PipelineCache {
  private cache = new Map<string, GPUComputePipeline>();
  compiled = 0;

  constructor(private readonly device: GPUDevice) {}

  get size(): number {
    return this.cache.size;
  }

  /** The keys of the kernels compiled so far (tests check which variant a kernel took). */
  keys(): string[] {
    return [...this.cache.keys()];
  }

  /** Synchronous lookup-or-create. Compile errors surface through checkCompile in tests and on flush. */
  get(key: string, source: () => string, entryPoint = 'main'): GPUComputePipeline {
    const hit = this.cache.get(key);
    if (hit) return hit;
    const code = source();
    const module = this.device.createShaderModule({ code, label: key });
    const pipeline = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint }, label: key });
    this.cache.set(key, pipeline);
    this.compiled++;
    return pipeline;
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

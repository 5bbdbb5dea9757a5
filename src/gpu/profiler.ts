// Per-kernel GPU timing with timestamp queries. When enabled, every dispatch runs in its own compute
// pass whose begin/end timestamps land in a query set; on each submit the used queries are resolved and
// copied to a mappable buffer, and collect() turns them into (kernel name, milliseconds) records.
// Timing changes the recording (one pass per dispatch), so it is opt-in and meant for benchmarks.

import { BufferUsage, MapModeRead } from './usage';

const CAPACITY = 4096; // queries per set: 2048 timed dispatches between submits

export interface KernelTime {
  name: string;
  ms: number;
}

export class Profiler {
  private querySet: GPUQuerySet;
  private names: string[] = [];
  private inflight: Promise<KernelTime[]>[] = [];

  constructor(private readonly device: GPUDevice) {
    this.querySet = device.createQuerySet({ type: 'timestamp', count: CAPACITY });
  }

  /** True when the set is full and the runtime must submit before the next timed dispatch. */
  get full(): boolean {
    return this.names.length * 2 >= CAPACITY;
  }

  /** Timestamp writes for the pass of the next dispatch. */
  next(name: string): GPUComputePassTimestampWrites {
    const i = this.names.length;
    this.names.push(name);
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  /** Record the resolve of this submit's queries; call before encoder.finish(). */
  resolve(encoder: GPUCommandEncoder): (() => void) | null {
    const n = this.names.length;
    if (n === 0) return null;
    const names = this.names;
    this.names = [];
    const bytes = n * 2 * 8;
    const resolveBuf = this.device.createBuffer({ size: bytes, usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC });
    const readBuf = this.device.createBuffer({ size: bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    encoder.resolveQuerySet(this.querySet, 0, n * 2, resolveBuf, 0);
    encoder.copyBufferToBuffer(resolveBuf, 0, readBuf, 0, bytes);
    // Mapping must wait until the submit is made; the runtime calls this right after submitting.
    return () => {
      this.inflight.push(
        readBuf.mapAsync(MapModeRead).then(() => {
          const ts = new BigUint64Array(readBuf.getMappedRange().slice(0));
          readBuf.unmap();
          readBuf.destroy();
          resolveBuf.destroy();
          return names.map((name, i) => ({ name, ms: Number(ts[2 * i + 1] - ts[2 * i]) / 1e6 }));
        }),
      );
    };
  }

  /** All timings recorded since the last call, in dispatch order. */
  async collect(): Promise<KernelTime[]> {
    const all = await Promise.all(this.inflight);
    this.inflight = [];
    return all.flat();
  }

  destroy(): void {
    this.querySet.destroy();
  }
}

/** Sum times per kernel name, sorted by total descending. */
export function summarise(times: KernelTime[]): { name: string; calls: number; totalMs: number }[] {
  const m = new Map<string, { name: string; calls: number; totalMs: number }>();
  for (const t of times) {
    const e = m.get(t.name) ?? { name: t.name, calls: 0, totalMs: 0 };
    e.calls++;
    e.totalMs += t.ms;
    m.set(t.name, e);
  }
  return [...m.values()].sort((a, b) => b.totalMs - a.totalMs);
}

// The GPU runtime's public surface (browser-safe: the node entry point is node.node.ts).
export { Gpu, grid1d, type GpuOptions, type AdapterSummary, type DispatchSpec, type Binding, type SubgroupInfo } from './runtime';
export { Tensor, sizeOf, type DType, type AnyTypedArray } from './tensor';
export { GpuError, ShapeError, DisposedError, LimitError, NoAdapterError, fmtShape } from './errors';
export { summarise, type KernelTime } from './profiler';
export type { PoolStats } from './pool';

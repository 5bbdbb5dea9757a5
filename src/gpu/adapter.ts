// Opening a WebGPU device for the runtime (runtime.ts): the adapter's best limits for the ones our
// kernels may ask for, the optional features (timestamp queries when profiling, subgroups where offered)
// and a summary of what the adapter is. Browser-safe, like the runtime.

import { NoAdapterError } from './errors';

export interface GpuOptions {
  /** Fill every new tensor with NaN bits so that elements a kernel forgets to write show up (tests). */
  poison?: boolean;
  /** Time every dispatch with timestamp queries (see timings()). */
  profile?: boolean;
  /** Ask for a high-performance adapter (default true). */
  powerPreference?: GPUPowerPreference;
  /**
   * Enable the `subgroups` feature where the adapter offers it, for the kernels that share loads
   * across a subgroup (default true; false keeps every kernel on its plain path, for comparison).
   */
  subgroups?: boolean;
  /** Let gather kernels read their input through textures (textures.ts; default true; false for comparison). */
  imageTextures?: boolean;
  /**
   * Treat buffers above this many bytes as beyond the device (maxStorageBufferBindingSize and
   * maxBufferSize lowered to it where the adapter allows more): tests run the paths a large data set
   * takes on a few hundred small clips. WebGPU cannot request a limit below its default (128 MiB), so
   * the runtime applies it (cappedLimits).
   */
  maxBufferBytes?: number;
}

/** Subgroup sizes the device may use, when the `subgroups` feature is enabled. */
export interface SubgroupInfo {
  minSize: number;
  maxSize: number;
}

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  /** What the adapter offers (the device enables only what the runtime asked for). */
  features: string[];
}

// The limits our kernels may ask for; each is raised to the adapter's maximum.
export const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxStorageBuffersPerShaderStage',
  'maxTextureDimension2D',
] as const;

/** `limits` with the two buffer-size limits lowered to `cap` (unchanged without one). */
export function cappedLimits(limits: GPUSupportedLimits, cap: number | undefined): GPUSupportedLimits {
  if (cap === undefined) return limits;
  if (!Number.isInteger(cap) || cap < 256 || cap % 4 !== 0) throw new RangeError(`maxBufferBytes must be a whole number of bytes >= 256 and a multiple of 4, got ${cap}`);
  const lowered: Record<string, number> = {
    maxStorageBufferBindingSize: Math.min(cap, limits.maxStorageBufferBindingSize),
    maxBufferSize: Math.min(cap, limits.maxBufferSize),
  };
  // Read through to the device's own object: its getters check their receiver.
  return new Proxy(limits, { get: (target, key) => (typeof key === 'string' && key in lowered ? lowered[key] : (target as unknown as Record<string | symbol, unknown>)[key]) });
}

/** The device opened on the best adapter of `gpu`, what that adapter is, and its subgroup sizes. */
export async function openDevice(gpu: GPU, options: GpuOptions): Promise<{ device: GPUDevice; summary: AdapterSummary; subgroups: SubgroupInfo | null }> {
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  if (!adapter) {
    throw new NoAdapterError(
      'No WebGPU adapter found. On a machine without a GPU install a software Vulkan driver: run `npm run setup` ' +
        '(Debian 12: mesa-vulkan-drivers from bookworm-backports, plus libvulkan1); in a browser, use one with WebGPU enabled.',
    );
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) requiredLimits[name] = adapter.limits[name];
  const requiredFeatures: GPUFeatureName[] = [];
  if (options.profile && adapter.features.has('timestamp-query')) requiredFeatures.push('timestamp-query');
  const info = adapter.info;
  const sizes = info as { subgroupMinSize?: number; subgroupMaxSize?: number };
  const subgroups: SubgroupInfo | null =
    options.subgroups !== false && adapter.features.has('subgroups') && (sizes.subgroupMinSize ?? 0) > 0
      ? { minSize: sizes.subgroupMinSize!, maxSize: sizes.subgroupMaxSize ?? sizes.subgroupMinSize! }
      : null;
  if (subgroups) requiredFeatures.push('subgroups');
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  const summary: AdapterSummary = {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter: (info as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false,
    features: [...adapter.features].sort(),
  };
  return { device, summary, subgroups };
}

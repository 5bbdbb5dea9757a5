// The tuner's bookkeeping without a GPU: the choice from (fake) timings, the adapter key, the cache
// document's round trip through a file and through a Web Storage area, the path of the cache file, the
// SER_TUNE modes, and which cached choices reach a runtime's table (unknown families and variants are
// dropped, so only the registry's tested variants can ever run).

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Gpu } from '../../src/gpu';
import { chosenVariant } from '../../src/gpu/choices';
import { chooseVariant, median } from '../../src/tune/choose';
import { TUNER_VERSION, adapterKey } from '../../src/tune/key';
import { resolveTuneMode, tuneModeFromEnv } from '../../src/tune/mode.node.ts';
import { modelBatchNorms, modelConvs, modelMatmuls, modelShortcuts } from '../../src/tune/registry';
import { type AdapterRecord, type TuneDocument, emptyDocument, localStore, parseDocument } from '../../src/tune/store';
import { defaultCachePath, fileStore } from '../../src/tune/store.node.ts';
import { applyRecord, useTuning } from '../../src/tune/tuner';

const adapter = { vendor: 'nvidia', architecture: 'ada', device: '0x2684', description: 'NVIDIA GeForce RTX 4090 (Vulkan 555.42)', isFallbackAdapter: false, features: ['subgroups'] };
function fakeGpu(over: { subgroups?: { minSize: number; maxSize: number } | null; imageTextures?: boolean; wgMem?: number; description?: string } = {}): Gpu {
  return {
    adapter: { ...adapter, description: over.description ?? adapter.description },
    subgroups: over.subgroups === undefined ? { minSize: 32, maxSize: 32 } : over.subgroups,
    limits: { maxComputeWorkgroupStorageSize: over.wgMem ?? 32768, maxComputeInvocationsPerWorkgroup: 1024, maxStorageBufferBindingSize: 2 ** 31, maxTextureDimension2D: 16384 },
    options: { imageTextures: over.imageTextures },
  } as unknown as Gpu;
}

const record = (key: string, entries: AdapterRecord['entries']): AdapterRecord => ({ key, adapter, batch: 32, updated: '2026-12-07T00:00:00Z', entries });
const entry = (family: string, shape: string, chosen: string, def: string) => ({ family, shape, chosen, default: def, candidates: [{ variant: def, medianMs: 2, samples: 5 }, { variant: chosen, medianMs: 1, samples: 5 }] });

describe('choosing from timings', () => {
  it('takes the fastest median, keeping the default within the margin and ignoring failed candidates', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(chooseVariant({ winograd4: 10, winograd2: 12, direct: 30 }, 'winograd4')).toBe('winograd4');
    expect(chooseVariant({ winograd4: 10, winograd2: 9.8, direct: 30 }, 'winograd4')).toBe('winograd4'); // 2% faster: noise
    expect(chooseVariant({ winograd4: 10, winograd2: 9.8, direct: 30 }, 'winograd4', 0)).toBe('winograd2');
    expect(chooseVariant({ register: 10, tiled8: 4, tiled16: 3 }, 'register')).toBe('tiled16');
    expect(chooseVariant({ register: 10, tiled8: NaN, tiled16: 11 }, 'register')).toBe('register');
    expect(chooseVariant({ register: NaN, tiled8: 5, tiled16: 4 }, 'register')).toBe('tiled16'); // default failed
    expect(chooseVariant({ register: NaN, tiled8: NaN }, 'register')).toBe('register');
  });
});

describe('the adapter key', () => {
  it('names the adapter, driver, limits, features and tuner version, and changes with each', () => {
    const k = adapterKey(fakeGpu());
    expect(k).toContain('nvidia | ada | 0x2684 | NVIDIA GeForce RTX 4090 (Vulkan 555.42)');
    expect(k).toContain('subgroups=32-32');
    expect(k).toContain(`v${TUNER_VERSION}`);
    const others = [
      fakeGpu({ subgroups: null }),
      fakeGpu({ imageTextures: false }),
      fakeGpu({ wgMem: 16384 }),
      fakeGpu({ description: 'NVIDIA GeForce RTX 4090 (Vulkan 560.1)' }),
    ].map(adapterKey);
    expect(new Set([k, ...others]).size).toBe(5);
    expect(adapterKey(fakeGpu())).toBe(k);
  });
});

describe('the cache document', () => {
  const doc = (): TuneDocument => ({ ...emptyDocument(), adapters: { k1: record('k1', [entry('matmul', '32x256x128 NN', 'tiled16', 'register')]) } });

  it('round-trips through a file, and a missing, broken or foreign file reads as empty', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ser-tune-test-'));
    const path = join(dir, 'sub', 'tuning.json');
    const store = fileStore(path);
    expect(store.load()).toEqual(emptyDocument());
    store.save(doc());
    expect(store.load()).toEqual(doc());
    writeFileSync(path, '{ not json');
    expect(store.load()).toEqual(emptyDocument());
    writeFileSync(path, JSON.stringify({ format: 'something-else', version: 1, adapters: {} }));
    expect(store.load()).toEqual(emptyDocument());
    expect(parseDocument(JSON.stringify({ ...doc(), version: 2 }))).toEqual(emptyDocument());
  });

  it('round-trips through a Web Storage area (browsers)', () => {
    const area = new Map<string, string>();
    const store = localStore({ getItem: (k) => area.get(k) ?? null, setItem: (k, v) => void area.set(k, v) });
    expect(store.load()).toEqual(emptyDocument());
    store.save(doc());
    expect(store.load()).toEqual(doc());
    expect([...area.keys()]).toEqual(['ser-webgpu.tuning']);
  });

  it('lives under $XDG_CACHE_HOME, else ~/.cache, unless SER_TUNE_CACHE names a file', () => {
    expect(defaultCachePath({ XDG_CACHE_HOME: '/c' })).toBe('/c/ser-webgpu/tuning.json');
    expect(defaultCachePath({})).toMatch(/\.cache\/ser-webgpu\/tuning\.json$/);
    expect(defaultCachePath({ XDG_CACHE_HOME: '/c', SER_TUNE_CACHE: '/x/t.json' })).toBe('/x/t.json');
  });
});

describe('modes and applying choices', () => {
  it('reads SER_TUNE, with the explicit mode first and a clear error for other values', () => {
    expect(tuneModeFromEnv({})).toBeUndefined();
    expect(tuneModeFromEnv({ SER_TUNE: 'off' })).toBe('off');
    expect(tuneModeFromEnv({ SER_TUNE: '0' })).toBe('off');
    expect(tuneModeFromEnv({ SER_TUNE: 'on' })).toBe('auto');
    expect(tuneModeFromEnv({ SER_TUNE: 'Cached' })).toBe('cached');
    expect(() => tuneModeFromEnv({ SER_TUNE: 'fast' })).toThrow(/SER_TUNE=fast must be one of off, cached, auto/);
    expect(resolveTuneMode('cached', { SER_TUNE: 'off' })).toBe('cached');
    expect(resolveTuneMode(undefined, {})).toBe('off'); // the library default
  });

  it('installs only known families and variants, and nothing when off', async () => {
    const gpu = fakeGpu();
    const key = adapterKey(gpu);
    const rec = record(key, [
      entry('matmul', '32x256x128 NN', 'tiled16', 'register'),
      entry('conv2d.forward', '41x32x64->64 k3x3 s1x1 p1,1', 'direct', 'winograd4'),
      entry('conv2d.input-grad', '41x32x64->64 k3x3 s1x1 p1,1', 'winograd2', 'winograd4'),
      entry('matmul', '32x128x256 NT', 'untested-kernel', 'register'),
      entry('no-such-family', 'x', 'a', 'b'),
    ]);
    expect(applyRecord(gpu, rec)).toBe(3);
    expect(chosenVariant(gpu, 'matmul', '32x256x128 NN')).toBe('tiled16');
    expect(chosenVariant(gpu, 'conv2d.forward', '41x32x64->64 k3x3 s1x1 p1,1')).toBe('direct');
    expect(chosenVariant(gpu, 'conv2d.input-grad', '41x32x64->64 k3x3 s1x1 p1,1')).toBe('winograd2');
    expect(chosenVariant(gpu, 'matmul', '32x128x256 NT')).toBeUndefined();
    const area = new Map<string, string>();
    const store = localStore({ getItem: (k) => area.get(k) ?? null, setItem: (k, v) => void area.set(k, v) });
    store.save({ ...emptyDocument(), adapters: { [key]: rec } });
    const fresh = fakeGpu();
    expect(await useTuning(fresh, 'off', store)).toBe(0);
    expect(chosenVariant(fresh, 'conv2d.forward', '41x32x64->64 k3x3 s1x1 p1,1')).toBeUndefined();
    expect(await useTuning(fresh, 'cached', store)).toBe(3);
    expect(chosenVariant(fresh, 'conv2d.forward', '41x32x64->64 k3x3 s1x1 p1,1')).toBe('direct');
    const other = fakeGpu({ description: 'another driver' });
    expect(await useTuning(other, 'cached', store)).toBe(0); // another adapter's choices never apply
  });
});

describe('the shapes the model runs', () => {
  it('lists the residual blocks\' 3x3 convs, 1x1 shortcuts and the dense products at the batch', () => {
    expect(modelConvs()).toEqual([
      { H: 41, W: 32, cin: 32, cout: 64 }, { H: 41, W: 32, cin: 64, cout: 64 },
      { H: 20, W: 16, cin: 64, cout: 128 }, { H: 20, W: 16, cin: 128, cout: 128 },
    ]);
    expect(modelMatmuls(32).slice(0, 3)).toEqual([[32, 256, 128, false, false], [32, 128, 256, false, true], [128, 256, 32, true, false]]);
    expect(modelMatmuls(32)).toHaveLength(9);
    expect(modelShortcuts()).toEqual([{ H: 41, W: 32, cin: 32, cout: 64 }, { H: 20, W: 16, cin: 64, cout: 128 }]);
  });

  it('lists the training batch norms\' distinct shapes at the batch: the stem, then each block\'s', () => {
    expect(modelBatchNorms(32)).toEqual([
      { shape: [32, 82, 64, 32], relu: true }, { shape: [32, 41, 32, 64], relu: false }, { shape: [32, 20, 16, 128], relu: false },
    ]);
  });
});

// Where the tuner's choices reach a node runtime: createTunedNodeGpu (src/tune/runtime.node.ts) applies
// the mode — explicit, else SER_TUNE — with the cache file (SER_TUNE_CACHE here: a temporary file),
// while the runtime layer itself (createNodeGpu, src/gpu/) installs nothing whatever SER_TUNE says and
// imports nothing from src/tune (the tuner sits above the runtime, not inside it).

import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../src/gpu';
import { chosenVariant } from '../../src/gpu/choices';
import { createNodeGpu } from '../../src/gpu/node.node.ts';
import { adapterKey } from '../../src/tune/key';
import { createTunedNodeGpu } from '../../src/tune/runtime.node.ts';
import { emptyDocument } from '../../src/tune/store';
import { fileStore } from '../../src/tune/store.node.ts';

const FAMILY = 'conv2d.forward';
const SHAPE = '41x32x64->64 k3x3 s1x1 p1,1';

describe('applying cached choices to a node runtime', () => {
  const saved = { tune: process.env.SER_TUNE, cache: process.env.SER_TUNE_CACHE };
  const made: Gpu[] = [];
  const keep = (g: Gpu) => (made.push(g), g);
  afterAll(() => {
    made.forEach((g) => g.destroy());
    for (const [name, v] of [['SER_TUNE', saved.tune], ['SER_TUNE_CACHE', saved.cache]] as const) {
      if (v === undefined) delete process.env[name];
      else process.env[name] = v;
    }
  });

  it('installs them for cached (explicit or SER_TUNE), not for off, and never from createNodeGpu', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ser-tune-runtime-')), 'tuning.json');
    process.env.SER_TUNE_CACHE = path;
    delete process.env.SER_TUNE;
    const plain = keep(await createNodeGpu());
    const key = adapterKey(plain);
    const entry = { family: FAMILY, shape: SHAPE, candidates: [{ variant: 'winograd4', medianMs: 2, samples: 3 }, { variant: 'direct', medianMs: 1, samples: 3 }], default: 'winograd4', chosen: 'direct' };
    fileStore(path).save({ ...emptyDocument(), adapters: { [key]: { key, adapter: plain.adapter, batch: 32, updated: '2026-12-07T00:00:00Z', entries: [entry] } } });

    expect(chosenVariant(keep(await createTunedNodeGpu({ tune: 'cached' })), FAMILY, SHAPE)).toBe('direct');
    expect(chosenVariant(keep(await createTunedNodeGpu()), FAMILY, SHAPE)).toBeUndefined(); // the library default: off
    process.env.SER_TUNE = 'cached';
    expect(chosenVariant(keep(await createTunedNodeGpu()), FAMILY, SHAPE)).toBe('direct');
    expect(chosenVariant(keep(await createTunedNodeGpu({ tune: 'off' })), FAMILY, SHAPE)).toBeUndefined(); // the caller's mode first
    expect(chosenVariant(keep(await createNodeGpu()), FAMILY, SHAPE)).toBeUndefined();
    process.env.SER_TUNE = 'fast';
    await expect(createTunedNodeGpu()).rejects.toThrow(/SER_TUNE=fast must be one of off, cached, auto/);
    expect(JSON.parse(readFileSync(path, 'utf8')).adapters[key].entries).toHaveLength(1); // cached reads, never writes
  }, 60_000);

  it('the runtime layer (src/gpu) imports nothing from the tuner (src/tune)', () => {
    const dir = fileURLToPath(new URL('../../src/gpu', import.meta.url));
    const upward = readdirSync(dir).filter((f) => /['"]\.\.\/tune\//.test(readFileSync(join(dir, f), 'utf8')));
    expect(upward).toEqual([]);
  });
});

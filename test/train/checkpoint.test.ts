// Checkpoints: round trip; truncated, corrupted, tampered and mismatched files are refused with a
// clear message; the safetensors parser validates offsets and never trusts the header.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectTensors, readCheckpoint, writeCheckpoint } from '../../src/train/model-files/checkpoint.node.ts';
import { CheckpointError, decodeSafetensors, encodeSafetensors, type NamedTensors } from '../../src/train/model-files/safetensors';

function sample(): NamedTensors {
  return new Map([
    ['conv1.w', { shape: [3, 3, 1, 4], data: Float32Array.from({ length: 36 }, (_, i) => i * 0.5 - 3) }],
    ['dense.b', { shape: [5], data: Float32Array.from([1, -2, 3.25, NaN, Infinity]) }],
  ]);
}

describe('safetensors', () => {
  it('round-trips names, shapes and exact bits', () => {
    const { tensors, metadata } = decodeSafetensors(encodeSafetensors(sample(), { note: 'x' }));
    expect(metadata).toEqual({ note: 'x' });
    expect([...tensors.keys()]).toEqual(['conv1.w', 'dense.b']);
    expect(tensors.get('conv1.w')!.shape).toEqual([3, 3, 1, 4]);
    expect(tensors.get('dense.b')!.data).toEqual(sample().get('dense.b')!.data);
  });

  it('refuses truncated files, bad headers and offsets outside the data', () => {
    const bytes = encodeSafetensors(sample());
    expect(() => decodeSafetensors(bytes.subarray(0, 5))).toThrow(/too short/);
    expect(() => decodeSafetensors(bytes.subarray(0, bytes.length - 4))).toThrow(/do not match its size or the file|belong to no tensor/);
    const bad = bytes.slice();
    bad[10] = 0x7b; // break the JSON
    expect(() => decodeSafetensors(bad)).toThrow(CheckpointError);
    const header = JSON.stringify({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 1000] } });
    const evil = new Uint8Array(8 + header.length + 8);
    new DataView(evil.buffer).setBigUint64(0, BigInt(header.length), true);
    evil.set(new TextEncoder().encode(header), 8);
    expect(() => decodeSafetensors(evil)).toThrow(/data_offsets \[0, 1000\]/);
    const f64 = JSON.stringify({ w: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } });
    const e2 = new Uint8Array(8 + f64.length + 8);
    new DataView(e2.buffer).setBigUint64(0, BigInt(f64.length), true);
    e2.set(new TextEncoder().encode(f64), 8);
    expect(() => decodeSafetensors(e2)).toThrow(/only F32/);
  });
});

describe('checkpoints', () => {
  it('round-trip tensors and metadata with a checksum', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ser-ckpt-'));
    await writeCheckpoint(dir, 'model', sample(), { classes: ['a', 'b'] });
    const { tensors, meta } = await readCheckpoint(dir, 'model');
    expect(meta.classes).toEqual(['a', 'b']);
    expect(meta.tensorsSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(tensors.get('conv1.w')!.data).toEqual(sample().get('conv1.w')!.data);
  });

  it('refuse a truncated, a tampered or a missing tensor file and a corrupted JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ser-ckpt-'));
    await writeCheckpoint(dir, 'model', sample(), {});
    const st = join(dir, 'model.safetensors');
    const original = readFileSync(st);
    writeFileSync(st, original.subarray(0, original.length - 10));
    await expect(readCheckpoint(dir, 'model')).rejects.toThrow(/does not match .* recorded in model.json \(truncated, corrupted or modified\)/);
    const tampered = Buffer.from(original);
    tampered[tampered.length - 1] ^= 1;
    writeFileSync(st, tampered);
    await expect(readCheckpoint(dir, 'model')).rejects.toThrow(/SHA-256/);
    writeFileSync(st, original);
    writeFileSync(join(dir, 'model.json'), '{"format": "ser-webgpu/1", "tens');
    await expect(readCheckpoint(dir, 'model')).rejects.toThrow(/not valid JSON/);
    await expect(readCheckpoint(join(dir, 'nowhere'), 'model')).rejects.toThrow(/not a checkpoint \(missing/);
  });

  it('refuse tensors of another model config', () => {
    const want = new Map<string, readonly number[]>([['conv1.w', [3, 3, 1, 8]], ['dense.b', [5]]]);
    expect(() => expectTensors(sample(), want, 'ckpt')).toThrow(/'conv1.w' has shape \[3,3,1,4\], the model needs \[3,3,1,8\]/);
    expect(() => expectTensors(sample(), new Map([['conv1.w', [3, 3, 1, 4]]]), 'ckpt')).toThrow(/unexpected tensor 'dense.b'/);
  });
});

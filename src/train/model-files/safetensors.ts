// The safetensors layout: an 8-byte little-endian header length, a JSON header mapping each tensor name
// to {dtype, shape, data_offsets} (plus an optional "__metadata__" of strings), then the raw
// little-endian data. Only F32 is written or accepted. Parsing validates everything and never
// evaluates code: offsets inside the data, contiguous and non-overlapping, sizes matching shapes.

import type { NamedTensors } from '../../nn/model';

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export type { NamedTensors } from '../../nn/model';

export function encodeSafetensors(tensors: NamedTensors, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const names = [...tensors.keys()].sort();
  for (const name of names) {
    const t = tensors.get(name)!;
    const bytes = t.data.length * 4;
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8); // align the data to 8 bytes
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const name of names) {
    const d = tensors.get(name)!.data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at);
    at += d.byteLength;
  }
  return out;
}

export function decodeSafetensors(bytes: Uint8Array, what = 'weights'): { tensors: NamedTensors; metadata: Record<string, string> } {
  if (bytes.byteLength < 8) throw new CheckpointError(`${what}: file is ${bytes.byteLength} bytes, too short for a safetensors header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n <= 0 || 8 + n > bytes.byteLength) throw new CheckpointError(`${what}: header length ${n} does not fit in a ${bytes.byteLength}-byte file (truncated?)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch {
    throw new CheckpointError(`${what}: the header is not valid JSON (corrupted?)`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw new CheckpointError(`${what}: the header is not a JSON object`);
  const dataStart = 8 + n;
  const dataLen = bytes.byteLength - dataStart;
  const entries: [string, { shape: number[]; begin: number; end: number }][] = [];
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (v && typeof v === 'object' && Object.values(v).every((x) => typeof x === 'string')) metadata = v as Record<string, string>;
      else throw new CheckpointError(`${what}: __metadata__ must map names to strings`);
      continue;
    }
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e?.dtype !== 'F32') throw new CheckpointError(`${what}: tensor '${name}' has dtype ${String(e?.dtype)}, only F32 is supported`);
    const shape = e.shape;
    const offs = e.data_offsets;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw new CheckpointError(`${what}: tensor '${name}' has an invalid shape`);
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isInteger(d) && d >= 0)) throw new CheckpointError(`${what}: tensor '${name}' has invalid data_offsets`);
    const [begin, end] = offs as [number, number];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end - begin !== count * 4 || end > dataLen || begin > end) {
      throw new CheckpointError(`${what}: tensor '${name}' ${JSON.stringify(shape)} has data_offsets [${begin}, ${end}] that do not match its size or the file (truncated?)`);
    }
    entries.push([name, { shape: shape as number[], begin, end }]);
  }
  entries.sort((a, b) => a[1].begin - b[1].begin);
  let expected = 0;
  for (const [name, e] of entries) {
    if (e.begin !== expected) throw new CheckpointError(`${what}: tensor '${name}' overlaps or leaves a gap in the data`);
    expected = e.end;
  }
  if (expected !== dataLen) throw new CheckpointError(`${what}: ${dataLen - expected} bytes of data belong to no tensor`);
  const tensors: NamedTensors = new Map();
  for (const [name, e] of entries) {
    const copy = bytes.slice(dataStart + e.begin, dataStart + e.end);
    tensors.set(name, { shape: e.shape, data: new Float32Array(copy.buffer, copy.byteOffset, (e.end - e.begin) / 4) });
  }
  return { tensors, metadata };
}

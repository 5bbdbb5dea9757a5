// Sums up a SER_PIPELINE_LOG file (src/gpu/node.node.ts; tagged per test file by
// test/pipeline-log-setup.ts): per tag, the distinct pipelines (distinct WGSL, what lavapipe compiles
// on a cold Mesa cache), how many of them no other tag compiles (what the tag alone costs a cold run),
// and the union over all tags. Largest first.
//
//   SER_PIPELINE_LOG=/tmp/pipelines.tsv MESA_SHADER_CACHE_DIR=$(mktemp -d) npm test
//   npx tsx scripts/pipeline-log.ts /tmp/pipelines.tsv [--top 30]

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' } } });
const file = positionals[0];
if (!file) throw new Error('usage: scripts/pipeline-log.ts LOG.tsv [--top N]');
const top = Number(values.top);
if (!Number.isInteger(top) || top < 1) throw new Error(`--top must be a positive integer, got '${values.top}'`);

const byTag = new Map<string, Set<string>>();
const tagsOf = new Map<string, Set<string>>();
for (const line of readFileSync(file, 'utf8').split('\n')) {
  if (!line) continue;
  const [hash, , tag = '-'] = line.split('\t');
  if (!byTag.has(tag)) byTag.set(tag, new Set());
  byTag.get(tag)!.add(hash!);
  if (!tagsOf.has(hash!)) tagsOf.set(hash!, new Set());
  tagsOf.get(hash!)!.add(tag);
}
const rows = [...byTag].map(([tag, hashes]) => ({ tag, distinct: hashes.size, own: [...hashes].filter((h) => tagsOf.get(h)!.size === 1).length }));
rows.sort((a, b) => b.own - a.own || b.distinct - a.distinct);
console.log(`${'tag'.padEnd(48)} ${'distinct'.padStart(8)} ${'own'.padStart(6)}`);
for (const r of rows.slice(0, top)) console.log(`${r.tag.padEnd(48)} ${String(r.distinct).padStart(8)} ${String(r.own).padStart(6)}`);
console.log(`${rows.length} tags; ${tagsOf.size} distinct pipelines in all`);

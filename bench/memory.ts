// Peak memory of one `ser` command: `npx tsx bench/memory.ts evaluate --model DIR --data DIR` runs the
// command (any of bin/ser.mjs's) in this process and prints on exit, to stderr, the GPU buffer pool's
// peak (bytes held in pooled buffers, src/gpu/pool.ts: every tensor; not the short-lived readback
// staging buffers or the texture copies of textures.ts) and the process's peak resident set (on a
// software adapter such as lavapipe the GPU buffers live in it too). Not a timing: run it beside
// nothing else you measure.

import { Gpu } from '../src/gpu/runtime';

let peakGpu = 0;
const destroy = Gpu.prototype.destroy;
// Every command destroys its runtime when done: read the pool's peak just before.
Gpu.prototype.destroy = function (this: Gpu): void {
  peakGpu = Math.max(peakGpu, this.poolStats().peakAllocatedBytes);
  destroy.call(this);
};

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
process.on('exit', () => {
  const rss = process.resourceUsage().maxRSS * 1024;
  console.error(`memory: GPU buffer pool peak ${mib(peakGpu)}, peak RSS ${mib(rss)} (ser ${process.argv.slice(2).join(' ')})`);
});

process.argv = [process.argv[0]!, 'ser', ...process.argv.slice(2)];
await import('../src/cli/main.ts');

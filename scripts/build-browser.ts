// Bundles the browser entry (src/browser.ts -> dist/ser-webgpu.browser.js, an ES module) and the demo
// page's script (web/main.ts -> dist/demo.js) with esbuild. `platform: 'browser'` makes any node-only
// import reachable from them a build error, which is how the browser-safety rule is enforced.
//
//   npx tsx scripts/build-browser.ts          (npm run build:browser)

import { build, type BuildOptions, type Plugin } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/**
 * audio-decode loads one decoder package per format on demand; the browser bundle carries the formats
 * a user is likely to drop on the page, and every other decoder becomes a stub that rejects with a
 * clear message (it would otherwise inline megabytes of WebAssembly, or fail to resolve).
 */
const bundledDecoders = new Set(['wav', 'flac', 'mp3', 'vorbis', 'opus', 'webm', 'aiff', 'mp4', 'aac']);

const decoderStubs: Plugin = {
  name: 'audio-decoder-stubs',
  setup(b) {
    b.onResolve({ filter: /^@audio\/decode-/ }, (args) => {
      const format = args.path.slice('@audio/decode-'.length);
      return bundledDecoders.has(format) ? undefined : { path: format, namespace: 'decoder-stub' };
    });
    b.onLoad({ filter: /.*/, namespace: 'decoder-stub' }, (args) => ({
      contents: `throw new Error('the ${args.path} decoder is not included in the browser build of ser-webgpu');`,
      loader: 'js',
    }));
  },
};

const common: BuildOptions = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  sourcemap: true,
  logLevel: 'warning',
  plugins: [decoderStubs],
};

/** Bundle `entry` (repository-relative) to `outfile` (absolute). */
export async function bundle(entry: string, outfile: string, extra: BuildOptions = {}): Promise<void> {
  await build({ ...common, entryPoints: [join(repoRoot, entry)], outfile, ...extra });
}

export async function buildBrowser(outDir = join(repoRoot, 'dist')): Promise<void> {
  await bundle('src/browser.ts', join(outDir, 'ser-webgpu.browser.js'));
  await bundle('web/main.ts', join(outDir, 'demo.js'));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildBrowser();
  console.log('built dist/ser-webgpu.browser.js and dist/demo.js');
}

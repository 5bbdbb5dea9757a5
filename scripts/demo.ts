// `npm run demo`: builds the browser bundle and the demo page, then serves web/ at /, dist/ at
// /dist/, the repository's models/ folder at /models/ and the fixture clips at /samples/ on
// 127.0.0.1 (PORT, default 8080), and prints the URL. Stop with Ctrl-C.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildBrowser, repoRoot } from './build-browser';
import { startStaticServer } from './static-server';

await buildBrowser();
const mounts: Record<string, string> = {
  '/': join(repoRoot, 'web'),
  '/dist/': join(repoRoot, 'dist'),
  '/samples/': join(repoRoot, 'test/fixtures/librosa/audio'),
};
if (existsSync(join(repoRoot, 'models'))) mounts['/models/'] = join(repoRoot, 'models');
const server = await startStaticServer(mounts, { port: Number(process.env.PORT ?? 8080) });
console.log(`ser-webgpu demo: ${server.url}  (a WebGPU browser; Ctrl-C stops the server)`);
if (!mounts['/models/']) console.log('no models/ folder here: pick model.json + model.safetensors in the page, or train one with `ser train --out models/NAME`');

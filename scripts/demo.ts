// `npm run demo`: builds the browser bundle and the demo page, then serves web/ at /, dist/ at
// /dist/, the repository's models/ folder at /models/ (the page loads models/general/ by default)
// and the fixture clips at /samples/ on 127.0.0.1 (PORT, default 8080), and prints the URL. Ctrl-C stops it.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildBrowser, repoRoot } from './build-browser';
import { startStaticServer } from './static-server';

await buildBrowser();
const mounts: Record<string, string> = {
  '/': join(repoRoot, 'web'),
  '/dist/': join(repoRoot, 'dist'),
  '/samples/': join(repoRoot, 'test/fixtures/librosa/audio'),
  // Mounted even when absent, so a model trained while the server runs is served at once.
  '/models/': join(repoRoot, 'models'),
};
const server = await startStaticServer(mounts, { port: Number(process.env.PORT ?? 8080) });
console.log(`ser-webgpu demo: ${server.url}  (a WebGPU browser; Ctrl-C stops the server)`);
if (!existsSync(join(repoRoot, 'models/general/model.json'))) {
  console.log('no pretrained model at models/general/: the page asks for model files (pick model.json + model.safetensors, or train one with `ser train --out models/NAME` and open ?model=/models/NAME/)');
}

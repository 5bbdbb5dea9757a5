// A minimal static file server for the demo and the browser tests: GET/HEAD only, on 127.0.0.1 (a
// secure context, so WebCrypto and the microphone are allowed), URL prefixes mapped to folders,
// no directory listings, paths confined to their folder. A prefix mapped to a folder serves its
// index.html for the prefix itself.

import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.css': 'text/css',
  '.png': 'image/png',
  '.wav': 'audio/wav',
  '.flac': 'audio/flac',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
};

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/** Serve `mounts` (URL prefix such as '/dist/' -> folder) on host:port (port 0: any free one). */
export function startStaticServer(mounts: Record<string, string>, opts: { port?: number; host?: string } = {}): Promise<StaticServer> {
  const { port = 0, host = '127.0.0.1' } = opts;
  const ordered = Object.entries(mounts).sort((a, b) => b[0].length - a[0].length);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const mount = ordered.find(([prefix]) => path.startsWith(prefix));
    const fail = (code: number, text: string) => res.writeHead(code, { 'content-type': 'text/plain' }).end(text);
    if (req.method !== 'GET' && req.method !== 'HEAD') return fail(405, 'method not allowed');
    if (!mount) return fail(404, 'not found');
    const root = resolve(mount[1]);
    let file = resolve(root, `.${sep}${path.slice(mount[0].length)}`);
    if (file !== root && !file.startsWith(root + sep)) return fail(403, 'forbidden');
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      const size = statSync(file).size;
      res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream', 'content-length': size, 'cache-control': 'no-store' });
      if (req.method === 'HEAD') return res.end();
      createReadStream(file).pipe(res);
    } catch {
      fail(404, 'not found');
    }
  });
  return new Promise((done, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      const actual = typeof address === 'object' && address ? address.port : port;
      done({ url: `http://${host}:${actual}/`, close: () => new Promise((c) => server.close(() => c())) });
    });
  });
}

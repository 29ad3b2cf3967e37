// serve.mjs — a static file server on 127.0.0.1 for the page (`make serve`) and the browser tests.
//
//   node tools/serve.mjs [DIR] [--port N] [--no-isolation]
//
// Serves DIR (default web/dist) with the right MIME types and, unless --no-isolation, the two
// headers that make a page cross-origin isolated (Cross-Origin-Opener-Policy: same-origin,
// Cross-Origin-Embedder-Policy: require-corp) so that it may use SharedArrayBuffer and so the
// multi-threaded engine. Only loopback: nothing on the network can reach it. Prints the URL.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.sialo': 'application/octet-stream',
};

/** Start serving root; resolves to { url, close(), requests } (requests: every path asked for). */
export function serveStatic(root, { port = 0, isolation = true, host = '127.0.0.1' } = {}) {
  root = resolve(root);
  const requests = [];
  const server = createServer(async (req, res) => {
    requests.push(req.url);
    const headers = { 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' };
    if (isolation) {
      headers['cross-origin-opener-policy'] = 'same-origin';
      headers['cross-origin-embedder-policy'] = 'require-corp';
      headers['cross-origin-resource-policy'] = 'same-origin';
    }
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, headers).end();
        return;
      }
      let path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      if (path.endsWith('/')) path += 'index.html';
      const file = resolve(join(root, path));
      if (file !== root && !file.startsWith(root + sep)) throw Object.assign(new Error('outside'), { code: 'ENOENT' });
      if (!(await stat(file)).isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOENT' });
      const body = await readFile(file);
      res.writeHead(200, { ...headers, 'content-type': MIME[extname(file)] || 'application/octet-stream', 'content-length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (e) {
      res.writeHead(e.code === 'ENOENT' || e.code === 'ENOTDIR' ? 404 : 500, { ...headers, 'content-type': 'text/plain' });
      res.end(e.code === 'ENOENT' || e.code === 'ENOTDIR' ? 'not found\n' : 'server error\n');
    }
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      ok({ url: `http://${host}:${server.address().port}/`, requests, close: () => new Promise((done) => server.close(done)) });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  let dir = 'web/dist', port = 8080, isolation = true;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--port') port = Number(args[++i]);
    else if (args[i] === '--no-isolation') isolation = false;
    else if (args[i] === '-h' || args[i] === '--help') {
      console.log('usage: node tools/serve.mjs [DIR] [--port N] [--no-isolation]');
      process.exit(0);
    } else dir = args[i];
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`serve: --port must be a number from 0 to 65535`);
    process.exit(2);
  }
  try {
    if (!(await stat(dir)).isDirectory()) throw new Error();
  } catch {
    console.error(`serve: ${dir} is not a folder (run \`make web\` first)`);
    process.exit(1);
  }
  try {
    const s = await serveStatic(dir, { port, isolation });
    console.log(`sialoscan page: ${s.url}  (serving ${dir}${isolation ? ', cross-origin isolated: threads available' : ''}; Ctrl-C stops)`);
  } catch (e) {
    console.error(`serve: cannot listen on 127.0.0.1:${port}: ${e.code === 'EADDRINUSE' ? 'the port is in use (try --port 0)' : e.message}`);
    process.exit(1);
  }
}

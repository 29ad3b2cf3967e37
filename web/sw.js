// sw.js — the page's service worker, registered only when the page is served over http(s) (never
// opened from disk): it keeps the page's folder in the browser so that a served page, once visited,
// keeps working with no network and can be installed as an app.
//
// tools/make-web.mjs writes web/dist/sw.js as this file after one line,
//   const SIALOSCAN_OFFLINE = { version, id, files: { name: sha256-hex, ... } };
// naming every file it wrote into the folder with its content hash: a new build is a new sw.js,
// so the browser installs it beside the old one, into a cache of its own.
//
// install   fetches every listed file from the server (past the HTTP cache), checks its SHA-256
//           against the build's, and keeps it in the cache of this build; a file that differs (the
//           server changed meanwhile) fails the install: the old version stays whole
// activate  deletes the caches of older builds (this folder's only), takes control of the page
// fetch     answers GET requests for the listed files of this folder from the cache; everything
//           else (another file, another origin, any other method) is not touched: the browser
//           does what it would do without a service worker. Frames are never fetched: the page
//           reads them from the File objects the user gave it.
// message   { type: 'build' } -> { version, id } (on the message's port);
//           { type: 'take-over' }: a waiting new version becomes the active one (the page asks
//           when it has nothing that a reload would lose)
'use strict';
/* global SIALOSCAN_OFFLINE */
const BUILD = SIALOSCAN_OFFLINE;
const SCOPE = new URL(self.registration.scope).pathname; // this folder: '/...' ending in '/'
const PREFIX = `sialoscan-page ${SCOPE} `;
const CACHE = `${PREFIX}${BUILD.version} ${BUILD.id}`;

function hexOf(buf) {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function keep(cache, name, hash) {
  const r = await fetch(new Request(name, { cache: 'reload' }));
  if (!r.ok) throw new Error(`${name}: the server answered ${r.status}`);
  const got = hexOf(await crypto.subtle.digest('SHA-256', await r.clone().arrayBuffer()));
  if (got !== hash) throw new Error(`${name} on the server is not the file of build ${BUILD.id} (another version?)`);
  await cache.put(name, r);
}

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    await caches.delete(CACHE); // a half-filled cache of an install that failed before
    const cache = await caches.open(CACHE);
    const names = Object.keys(BUILD.files);
    // a few at a time: the folder holds some large files
    for (let i = 0; i < names.length; i += 4) await Promise.all(names.slice(i, i + 4).map((n) => keep(cache, n, BUILD.files[n])));
    // the very first version takes over at once; a later one waits until the page asks ('take-over')
    if (!self.registration.active) await self.skipWaiting();
  })().catch(async (e) => {
    await caches.delete(CACHE);
    throw e;
  }));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  const m = event.data || {};
  if (m.type === 'build') event.ports[0]?.postMessage({ version: BUILD.version, id: BUILD.id });
  else if (m.type === 'take-over') self.skipWaiting();
});

// the listed file a request names, or null (not one of ours: left alone)
function listed(request) {
  if (request.method !== 'GET') return null;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || !url.pathname.startsWith(SCOPE)) return null;
  const name = decodeURIComponent(url.pathname.slice(SCOPE.length)) || 'index.html';
  if (!Object.hasOwn(BUILD.files, name)) return null;
  if (url.search && request.mode !== 'navigate') return null; // the page itself may carry ?workers=N
  return name;
}

self.addEventListener('fetch', (event) => {
  const name = listed(event.request);
  if (!name) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    const hit = await cache.match(name);
    return hit || fetch(event.request); // not kept (storage cleared under us): the network, as without us
  })());
});

// offline.js — the served page keeps working offline and can be installed: links the web app
// manifest and registers the folder's service worker (sw.js) when the page is served over http(s)
// — never opened from disk, where nothing changes —
// and handles a new version: the page says "Updated to <version>" once it runs it. And the check
// that the page, its engine and its model are of one build (a stale cache must never mix two).
//
// A new version (a new sw.js on the server) installs beside the running one and waits. The page
// lets it take over at once when it holds nothing a reload would lose (no frame given, no training
// run going), then reloads into it; otherwise it says that a new version is ready and the next
// reload of the page takes it.

const served = location.protocol === 'http:' || location.protocol === 'https:';
const UPDATED = 'sialoscan:updated-from'; // sessionStorage: the build this tab ran before its reload into a new one

/** The sentence for files of two builds, or null: page is this page's build id, parts names the
 * build each other file says it is of ({ engine: id, worker: id }); a part that says nothing is a
 * file of before build ids (another build too). */
export function mixedBuilds(page, parts) {
  if (!page) return null;
  const other = Object.entries(parts).filter(([, id]) => id !== page);
  if (!other.length) return null;
  const what = other.map(([k, id]) => `its ${k} ${id ? `is of build ${id}` : 'is of an unknown build'}`).join(', ');
  return `This page's files are of two different versions (the page is build ${page}, ${what}), so it does not run: ` +
    (served ? 'reload the page; if this stays, clear this site\'s data in the browser\'s settings and reload.'
      : 'copy the whole folder of one build again.');
}

/** Ask a service worker which build it serves: resolves to { version, id } or null. */
function askBuild(sw) {
  return new Promise((ok) => {
    if (!sw) { ok(null); return; }
    const ch = new MessageChannel();
    const t = setTimeout(() => ok(null), 3000);
    ch.port1.onmessage = (ev) => { clearTimeout(t); ok(ev.data); };
    sw.postMessage({ type: 'build' }, [ch.port2]);
  });
}

/** Served over http(s): register sw.js and follow its updates. build: { id, version };
 * say(text, isError): the page's status line for this; busy(): whether a reload would lose
 * something (frames on the page, a training run). */
export function setupOffline(build, say, busy) {
  if (!served) return;
  const link = document.createElement('link'); // installable: the manifest (never from disk: see index.html)
  link.rel = 'manifest';
  link.href = 'manifest.webmanifest';
  document.head.appendChild(link);
  if (!('serviceWorker' in navigator) || !build.id) return;
  const before = sessionStorage.getItem(UPDATED);
  if (before !== null) {
    sessionStorage.removeItem(UPDATED);
    if (before !== build.id) say(`Updated to ${build.version} (build ${build.id}).`);
  }
  const sw = navigator.serviceWorker;
  let reloading = false;
  const takeOver = (waiting) => {
    if (busy()) {
      say(`A new version of this page is ready: reload the page to use it (the results shown here would be lost: export them first).`);
      return;
    }
    waiting.postMessage({ type: 'take-over' });
  };
  sw.addEventListener('controllerchange', async () => {
    const now = await askBuild(sw.controller);
    if (!now || now.id === build.id || reloading) return; // the first install taking control: the same build
    if (busy()) {
      say(`Updated to ${now.version}: reload the page to use it (the results shown here would be lost: export them first).`);
      return;
    }
    reloading = true;
    sessionStorage.setItem(UPDATED, build.id);
    location.reload();
  });
  sw.register('sw.js', { updateViaCache: 'none' }).then((reg) => {
    if (!reg) return; // (a browser that blocks service workers)
    const consider = (w) => { if (w && sw.controller) takeOver(w); }; // (no controller: the first install, it takes over itself)
    consider(reg.waiting);
    reg.addEventListener('updatefound', () => {
      const w = reg.installing;
      w?.addEventListener('statechange', () => { if (w.state === 'installed') consider(w); });
    });
  }, (e) => say(`This page cannot be kept for offline use in this browser (${e.message}); it works as long as its server answers.`));
}

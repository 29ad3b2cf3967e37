// train-store.js — the training run kept in the browser's own storage (IndexedDB: it works for a
// page opened from disk too), so that a reload, a closed tab or a crash loses at most one epoch:
// the last checkpoint with the data set's description (folder name, frame count), the run's
// options, the starting point (a backbone file chosen by the clinician is kept with it) and the
// curves drawn so far. One run is kept; "Forget" deletes it. Nothing here leaves the computer.

const DB_NAME = 'sialoscan-training';
const STORE = 'runs';
const KEY = 'last';

let opening = null;
function db() {
  if (!globalThis.indexedDB) return Promise.reject(new Error('this browser keeps no data for the page (no IndexedDB)'));
  opening ||= new Promise((ok, fail) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => ok(req.result);
    req.onerror = () => { opening = null; fail(req.error); };
    req.onblocked = () => { opening = null; fail(new Error('the browser\'s storage is in use by another tab of this page')); };
  });
  return opening;
}

function tx(mode, fn) {
  return db().then((d) => new Promise((ok, fail) => {
    const t = d.transaction(STORE, mode);
    const req = fn(t.objectStore(STORE));
    t.oncomplete = () => ok(req.result);
    t.onabort = t.onerror = () => fail(t.error || req.error || new Error('the browser refused to store the checkpoint'));
  }));
}

/** The kept run, or null. */
export const loadRun = () => tx('readonly', (s) => s.get(KEY)).then((r) => r || null);
/** Keep record (replaces the one kept). Rejects with a DOMException named QuotaExceededError when the storage is full. */
export const saveRun = (record) => tx('readwrite', (s) => s.put(record, KEY));
/** Delete the kept run. */
export const forgetRun = () => tx('readwrite', (s) => s.delete(KEY));

/** { usage, quota } in bytes (navigator.storage.estimate), or null where the browser has none. */
export async function storageEstimate() {
  try {
    if (!navigator.storage?.estimate) return null;
    const { usage, quota } = await navigator.storage.estimate();
    return Number.isFinite(usage) && Number.isFinite(quota) ? { usage, quota } : null;
  } catch {
    return null;
  }
}

/** Is e the browser saying its storage is full? */
export const isQuotaError = (e) => !!e && (e.name === 'QuotaExceededError' || e.code === 22 || /quota/i.test(String(e.message)));

/** Writes checkpoints one at a time, always the newest: a checkpoint that arrives while one is
 * being written waits, and a newer one replaces it (only the last matters). put(record) returns
 * at once; flush() resolves when the newest has been written (or has failed: onError(e) saw it). */
export function checkpointWriter(onSaved, onError) {
  let next = null, writing = null;
  const pump = async () => {
    while (next) {
      const record = next;
      next = null;
      try {
        await saveRun(record);
        onSaved(record);
      } catch (e) {
        onError(e, record);
      }
    }
    writing = null;
  };
  return {
    put(record) {
      next = record;
      writing ||= pump();
    },
    flush: () => writing || Promise.resolve(),
  };
}

// intake.js — how frames get into the page: drag and drop (files or whole folders), the file
// picker (also from the keyboard: the drop zone is focusable, Enter or Space opens the picker), and
// paste from the clipboard. Hands a list of File objects to onFiles; reads nothing itself.

// every file under a dropped folder (FileSystemEntry API) with its path from the drop
// ("folder/sub/a.png"); hidden files (.DS_Store, ...) skipped
async function filesOfEntry(entry, out, path = entry.name) {
  if (entry.isFile) {
    if (entry.name.startsWith('.')) return;
    const file = await new Promise((ok, fail) => entry.file(ok, fail));
    file.sialoFromFolder = path.includes('/'); // (a file of a dropped folder: one without an image extension may be DICOM, or nothing)
    out.push({ file, path });
    return;
  }
  if (!entry.isDirectory) return;
  const reader = entry.createReader();
  for (;;) {
    const batch = await new Promise((ok, fail) => reader.readEntries(ok, fail));
    if (!batch.length) break;
    for (const e of batch) await filesOfEntry(e, out, `${path}/${e.name}`);
  }
}

/** Every file of a drop (files, and the files under dropped folders) with its path from the
 * drop: [{ file, path }]. */
export async function droppedTree(dt) {
  const entries = [];
  for (const item of dt.items || []) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
    entries.push(entry || item.getAsFile());
  }
  const named = (f) => ({ file: f, path: f.webkitRelativePath || f.name });
  if (!entries.length) return Array.from(dt.files || [], named);
  const out = [];
  for (const e of entries) {
    if (e instanceof File) out.push(named(e));
    else if (e) await filesOfEntry(e, out).catch(() => {});
  }
  return out;
}

const droppedFiles = async (dt) => (await droppedTree(dt)).map((x) => x.file);

let pasted = 0;
const sortByName = (files) => files.sort((a, b) => (a.webkitRelativePath || a.name).localeCompare(b.webkitRelativePath || b.name, undefined, { numeric: true }));

/** zone: the drop zone element (holds input[type=file]); onFiles(File[]) gets every batch. */
export function setupIntake(zone, input, onFiles) {
  zone.addEventListener('click', (ev) => {
    if (ev.target !== input) input.click();
  });
  zone.addEventListener('keydown', (ev) => {
    if (ev.target === zone && (ev.key === 'Enter' || ev.key === ' ')) {
      ev.preventDefault();
      input.click();
    }
  });
  input.addEventListener('change', () => {
    const files = Array.from(input.files || []);
    input.value = ''; // the same file may be chosen again
    if (files.length) onFiles(sortByName(files));
  });
  const over = (on) => (ev) => {
    ev.preventDefault();
    zone.classList.toggle('dragging', on);
  };
  zone.addEventListener('dragenter', over(true));
  zone.addEventListener('dragover', over(true));
  zone.addEventListener('dragleave', over(false));
  zone.addEventListener('drop', async (ev) => {
    ev.preventDefault();
    zone.classList.remove('dragging');
    const files = await droppedFiles(ev.dataTransfer);
    if (files.length) onFiles(sortByName(files));
  });
  // a drop that misses the zone must not make the browser navigate away to the file
  window.addEventListener('dragover', (ev) => ev.preventDefault());
  window.addEventListener('drop', (ev) => ev.preventDefault());
  document.addEventListener('paste', (ev) => {
    const files = [];
    for (const item of ev.clipboardData?.items || []) {
      const f = item.kind === 'file' ? item.getAsFile() : null;
      if (!f) continue;
      const ext = (f.type.split('/')[1] || 'png').replace('jpeg', 'jpg');
      files.push(f.name && f.name !== 'image.png' ? f : new File([f], `pasted-${++pasted}.${ext}`, { type: f.type }));
    }
    if (files.length) {
      ev.preventDefault();
      onFiles(files);
    }
  });
}

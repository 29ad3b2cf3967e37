// results-table.js — the batch's results as a sortable table, and its CSV export
// (file, p_malignant, label, threshold, model_checksum, ood_checked, ood_score, ood_flag, box, p_box;
// box = "x y w h" in frame pixels of the lesion box drawn on the row's frame, p_box its p; unreadable
// files: label "unreadable"; a cine loop: its most suspicious frame). A frame the out-of-distribution
// check flags keeps its p, and its label says it is not meaningful: it is never counted as benign.
// A file name that a spreadsheet would run as a formula (=, +, -, @ first) is prefixed with ' (OWASP).

/** The table's label of a result: a flagged frame's label says the probability is not meaningful. */
export function shownLabel(r) {
  return r.ood && r.ood.flag ? `${r.label} — not meaningful (not like the training frames)` : r.label;
}

/** CSV text of rows [{ file, pMalignant, label, threshold, checksum, error, ood }] (RFC 4180 quoting). */
export function resultsCsv(rows) {
  const q = (v) => {
    const s = v === undefined || v === null ? '' : String(v);
    const t = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
    return /[",\r\n']/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
  };
  const lines = ['file,p_malignant,label,threshold,model_checksum,ood_checked,ood_score,ood_flag,box,p_box'];
  const box = (r) => (r.box ? [`${r.box.x} ${r.box.y} ${r.box.w} ${r.box.h}`, r.pBox] : ['', '']);
  // ood: checked true|false (false: the model file carries no statistics), score, flag true|false ('' when not checked)
  const ood = (o) => (o && o.checked ? ['true', o.score, o.flag ? 'true' : 'false'] : ['false', '', '']);
  for (const r of rows) {
    lines.push(r.error
      ? [q(r.file), '', 'unreadable', '', q(r.checksum), '', '', '', '', ''].join(',')
      : [q(r.file), r.pMalignant, q(r.label), r.threshold, q(r.checksum), ...ood(r.ood), ...box(r)].join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

const COLUMNS = [
  { key: 'index', title: '#', num: true },
  { key: 'file', title: 'File' },
  { key: 'pMalignant', title: 'p(malignant)', num: true },
  { key: 'label', title: 'Label' },
  { key: 'oodScore', title: 'Like the training frames?', num: true },
  { key: 'ms', title: 'Time (ms)', num: true },
];

/** table: a <table> element (with a <caption>); returns { add(row), clear(), rows() }. */
export function setupResultsTable(table) {
  let rows = [];
  let sortKey = 'index', sortDir = 1;
  const thead = table.createTHead();
  const tbody = table.createTBody();
  const headRow = thead.insertRow();
  const buttons = new Map();
  for (const c of COLUMNS) {
    const th = document.createElement('th');
    th.scope = 'col';
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'sort';
    b.textContent = c.title;
    b.addEventListener('click', () => {
      sortDir = sortKey === c.key ? -sortDir : c.key === 'pMalignant' ? -1 : 1;
      sortKey = c.key;
      render();
    });
    th.append(b);
    headRow.append(th);
    buttons.set(c.key, th);
  }

  function render() {
    for (const [k, th] of buttons) th.setAttribute('aria-sort', k === sortKey ? (sortDir > 0 ? 'ascending' : 'descending') : 'none');
    const col = COLUMNS.find((c) => c.key === sortKey);
    // unreadable files have no probability, label or time: they sort below every number
    const val = (r) => (r.error && (sortKey === 'pMalignant' || sortKey === 'ms' || sortKey === 'label') ? (col.num ? -Infinity : '') : r[sortKey]);
    const sorted = rows.slice().sort((a, b) => {
      const x = val(a), y = val(b);
      const d = col.num ? (x === y ? 0 : x < y ? -1 : 1) : String(x).localeCompare(String(y), undefined, { numeric: true });
      return d * sortDir || a.index - b.index;
    });
    tbody.replaceChildren(...sorted.map((r) => {
      const tr = document.createElement('tr');
      if (r.error) tr.className = 'error';
      else tr.className = r.ood && r.ood.flag ? 'ood' : r.label === 'malignant' ? 'malignant' : 'benign';
      const like = r.error ? '' : !r.ood || !r.ood.checked ? 'not checked' : r.ood.flag ? `no (score ${r.ood.score.toFixed(2)})` : `yes (${r.ood.score.toFixed(2)})`;
      const cells = [r.index, r.shown || r.file, r.error ? '—' : r.pMalignant.toFixed(4), r.error ? `unreadable: ${r.error}` : shownLabel(r), like,
        r.error ? '' : Math.round(r.ms)];
      for (const v of cells) tr.insertCell().textContent = String(v);
      return tr;
    }));
    table.hidden = rows.length === 0;
  }

  render();
  return {
    add(row) {
      // sorted by the check's score; not checked (or unreadable) below every score
      const stored = { ...row, index: rows.length + 1, oodScore: row.ood && row.ood.checked ? row.ood.score : -Infinity };
      rows.push(stored);
      render();
      return stored; // the caller may add a lesion box's figures to it (box, pBox)
    },
    clear() {
      rows = [];
      render();
    },
    rows: () => rows.slice(),
  };
}

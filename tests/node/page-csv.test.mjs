// page-csv.test.mjs — the page's CSV export (web/results-table.js) read back by an independent
// RFC 4180 parser: quoting of commas, quotes and line breaks in file names, formula neutralising,
// unreadable files, and the exact header.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resultsCsv } from '../../web/results-table.js';

// a plain RFC 4180 reader (quoted fields, doubled quotes, CRLF records)
function parseCsv(text) {
  const rows = [];
  let row = [], field = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i++; }
    else field += c;
  }
  assert.equal(field + row.join(''), '', 'the text ends with CRLF');
  return rows;
}

test('resultsCsv round-trips through an RFC 4180 parser', () => {
  const rows = [
    { file: 'a.png', pMalignant: 0.8312345678, label: 'malignant', threshold: 0.398069, checksum: '0ab0f439' },
    { file: 'scan, "left" side\nsecond line.png', pMalignant: 0.01, label: 'benign', threshold: 0.398069, checksum: '0ab0f439' },
    { file: '=HYPERLINK("x").png', pMalignant: 0.5, label: 'malignant', threshold: 0.398069, checksum: '0ab0f439' },
    { file: 'broken.png', error: 'cannot read the image: not a PNG, JPEG, BMP or GIF file', checksum: '0ab0f439' },
    { file: 'dog.jpg', pMalignant: 0.37605, label: 'malignant', threshold: 0.336375, checksum: '0ab0f439',
      ood: { checked: true, score: 11.0391, flag: true, threshold: 2.6724 } },
    { file: 'frame.png', pMalignant: 0.006, label: 'benign', threshold: 0.336375, checksum: '0ab0f439',
      ood: { checked: true, score: 0.62, flag: false, threshold: 2.6724 } },
    { file: 'boxed.png', pMalignant: 0.2, label: 'benign', threshold: 0.336375, checksum: '0ab0f439',
      ood: { checked: true, score: 0.9, flag: false, threshold: 2.6724 }, box: { x: 10, y: 20, w: 30, h: 40 }, pBox: 0.71 },
  ];
  const got = parseCsv(resultsCsv(rows));
  assert.deepEqual(got[0], ['file', 'p_malignant', 'label', 'threshold', 'model_checksum', 'ood_checked', 'ood_score', 'ood_flag', 'box', 'p_box']);
  // a result without the check (an older model file): ood_checked false, never an empty "in distribution"
  assert.deepEqual(got[1], ['a.png', '0.8312345678', 'malignant', '0.398069', '0ab0f439', 'false', '', '', '', '']);
  assert.deepEqual(got[2], ['scan, "left" side\nsecond line.png', '0.01', 'benign', '0.398069', '0ab0f439', 'false', '', '', '', '']);
  assert.deepEqual(got[3], ['\'=HYPERLINK("x").png', '0.5', 'malignant', '0.398069', '0ab0f439', 'false', '', '', '', '']);
  assert.deepEqual(got[4], ['broken.png', '', 'unreadable', '', '0ab0f439', '', '', '', '', '']);
  // a flagged frame keeps its p and says it is flagged
  assert.deepEqual(got[5], ['dog.jpg', '0.37605', 'malignant', '0.336375', '0ab0f439', 'true', '11.0391', 'true', '', '']);
  assert.deepEqual(got[6], ['frame.png', '0.006', 'benign', '0.336375', '0ab0f439', 'true', '0.62', 'false', '', '']);
  // a lesion box drawn on the row's frame: "x y w h" and its p
  assert.deepEqual(got[7], ['boxed.png', '0.2', 'benign', '0.336375', '0ab0f439', 'true', '0.9', 'false', '10 20 30 40', '0.71']);
  assert.equal(got.length, 8);
});

// eval --csv / --report: the per-image CSV and the self-contained HTML report (ROC as inline SVG,
// confusion matrix, misclassified frames as thumbnails), and the AUC interval in the JSON.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, copyFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = 'build/sialoscan';
const run = (args) => spawnSync(BIN, args, { encoding: 'utf8' });

test('eval writes a CSV and an HTML report', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sialo-report-'));
  try {
    const model = join(dir, 'm.sialo');
    assert.equal(run(['init', '--arch', 'smallcnn', '--input', '64', '--seed', '5', model]).status, 0);
    const data = join(dir, 'data');
    const fixtures = ['baseline.jpg', 'grey.jpg', 'progressive.jpg', 'two-frames.gif'];
    for (const cls of ['benign', 'malignant']) {
      mkdirSync(join(data, cls), { recursive: true });
      fixtures.forEach((f, i) => copyFileSync(join('tests/fixtures', f), join(data, cls, `${cls}-${i}${f.slice(f.lastIndexOf('.'))}`)));
    }
    const csv = join(dir, 'p.csv'), html = join(dir, 'r.html');
    const r = run(['eval', '--model', model, '--csv', csv, '--report', html, data]);
    assert.equal(r.status, 0, r.stderr);
    const last = JSON.parse(r.stdout.trim().split('\n').pop());
    assert.equal(last.n, 8);
    assert.ok(last.auc_ci95 === null || (Array.isArray(last.auc_ci95) && last.auc_ci95[0] <= last.auc && last.auc <= last.auc_ci95[1]));
    const rows = readFileSync(csv, 'utf8').trim().split('\n');
    assert.equal(rows[0], 'file,label,p_malignant,predicted,ood_score,ood_flag');
    assert.equal(rows.length, 9);
    // the out-of-distribution check: per frame in the CSV, counted in the JSON (a model without the
    // statistics: not checked, empty columns)
    const flags = rows.slice(1).map((row) => row.split(',').slice(-2));
    if (last.ood.checked) {
      assert.equal(last.ood.flagged, flags.filter(([, f]) => f === 'true').length);
      for (const [sc, f] of flags) { assert.ok(Number(sc) >= 0); assert.equal(f === 'true', Number(sc) > last.ood.threshold); }
    } else {
      assert.deepEqual(last.ood, { checked: false });
      for (const f of flags) assert.deepEqual(f, ['', '']);
    }
    for (const row of rows.slice(1)) {
      const [, label, p, pred] = row.split(',');
      assert.ok(label === 'benign' || label === 'malignant');
      assert.ok(Number(p) >= 0 && Number(p) <= 1);
      assert.equal(pred, Number(p) >= last.threshold ? 'malignant' : 'benign');
    }
    const page = readFileSync(html, 'utf8');
    assert.match(page, /<svg[^>]*aria-label="ROC curve"/);
    assert.match(page, /<polyline/);
    assert.match(page, new RegExp(`${last.tp} \\(TP\\)`));
    assert.match(page, new RegExp(`${last.fn} \\(FN\\)`));
    const mis = last.fp + last.fn;
    assert.match(page, new RegExp(`Misclassified frames \\(${mis}\\)`));
    assert.equal((page.match(/data:image\/png;base64,/g) || []).length, mis, 'one thumbnail per misclassified frame');
    assert.doesNotMatch(page, /<script|https?:\/\//, 'self-contained, no scripts, nothing fetched');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('eval refuses an unwritable report path with a message', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sialo-report-'));
  try {
    const model = join(dir, 'm.sialo');
    run(['init', '--arch', 'smallcnn', '--input', '64', '--seed', '5', model]);
    for (const cls of ['benign', 'malignant']) {
      mkdirSync(join(dir, 'd', cls), { recursive: true });
      copyFileSync('tests/fixtures/baseline.jpg', join(dir, 'd', cls, 'a.jpg'));
    }
    const r = run(['eval', '--model', model, '--report', join(dir, 'no/such/dir/r.html'), join(dir, 'd')]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /cannot write the report/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

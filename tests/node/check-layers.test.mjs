// check-layers.test.mjs — tools/check-layers.mjs passes on the real tree and fails where it must:
// a lower folder including a higher one, a peer including a peer, and object files calling each
// other in a circle (built here from tiny C files in a temporary tree).
// Run: node --test tests/node/check-layers.test.mjs
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const TOOL = path.join(ROOT, 'tools', 'check-layers.mjs');
const check = (...args) => spawnSync(process.execPath, [TOOL, ...args], { encoding: 'utf8' });

// a tree of C files: { 'engine/a.c': '...' } -> src/ and compiled objects under obj/src/
function tree(files) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layers-'));
  for (const [rel, text] of Object.entries(files)) {
    const p = path.join(dir, 'src', rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
    if (!rel.endsWith('.c')) continue;
    const o = path.join(dir, 'obj', 'src', rel.replace(/\.c$/, '.o'));
    fs.mkdirSync(path.dirname(o), { recursive: true });
    const r = spawnSync('cc', ['-c', '-I', path.join(dir, 'src'), p, '-o', o], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  }
  return { obj: path.join(dir, 'obj'), src: path.join(dir, 'src'), rm: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

describe('check-layers', () => {
  it('passes on the project tree (build/native)', { skip: !fs.existsSync(path.join(ROOT, 'build/native/src')) && 'make native first' }, () => {
    const r = check();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /no circles/);
  });

  it('passes on a small tree whose arrows point down', () => {
    const t = tree({
      'base/b.h': 'int low(void);\n', 'base/b.c': '#include "base/b.h"\nint low(void) { return 1; }\n',
      'engine/e.c': '#include "base/b.h"\nint mid(void) { return low(); }\n',
    });
    const r = check(t.obj, t.src);
    t.rm();
    assert.equal(r.status, 0, r.stderr);
  });

  it('fails on a lower folder including a higher one, and on peers', () => {
    const t = tree({
      'engine/e.h': 'int mid(void);\n', 'base/b.c': '#include "engine/e.h"\nint low(void) { return 1; }\n',
      'io/x.h': 'int x(void);\n', 'import/i.c': '#include "io/x.h"\nint i(void) { return 2; }\n',
    });
    const r = check(t.obj, t.src);
    t.rm();
    assert.equal(r.status, 1);
    assert.match(r.stderr, /src\/base\/b\.c:1: base\/ includes engine\/e\.h \(engine\/ is a higher layer\)/);
    assert.match(r.stderr, /src\/import\/i\.c:1: import\/ includes io\/x\.h \(io\/ is a peer\)/);
  });

  it('fails on an upward call and on a circle of calls inside one folder', () => {
    const t = tree({
      'base/b.c': 'int high(void);\nint low(void) { return high(); }\n',
      'engine/h.c': 'int high(void) { return 3; }\n',
      'engine/p.c': 'int q(void);\nint p(void) { return q(); }\n',
      'engine/q.c': 'int p(void);\nint q(void) { return p(); }\n',
    });
    const r = check(t.obj, t.src);
    t.rm();
    assert.equal(r.status, 1);
    assert.match(r.stderr, /src\/base\/b\.c calls high, defined in src\/engine\/h\.c/);
    assert.match(r.stderr, /a circle of calls: .*src\/engine\/[pq]\.c.*src\/engine\/[pq]\.c/);
  });
});

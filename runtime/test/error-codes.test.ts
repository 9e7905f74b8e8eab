import t from 'tap';
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CodedError, ERROR_CODES, errorCode, httpStatusOf, isErrorCode, passedOn, renderErrorCodesMarkdown } from '../src/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Source folders of every package, and the repo's own scripts (tests use codes of their own to test with). */
const SOURCE_DIRS = ['src', 'scripts'];
const TOP_LEVEL_SOURCES = ['demo', 'bench'];

async function sourceFiles(): Promise<string[]> {
  const dirs: string[] = TOP_LEVEL_SOURCES.map((d) => join(ROOT, d));
  for (const entry of await readdir(ROOT, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    for (const sub of SOURCE_DIRS) dirs.push(join(ROOT, entry.name, sub));
  }
  const files: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = await readdir(dir, { recursive: true });
    } catch {
      continue; // a package without that folder
    }
    for (const n of names) if (n.endsWith('.ts') && !n.includes('node_modules')) files.push(join(dir, n));
  }
  return files;
}

t.test('every code literal in the sources is in the catalogue', async (t) => {
  const files = await sourceFiles();
  t.ok(files.length > 100, `scanned ${files.length} source files`);
  const unknown: string[] = [];
  let seen = 0;
  // A code as a string: quoted, or starting a template literal (ERR_… and the edge's CAMERA_… codes).
  const LITERAL = /['"`]((?:ERR|CAMERA)_[A-Z0-9_]+)/g;
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    for (const m of text.matchAll(LITERAL)) {
      seen++;
      if (!isErrorCode(m[1]!)) unknown.push(`${m[1]} (${relative(ROOT, file)})`);
    }
  }
  t.ok(seen > 300, `found ${seen} code literals`);
  t.same([...new Set(unknown)], [], 'codes missing from runtime/src/error-codes.ts');
});

t.test('docs/error-codes.md is generated from the catalogue and up to date', async (t) => {
  const onDisk = await readFile(join(ROOT, 'docs/error-codes.md'), 'utf8');
  t.equal(onDisk, renderErrorCodesMarkdown(), 'run npm run docs:error-codes');
  for (const code of Object.keys(ERROR_CODES)) t.ok(onDisk.includes(`| \`${code}\` |`), `${code} listed`);
});

t.test('statuses come from the catalogue', async (t) => {
  t.equal(httpStatusOf('ERR_ALARM_STATE'), 409);
  t.equal(httpStatusOf('ERR_NOT_FOUND'), 404);
  t.equal(httpStatusOf('ERR_OUTBOX_CORRUPT'), undefined, 'an edge-only code has none');
  t.equal(httpStatusOf('ECONNREFUSED'), undefined, 'an unknown code has none');
  for (const [code, info] of Object.entries(ERROR_CODES)) {
    if (info.status !== null) t.ok(info.status >= 400 && info.status < 600, `${code}: an error status`);
    t.ok(info.meaning.length > 10, `${code}: has a meaning`);
  }
});

t.test('a code from elsewhere is passed on unchanged', async (t) => {
  const e = new CodedError(passedOn('ECONNREFUSED'), 'camera unreachable');
  t.equal(errorCode(e), 'ECONNREFUSED');
  t.equal(isErrorCode(e.code), false);
});

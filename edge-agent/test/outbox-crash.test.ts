/**
 * kill -9 of a process that is appending: every append that had resolved in the child is present after
 * recovery, in order, with no duplicate seq; a torn tail is truncated; seqs continue after the last one.
 */
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@safe-community/runtime';
import { Outbox } from '../src/outbox/index.js';

const CHILD = new URL('./outbox-child.ts', import.meta.url).pathname;
const log = createLogger({ level: 'silent' });

/** Runs the child until it has reported `atLeast` resolved appends, then SIGKILLs it; returns seq → i. */
async function runAndKill(t: Test, dir: string, atLeast: number): Promise<{ start: number; resolved: Map<number, number> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const resolved = new Map<number, number>();
  let start = -1;
  let buf = '';
  await new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', () => resolve());
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        const [a, b] = line.split(' ');
        if (a === 'start') start = Number(b);
        else resolved.set(Number(a), Number(b));
      }
      if (resolved.size >= atLeast && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
  });
  t.equal(child.signalCode, 'SIGKILL', 'the child was killed, not finished');
  return { start, resolved };
}

t.test('appends that resolved survive kill -9, in order, without duplicates', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'outbox-k9-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));

  let expectedNext = 1;
  const everResolved = new Map<number, number>();
  for (let life = 0; life < 3; life++) {
    const { start, resolved } = await runAndKill(t, dir, 3000 + life * 1000);
    t.equal(start, expectedNext - 1, `life ${life}: seqs continue after the last durable one`);
    for (const [seq, i] of resolved) everResolved.set(seq, i);

    // Simulate a write cut short on top of whatever the kill left: half a record at the end of the newest segment.
    const segs = (await readdir(dir)).filter((n) => n.endsWith('.seg')).sort();
    const newest = join(dir, segs.at(-1)!);
    const sizeBefore = (await stat(newest)).size;
    await appendFile(newest, Buffer.from([200, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7]));

    const outbox = new Outbox({ dir, edge: 'edge-k9', site: 'site-1', logger: log });
    await outbox.start();
    // A kill just after a segment roll leaves the newest segment empty: recovery then removes it whole.
    const sizeAfter = await stat(newest).then((st) => st.size, (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' && sizeBefore === 0) return 0;
      throw err;
    });
    t.ok(sizeAfter <= sizeBefore, `life ${life}: torn tail truncated`);
    const s = outbox.stats();
    const maxResolved = Math.max(...resolved.keys());
    t.ok(s.lastSeq >= maxResolved, `life ${life}: last seq ${s.lastSeq} covers every resolved append (${maxResolved})`);

    // Read everything back: dense seqs from 1, each resolved append present with its own payload.
    let next = 1;
    let bad = 0;
    let payloadMismatch = 0;
    for (;;) {
      const recs = await outbox.readFrom(next, 5000, 4 * 1024 * 1024);
      if (recs.length === 0) break;
      for (const r of recs) {
        if (r.seq !== next) bad++;
        const msg = JSON.parse(r.json) as { seq: number; data: { payload: { i: number } } };
        if (msg.seq !== r.seq) bad++;
        const want = everResolved.get(r.seq);
        if (want !== undefined && want !== msg.data.payload.i) payloadMismatch++;
        next = r.seq + 1;
      }
    }
    t.equal(bad, 0, `life ${life}: seqs dense, in order, no duplicates`);
    t.equal(next - 1, s.lastSeq, `life ${life}: read back up to the last seq`);
    t.equal(payloadMismatch, 0, `life ${life}: every resolved seq holds the record it promised`);
    t.ok(Math.max(...everResolved.keys()) <= s.lastSeq, 'nothing that resolved in any life is missing');
    expectedNext = s.lastSeq + 1;
    await outbox.stop();
  }
});

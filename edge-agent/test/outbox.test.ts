/** The outbox on its own: seqs, group commit, reads within limits, acks, segments, restarts, damage. */
import t from 'tap';
import { mkdtemp, readdir, rm, writeFile, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createLogger } from '@safe-community/runtime';
import { waitFor } from '@safe-community/testkit';
import { Outbox, type OutboxOptions } from '../src/outbox/index.js';
import type { OutboxInput } from '../src/ports.js';

const log = createLogger({ level: 'silent' });
const event = (i: number): OutboxInput => ({
  type: 'event',
  data: { id: randomUUID(), site: 's1', edge: 'e1', device: 'g1', kind: 'door.forced', severity: 'major', edgeTime: new Date(1_700_000_000_000 + i).toISOString(), payload: { i } },
});

async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'outbox-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const open = async (dir: string, over: Partial<OutboxOptions> = {}): Promise<Outbox> => {
  const o = new Outbox({ dir, edge: 'e1', site: 's1', logger: log, ...over });
  await o.start();
  return o;
};

async function readAll(o: Outbox, from = 1): Promise<number[]> {
  const seqs: number[] = [];
  for (let next = from; ;) {
    const recs = await o.readFrom(next, 777, 1 << 20);
    if (recs.length === 0) return seqs;
    for (const r of recs) seqs.push(r.seq);
    next = recs.at(-1)!.seq + 1;
  }
}

t.test('seqs are dense and in append order; concurrent appends share writes', async (t) => {
  const dir = await tempDir(t);
  const o = await open(dir);
  const seqs = await Promise.all(Array.from({ length: 2000 }, (_, i) => o.append(event(i))));
  t.same(seqs, Array.from({ length: 2000 }, (_, i) => i + 1), 'seq i+1 for the i-th append');
  const s = o.stats();
  t.equal(s.lastSeq, 2000);
  t.equal(s.durableSeq, 2000);
  t.equal(s.depth, 2000);
  t.ok(s.writes < 100, `group commit: 2000 appends in ${s.writes} writes`);
  const recs = await o.readFrom(1, 3, 1 << 20);
  t.same(recs.map((r) => r.seq), [1, 2, 3], 'maxCount respected');
  const msg = JSON.parse(recs[1]!.json) as { seq: number; type: string; data: { payload: { i: number } } };
  t.same([msg.seq, msg.type, msg.data.payload.i], [2, 'event', 1], 'record is the UplinkMessage with its seq');
  const small = await o.readFrom(10, 100, 1);
  t.same(small.map((r) => r.seq), [10], 'maxBytes below one record still yields one');
  const some = await o.readFrom(10, 1000, 1000);
  t.ok(some.length > 1 && some.length < 10, `maxBytes bounds the batch (${some.length} records)`);
  await o.stop();
});

t.test('acks checkpoint, delete covered segments, and survive restarts', async (t) => {
  const dir = await tempDir(t);
  let o = await open(dir, { segmentBytes: 16 * 1024 });
  for (let i = 0; i < 10; i++) await Promise.all(Array.from({ length: 100 }, (_, j) => o.append(event(i * 100 + j))));
  const segsBefore = o.stats().segments;
  t.ok(segsBefore > 3, `several segments (${segsBefore})`);
  await o.ackUpTo(600);
  const st = o.stats();
  t.equal(st.ackedSeq, 600);
  t.equal(st.depth, 400);
  t.ok(st.segments < segsBefore, 'fully acked segments deleted');
  t.same((await readAll(o, 1))[0], 601, 'acked records are never read again');
  await o.ackUpTo(500);
  t.equal(o.stats().ackedSeq, 600, 'a stale ack does not move back');
  await o.stop();

  o = await open(dir, { segmentBytes: 16 * 1024 });
  t.equal(o.stats().ackedSeq, 600, 'checkpoint survives restart');
  t.equal(o.stats().lastSeq, 1000);
  t.same(await readAll(o, 1), Array.from({ length: 400 }, (_, i) => 601 + i), 'backlog intact after restart');
  await o.ackUpTo(5000);
  t.equal(o.stats().ackedSeq, 1000, 'an ack beyond the durable seq is clamped');
  t.equal(o.stats().depth, 0);
  t.equal(o.stats().bytes, 0, 'nothing unacked');
  await o.stop();

  o = await open(dir, { segmentBytes: 16 * 1024 });
  t.equal(await o.append(event(1)), 1001, 'seq continues after everything was acked');
  const files = (await readdir(dir)).filter((n) => n.endsWith('.seg'));
  t.ok(files.length <= 2, `old segments gone (${files.join(',')})`);
  await o.stop();
  await t.rejects(o.append(event(2)), { code: 'ERR_OUTBOX_STOPPED' }, 'no appends after stop');
});

t.test('stats report depth, age and bytes; durable listeners fire', async (t) => {
  const dir = await tempDir(t);
  let now = 1_000_000;
  const clock = { now: () => now, setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };
  const o = await open(dir, { clock });
  const heard: number[] = [];
  const off = o.onDurable((seq) => heard.push(seq));
  await o.append(event(1));
  now += 5000;
  await o.append(event(2));
  t.same(heard, [1, 2], 'listener told of each durable seq');
  off();
  now += 1000;
  t.equal(o.stats().oldestAgeMs, 6000, 'age of the oldest unacked record');
  await o.ackUpTo(1);
  t.equal(o.stats().oldestAgeMs, 1000, 'age moves to the next record after an ack');
  t.ok(o.stats().bytes > 0 && o.stats().bytes < 400, `bytes of one record (${o.stats().bytes})`);
  await o.stop();
});

t.test('interval fsync resolves before the sync and sends only what is synced', async (t) => {
  const dir = await tempDir(t);
  const o = await open(dir, { fsyncIntervalMs: 50 });
  const seq = await o.append(event(1));
  t.equal(seq, 1);
  t.equal(o.stats().durableSeq, 0, 'resolved before its fsync');
  t.same(await o.readFrom(1, 10, 1 << 20), [], 'the uplink sees nothing unsynced');
  await waitFor(() => o.stats().durableSeq === 1, { what: 'the interval fsync' });
  t.equal(o.stats().durableSeq, 1, 'synced by the interval');
  await o.stop();
});

t.test('refuses oversized records; damage in an older segment stops the start', async (t) => {
  const dir = await tempDir(t);
  const o = await open(dir, { segmentBytes: 4096 });
  const base = event(0);
  const big = { type: 'event', data: { ...base.data, payload: { blob: 'x'.repeat(1_100_000) } } } as OutboxInput;
  await t.rejects(o.append(big), { code: 'ERR_OUTBOX_RECORD_TOO_LARGE' });
  const invalid = { type: 'event', data: { ...base.data, kind: 'Not A Kind' } } as OutboxInput;
  await t.rejects(o.append(invalid), { code: 'ERR_VALIDATION' }, 'a record that breaks its schema is refused');
  t.equal(await o.append(event(0)), 1, 'refused records take no seq');
  for (let i = 1; i < 100; i++) await o.append(event(i));
  await o.stop();
  const segs = (await readdir(dir)).filter((n) => n.endsWith('.seg')).sort();
  t.ok(segs.length > 2);
  const first = join(dir, segs[0]!);
  await truncate(first, (await stat(first)).size - 5);
  await t.rejects(open(dir, { segmentBytes: 4096 }), { code: 'ERR_OUTBOX_CORRUPT' });
  await writeFile(join(dir, 'acked'), 'garbage\n');
  await t.rejects(open(dir), { code: 'ERR_OUTBOX_CHECKPOINT' });
});

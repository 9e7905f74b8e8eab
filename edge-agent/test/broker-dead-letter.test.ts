/**
 * The dead-letter file is rotated by size, so a device flooding the broker with refused messages cannot fill
 * the disk. (A rotation waits until the previous one's new file is open: within one synchronous burst the
 * file may pass maxBytes by that burst.)
 */
import t from 'tap';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeadLetterLog } from '../src/broker/index.js';

const lines = async (file: string): Promise<string[]> => (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);

t.test('rotates at maxBytes, keeps the newest files, loses no record it keeps', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'dead-letter-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // A file left by the previous run counts towards the first rotation.
  await writeFile(join(dir, 'dead-letter.jsonl'), `${JSON.stringify({ at: 'x', reason: 'OLD', detail: 'before the restart' })}\n`);
  const log = new DeadLetterLog(dir, Date.now, { maxBytes: 1000, keep: 2 });
  await log.start();
  for (let i = 0; i < 40; i++) {
    log.record({ reason: 'ERR_RATE_LIMITED', detail: `message ${i}`, device: 'FLOOD', payload: Buffer.alloc(60, i) });
    await new Promise((resolve) => setTimeout(resolve, 2)); // a flood over time: each new file gets opened
  }
  await log.stop();
  const files = (await readdir(dir)).sort();
  t.same(files, ['dead-letter.jsonl', 'dead-letter.jsonl.1', 'dead-letter.jsonl.2'], 'the current file and two rotated ones');
  const kept = [...await lines(join(dir, 'dead-letter.jsonl.2')), ...await lines(join(dir, 'dead-letter.jsonl.1')), ...await lines(join(dir, 'dead-letter.jsonl'))]
    .map((l) => JSON.parse(l) as { detail: string });
  const numbers = kept.map((r) => Number(/message (\d+)/.exec(r.detail)?.[1]));
  t.same(numbers, Array.from({ length: numbers.length }, (_, i) => 40 - numbers.length + i), 'the newest records, in order, none missing');
  t.ok(numbers.length < 40, `older ones dropped (${40 - numbers.length})`);
  for (const f of files) t.ok((await readFile(join(dir, f))).length < 1000 + 400, `${f} stays near maxBytes`);
  t.equal(log.counters().ERR_RATE_LIMITED, 40, 'every refusal is still counted');
});

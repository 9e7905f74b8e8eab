import t from 'tap';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { waitFor } from '@safe-community/testkit';
import { createLogger } from '@safe-community/runtime';
import { EdgeBroker } from '../src/broker/index.js';

t.test('a state file that cannot be written is logged with its reason, counted, and degrades health until a write succeeds', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'edge-state-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const broker = new EdgeBroker({ dataDir, port: 0, logger: createLogger({ level: 'info', destination }) });
  await broker.start();
  t.teardown(() => broker.stop());
  t.same(broker.health(), { state: 'up' });
  t.equal(broker.stats().stateWriteFailures, 0);

  // A folder where the snapshot's temp file goes: the write fails even for root (EISDIR).
  const blocker = join(dataDir, 'broker-state.json.tmp');
  await mkdir(blocker);
  await broker.publish('site/notice', 'first', { qos: 1, retain: true });
  await waitFor(() => broker.stats().stateWriteFailures > 0, { what: 'a failed state write' });
  const health = broker.health();
  t.equal(health.state, 'degraded');
  t.match(health.reason, /^broker state not saved: EISDIR/);
  const logged = lines.find((l) => l.msg === 'broker state not saved');
  t.ok(logged, 'the failure is logged');
  t.match(logged?.reason, /EISDIR/, 'with its reason');

  await broker.publish('site/notice', 'second', { qos: 1, retain: true });
  await waitFor(() => broker.stats().stateWriteFailures > 1, { what: 'a second failed write' });
  t.equal(broker.health().state, 'degraded', 'still degraded while writes fail');

  await rm(blocker, { recursive: true });
  await broker.publish('site/notice', 'third', { qos: 1, retain: true });
  await waitFor(() => broker.health().state === 'up', { what: 'health back up' });
  const failures = broker.stats().stateWriteFailures;
  t.ok(failures >= 2, 'failures stay counted after the recovery');
  t.ok(lines.some((l) => l.msg === 'broker state saved again'), 'the recovery is logged');
  const snap = JSON.parse(await readFile(join(dataDir, 'broker-state.json'), 'utf8')) as { retained: Array<{ topic: string; payload: string }> };
  const notice = snap.retained.find((r) => r.topic === 'site/notice');
  t.equal(Buffer.from(notice?.payload ?? '', 'base64').toString(), 'third', 'the state on disk is current again');
});

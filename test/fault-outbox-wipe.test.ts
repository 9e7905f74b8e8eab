/**
 * A hub whose outbox folder is wiped or replaced (a new disk, a reinstall) restarts its numbering at seq 1.
 * Before outbox epochs the cloud took those records for resends of ones it had and skipped them: every
 * record lost until the new numbering passed the old one. The outbox now makes an epoch with its folder,
 * and the ingest stores a new epoch's records after the old ones. Real outbox, uplink, Aedes and ingest.
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Event } from '@safe-community/contracts';
import { Outbox, Uplink } from '@safe-community/edge-agent';
import { createIngestService } from '@safe-community/cloud-ingest';
import { createLogger } from '@safe-community/runtime';
import { waitFor, startAedes } from '@safe-community/testkit';

const logger = createLogger({ level: 'silent' });
const event = (n: number): Event => ({
  id: randomUUID(), site: 'S1', edge: 'E-wipe', device: 'FP1', kind: 'fire.alarm', severity: 'critical',
  edgeTime: new Date(Date.UTC(2026, 10, 29, 8, 0, n)).toISOString(), tags: { building: 'B1' }, payload: { zone: n },
});

t.test('a wiped outbox starts a new epoch; the cloud stores its records after the old ones', async (t) => {
  const broker = await startAedes();
  t.teardown(() => broker.close());
  const ingest = createIngestService({ logLevel: 'silent', port: 0, databaseUrl: null, mqttUrl: broker.url, mqttProtocol: 4, clientId: `ingest-wipe-${process.pid}`, maintenance: { enabled: false }, api: { edgeAuth: false } });
  await ingest.start();
  t.teardown(() => ingest.stop());
  const dir = await mkdtemp(join(tmpdir(), 'outbox-wipe-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));

  const run = async (events: Event[]) => {
    const outbox = new Outbox({ dir, site: 'S1', edge: 'E-wipe', logger });
    await outbox.start();
    const uplink = new Uplink({ url: broker.url, edge: 'E-wipe', site: 'S1', source: outbox, logger });
    await uplink.start();
    for (const e of events) await outbox.append({ type: 'event', data: e });
    await waitFor(() => outbox.ackedSeq === outbox.durableSeq && outbox.durableSeq > 0, { what: 'the cloud to acknowledge everything', timeoutMs: 20_000 });
    const seen = { epoch: outbox.epoch, acked: outbox.ackedSeq };
    await uplink.stop();
    await outbox.stop();
    return seen;
  };

  const first = Array.from({ length: 20 }, (_, i) => event(i));
  const a = await run(first);
  t.equal(a.acked, 20);
  const again = await run([event(99)]);
  t.equal(again.epoch, a.epoch, 'the epoch survives a restart');
  t.equal(again.acked, 21, 'and the numbering continues');

  await rm(dir, { recursive: true, force: true }); // the hub's disk is replaced
  const after = Array.from({ length: 5 }, (_, i) => event(100 + i));
  const b = await run(after);
  t.not(b.epoch, a.epoch, 'a new folder is a new epoch');
  t.equal(b.acked, 5, 'acknowledged in its own numbering');

  const rows = await ingest.store.query<{ id: string; seq: string | number }>(`SELECT id::text, seq FROM events WHERE edge = 'E-wipe' ORDER BY seq`);
  t.equal(rows.length, 26, 'all 26 events stored: none of the new ones skipped as a resend');
  t.same(rows.slice(21).map((r) => r.id), after.map((e) => e.id), 'the new outbox\'s records follow the old ones');
  t.same(rows.map((r) => Number(r.seq)), Array.from({ length: 26 }, (_, i) => i + 1), 'in one gap-free order');
});

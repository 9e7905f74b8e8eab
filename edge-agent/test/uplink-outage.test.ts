/**
 * Outages: the broker is closed and restarted on the same port while the edge keeps appending; the edge
 * itself is stopped and restarted from its files. After each, the cloud holds every seq exactly once, in
 * order, and the outbox drains to 0.
 */
import t from 'tap';
import { waitFor } from '@safe-community/testkit';
import { createLogger } from '@safe-community/runtime';
import { Outbox } from '../src/outbox/index.js';
import { Uplink } from '../src/uplink/index.js';
import { TestCloud, cloudRig, doorForced, exactlyOnceInOrder } from './uplink-fixtures.js';

const EDGE = 'edge-out1';
const SITE = 'site-1';
const log = createLogger({ level: 'silent' });
const event = (i: number) => doorForced(EDGE, SITE, i);

const newUplink = (url: string, outbox: Outbox): Uplink => new Uplink({
  url, edge: EDGE, site: SITE, source: outbox, logger: log, maxBatchMessages: 100, window: 4, ackTimeoutMs: 500,
  backoff: { initialMs: 20, maxMs: 300, jitter: 0.5 }, connectTimeoutMs: 1000,
});

t.test('broker outage: appends continue, replay in order after the broker returns', async (t) => {
  const { dir, broker, cloud } = await cloudRig(t, 'uplink-out-');
  const outbox = new Outbox({ dir, edge: EDGE, site: SITE, logger: log });
  await outbox.start();
  const uplink = newUplink(broker.url, outbox);
  let cloud2: TestCloud | undefined;
  t.teardown(async () => {
    await uplink.stop();
    await cloud2?.stop();
    await outbox.stop();
  });
  await uplink.start();

  await Promise.all(Array.from({ length: 1000 }, (_, i) => outbox.append(event(i))));
  await waitFor(() => outbox.stats().depth === 0, { what: 'first part delivered and acked' });

  await broker.stop();
  await cloud.stop();
  await waitFor(() => !uplink.metrics().connected, { what: 'uplink saw the outage' });
  // The edge keeps working offline: appends are durable without the cloud.
  const offline = await Promise.all(Array.from({ length: 2000 }, (_, i) => outbox.append(event(1000 + i))));
  t.equal(offline.at(-1), 3000, 'appends continue during the outage');
  await waitFor(() => outbox.stats().oldestAgeMs >= 500, { what: 'the backlog aging through a few failed reconnects' });
  t.equal(outbox.stats().depth, 2000, 'the backlog waits in the outbox');
  t.ok(outbox.stats().oldestAgeMs >= 500, 'oldest age grows during the outage');

  await broker.start(); // same port
  cloud2 = new TestCloud(broker.url, cloud.state);
  await cloud2.start();
  await waitFor(() => outbox.stats().depth === 0, { what: 'backlog replayed', timeoutMs: 10_000 });
  t.ok(exactlyOnceInOrder(cloud.state.committed, 3000), 'every seq exactly once, in order');
  const m = uplink.metrics();
  t.ok(m.reconnects >= 2, `reconnected with backoff (${m.reconnects} attempts)`);
  t.equal(m.connected, true);
});

t.test('edge restart: a new outbox and uplink resume from the checkpoint; the cloud skips what it has', async (t) => {
  const { dir, broker, cloud } = await cloudRig(t, 'uplink-rs-');
  const parts: { stop(): Promise<void> }[] = [];
  t.teardown(async () => {
    for (const p of parts.reverse()) await p.stop();
  });

  let outbox = new Outbox({ dir, edge: EDGE, site: SITE, logger: log });
  await outbox.start();
  let uplink = newUplink(broker.url, outbox);
  await uplink.start();
  const writing = Promise.all(Array.from({ length: 3000 }, (_, i) => outbox.append(event(i))));
  await waitFor(() => cloud.state.upTo >= 300, { what: 'some delivered' });
  // Acks withheld while stopping: the cloud is now ahead of the edge's checkpoint.
  cloud.withholdAcks = true;
  await writing;
  await waitFor(() => cloud.state.upTo > outbox.stats().ackedSeq, { what: 'the cloud ahead of the checkpoint' });
  await uplink.stop();
  await outbox.stop();
  t.ok(cloud.state.upTo > outbox.stats().ackedSeq, `cloud (${cloud.state.upTo}) ahead of the checkpoint (${outbox.stats().ackedSeq})`);
  cloud.withholdAcks = false;

  outbox = new Outbox({ dir, edge: EDGE, site: SITE, logger: log });
  await outbox.start();
  uplink = newUplink(broker.url, outbox);
  parts.push(outbox, uplink);
  await uplink.start();
  await waitFor(() => outbox.stats().depth === 0, { what: 'drained after restart' });
  t.ok(exactlyOnceInOrder(cloud.state.committed, 3000), 'every seq exactly once, in order');
  t.ok(cloud.state.duplicates > 0, 'the resent prefix was skipped by the cloud');
});

/**
 * Fault tests: PostgreSQL unreachable for a few seconds (a TCP proxy cut), the cloud broker restarted,
 * and the ingest stopped in the middle of a stream and started again. After each, the sequences sent are compared with the rows stored:
 * none missing, none doubled.
 */
import t from 'tap';
import { freshDatabase, startAedes, startParts, waitFor, type Teardown } from '@safe-community/testkit';
import { createIngestService } from '@safe-community/cloud-ingest';
import { FakeEdge } from './helpers/fake-edge.js';
import { envelope, event, range, telemetry } from './helpers/messages.js';
import { storedSeqs } from './helpers/store-contract.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';

const make = (edge: string, seq: number) => (seq % 10 === 0 ? event(edge, seq) : telemetry(edge, seq));

/** The config of an MQTT ingest (no edge auth, no maintenance) with its own client id. */
const ingestConfig = (mqttUrl: string, databaseUrl: string, clientId: string, retry?: { initialMs: number; maxMs: number }) => ({
  logLevel: 'silent', port: 0, databaseUrl, mqttUrl, mqttProtocol: 4, clientId, maintenance: { enabled: false }, api: { edgeAuth: false }, ...(retry ? { retry } : {}),
});

/** A started ingest, stopped at the end of the test. */
async function startIngest(t: Teardown, config: ReturnType<typeof ingestConfig>) {
  const [ingest] = await startParts(t, createIngestService(config));
  return ingest;
}

/** A fake edge sending `make` messages through the broker at `url`, stopped at the end of the test. */
async function startEdge(t: Teardown, url: string, edge: string, flow: { batchSize: number; window: number; resendMs: number }) {
  const [fake] = await startParts(t, new FakeEdge({ url, edge, make, ...flow }));
  return fake;
}

t.test('PostgreSQL cut for 3.5 s: commits wait, nothing acked meanwhile, nothing lost or doubled after', async (t) => {
  const db = await freshDatabase('outage');
  t.teardown(() => db.drop());
  const url = new URL(db.url);
  // In front of whichever server the suite runs on (plain PostgreSQL, or TimescaleDB in its pass).
  const proxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
  t.teardown(() => proxy.close());
  url.port = String(proxy.port);
  const broker = await startAedes();
  t.teardown(() => broker.close());
  const ingest = await startIngest(t, ingestConfig(broker.url, url.toString(), 'ingest-outage', { initialMs: 50, maxMs: 400 }));
  const edge = await startEdge(t, broker.url, 'outage-edge', { batchSize: 100, window: 4, resendMs: 1500 });

  const total = 4000;
  const sending = edge.send(total, 60_000);
  await waitFor(() => edge.acked >= 800, { timeoutMs: 20_000, what: 'first acks' });
  proxy.cut();
  // Acks of commits that finished just before the cut may still be on their way; after this, none can be.
  await new Promise((r) => setTimeout(r, 1000));
  const ackedDuringCut = edge.acked;
  const health = await fetch(`http://127.0.0.1:${ingest.address().port}/health`);
  t.equal(health.status, 503, 'health is 503 while the store is down');
  t.match(await health.json(), { status: 'down', parts: { store: { state: 'down' }, mqtt: { state: 'up' } } });
  const post = await fetch(`http://127.0.0.1:${ingest.address().port}/ingest/v1/envelopes`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope('http-edge', [telemetry('http-edge', 1)])),
  });
  t.equal(post.status, 503, 'HTTP ingest answers 503 while the store is down');
  t.match(await post.json(), { code: 'ERR_STORE_UNAVAILABLE' });
  // A fixed wait: what follows proves nothing was acked while the database was away.
  await new Promise((r) => setTimeout(r, 2000));
  t.equal(edge.acked, ackedDuringCut, 'no ack while the database is unreachable');
  t.ok(edge.acked < total, 'the outage hit mid-stream');
  proxy.restore();
  await sending;
  t.same(await storedSeqs(ingest.store, 'outage-edge'), range(1, total), 'every seq exactly once');
  t.ok(ingest.counters().storeFailures > 0, `commits failed and were retried (${ingest.counters().storeFailures})`);
  t.equal(edge.acked, total, 'acks resumed to the end');
});

t.test('ingest stopped mid-stream and started again on the same session: nothing lost or doubled', async (t) => {
  const db = await freshDatabase('restart');
  t.teardown(() => db.drop());
  const broker = await startAedes();
  t.teardown(() => broker.close());
  const config = ingestConfig(broker.url, db.url, 'ingest-restart');
  const first = createIngestService(config);
  await first.start();
  const edge = await startEdge(t, broker.url, 'restart-edge', { batchSize: 200, window: 6, resendMs: 3000 });

  const total = 6000;
  const sending = edge.send(total, 60_000);
  await waitFor(() => edge.acked >= 1000, { timeoutMs: 20_000, what: 'first acks' });
  await first.stop();
  const ackedAtStop = edge.acked;
  t.ok(ackedAtStop < total, 'stopped mid-stream');
  await new Promise((r) => setTimeout(r, 500)); // the ingest stays down a while: the edge resends into the gap
  const second = await startIngest(t, config);
  await sending;
  t.same(await storedSeqs(second.store, 'restart-edge'), range(1, total), 'every seq exactly once');
  t.ok(second.counters().envelopes > 0, 'the second instance took over');
  t.equal(first.counters().rowsWritten + second.counters().rowsWritten, total, 'rows written by both = records sent');
});

t.test('cloud broker restarted mid-stream: the ingest reconnects with backoff, nothing lost or doubled', async (t) => {
  const db = await freshDatabase('brokerdown');
  t.teardown(() => db.drop());
  let broker = await startAedes();
  const port = Number(new URL(broker.url).port);
  t.teardown(() => broker.close());
  const ingest = await startIngest(t, ingestConfig(broker.url, db.url, 'ingest-brokerdown', { initialMs: 100, maxMs: 500 }));
  const edge = await startEdge(t, broker.url, 'bd-edge', { batchSize: 100, window: 4, resendMs: 1000 });

  const total = 3000;
  const sending = edge.send(total, 60_000);
  await waitFor(() => edge.acked >= 600, { timeoutMs: 20_000, what: 'first acks' });
  await broker.close();
  await waitFor(async () => (await ingest.health()).parts.mqtt?.state === 'down', { what: 'ingest sees the broker gone' });
  await new Promise((r) => setTimeout(r, 1500)); // the broker stays away a while: the ingest retries with backoff
  t.ok(edge.acked < total, 'the broker went away mid-stream');
  // A new broker on the same address, with none of the old one's sessions: the ingest must subscribe again.
  broker = await startAedes(port);
  await waitFor(async () => (await ingest.health()).parts.mqtt?.state === 'up', { timeoutMs: 15_000, what: 'ingest reconnected' });
  await sending;
  t.same(await storedSeqs(ingest.store, 'bd-edge'), range(1, total), 'every seq exactly once');
});

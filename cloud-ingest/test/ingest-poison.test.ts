/**
 * Issue 13, ingest poison: an envelope the store cannot take (a payload nested 5,000 deep, NUL in a string,
 * an alarm id reused with another type) is isolated and dead-lettered; the edge's cursor moves past it and
 * every other edge keeps flowing. HTTP answers 200 with the rejected records, never 503 for bad input.
 */
import t from 'tap';
import mqtt from 'mqtt';
import { freshDatabase, waitFor, startAedes } from '@safe-community/testkit';
import { createIngestService } from '@safe-community/cloud-ingest';
import { edgeUplinkTopic } from '@safe-community/contracts';
import { alarm, envelope, event, range, telemetry } from './helpers/messages.js';
import { storedSeqs } from './helpers/store-contract.js';

const db = await freshDatabase('poison');
const broker = await startAedes();
const ingest = createIngestService({
  logLevel: 'silent', port: 0, databaseUrl: db.url, mqttUrl: broker.url, mqttProtocol: 4, clientId: `poison-${process.pid}`,
  maintenance: { enabled: false }, retry: { initialMs: 20, maxMs: 200 },
  // The envelopes here come from unregistered test edges; edge auth has its own suite (test/security).
  api: { edgeAuth: false },
});
await ingest.start();
t.teardown(async () => {
  await ingest.stop();
  await broker.close();
  await db.drop();
});
const base = `http://127.0.0.1:${ingest.address().port}`;
const postText = (text: string) => fetch(`${base}/ingest/v1/envelopes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });

/** An envelope whose record `seq` carries a payload nested `depth` levels (built as text: it is too deep to stringify). */
function deepEnvelope(edge: string, seq: number, depth: number): string {
  const e = event(edge, seq) as { data: { payload: unknown } };
  e.data.payload = { x: '@DEEP@' };
  return JSON.stringify(envelope(edge, [telemetry(edge, seq - 1), e, telemetry(edge, seq + 1)])).replace('"@DEEP@"', `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
}

/** Two alarms sharing one id: open for type A, resolved, then a second A opens, then the old id comes back as type B. */
function alarmReuse(edge: string, from: number) {
  const id = crypto.randomUUID();
  const device = `D-${edge}`; // alarms are per (site, device, type): one device per edge keeps the cases apart
  return [
    alarm(edge, from, device, 'fire.alarm', { id }),
    alarm(edge, from + 1, device, 'fire.alarm', { id, state: 'resolved' }),
    alarm(edge, from + 2, device, 'fire.alarm'),
    alarm(edge, from + 3, device, 'gate.fault', { id }),
    telemetry(edge, from + 4),
  ];
}

t.test('HTTP: a payload nested 5,000 deep is a rejected record (not a 503); its neighbours are stored', async (t) => {
  const r = await postText(deepEnvelope('hp1', 2, 5000));
  t.equal(r.status, 200);
  const body = await r.json() as { upTo: number; rejected: Array<{ seq: number; code: string; reason: string }> };
  t.equal(body.upTo, 3);
  t.match(body.rejected, [{ seq: 2, code: 'ERR_VALIDATION', reason: /nested deeper than 32/ }]);
  t.same(await storedSeqs(ingest.store, 'hp1'), [1, 2, 3]);
});

t.test('HTTP: NUL in a string is a rejected record, not a store failure', async (t) => {
  const m = telemetry('hp2', 1) as { data: { unit: string } };
  m.data.unit = 'C\u0000';
  const r = await postText(JSON.stringify(envelope('hp2', [m, telemetry('hp2', 2)])));
  t.equal(r.status, 200);
  t.match(await r.json(), { upTo: 2, rejected: [{ seq: 1, code: 'ERR_VALIDATION', reason: /NUL/ }] });
});

t.test('HTTP: an alarm id reused with another type is isolated and dead-lettered; the edge goes on', async (t) => {
  const r = await postText(JSON.stringify(envelope('hp3', alarmReuse('hp3', 1))));
  t.equal(r.status, 200);
  const body = await r.json() as { upTo: number; rejected: Array<{ seq: number; code: string }> };
  t.equal(body.upTo, 5, 'cursor past the poison');
  t.match(body.rejected, [{ seq: 4, code: 'ERR_STORE_REJECTED' }]);
  const dl = await ingest.store.query<{ seq: string; code: string }>(`SELECT seq, code FROM dead_letters WHERE edge = 'hp3'`);
  t.same(dl.map((d) => [Number(d.seq), d.code]), [[4, 'ERR_STORE_REJECTED']]);
  const next = await postText(JSON.stringify(envelope('hp3', [telemetry('hp3', 6)])));
  t.match(await next.json(), { upTo: 6 });
  t.ok(ingest.counters().poisoned >= 1);
});

t.test('MQTT: a poison envelope of one edge never holds up another; both are acknowledged', async (t) => {
  const client = await mqtt.connectAsync(broker.url, { clientId: `poison-edges-${process.pid}`, reconnectPeriod: 0 });
  t.teardown(() => client.endAsync(true));
  const acks = new Map<string, number>();
  await client.subscribeAsync('edges/+/down', { qos: 1 });
  client.on('message', (topic, payload) => {
    const m = JSON.parse(payload.toString()) as { type: string; upTo: number; edge: string };
    if (m.type === 'ack') acks.set(m.edge, Math.max(acks.get(m.edge) ?? 0, m.upTo));
  });
  // The poison edge sends its bad envelope first, then the healthy edge streams ten envelopes.
  await client.publishAsync(edgeUplinkTopic('mp-bad'), JSON.stringify(envelope('mp-bad', alarmReuse('mp-bad', 1))), { qos: 1 });
  await client.publishAsync(edgeUplinkTopic('mp-bad'), deepEnvelope('mp-bad', 7, 5000), { qos: 1 });
  for (const from of range(0, 9)) {
    await client.publishAsync(edgeUplinkTopic('mp-ok'), JSON.stringify(envelope('mp-ok', range(from * 10 + 1, from * 10 + 10).map((s) => telemetry('mp-ok', s)))), { qos: 1 });
  }
  await waitFor(() => acks.get('mp-ok') === 100, { what: 'healthy edge acknowledged', timeoutMs: 20_000 });
  await waitFor(() => acks.get('mp-bad') === 8, { what: 'poison edge acknowledged past its poison', timeoutMs: 20_000 });
  t.same(await storedSeqs(ingest.store, 'mp-ok'), range(1, 100));
  const dl = await ingest.store.query<{ seq: string; code: string }>(`SELECT seq, code FROM dead_letters WHERE edge = 'mp-bad' ORDER BY seq`);
  t.same(dl.map((d) => [Number(d.seq), d.code]), [[4, 'ERR_STORE_REJECTED'], [7, 'ERR_VALIDATION']]);
});

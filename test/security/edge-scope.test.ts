/**
 * Issue 12, item 4: what an edge writes stays in its own site and its own devices. Three authenticated
 * edges (two on site A, one on site B) on the real HTTP ingest try to touch what is not theirs; each record
 * is refused in its place with a dead letter, and nothing of the other edge's changes.
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import type { UplinkMessage } from '@safe-community/contracts';
import { waitFor, startAedes } from '@safe-community/testkit';
import { ADMIN_TOKEN, alarmRecord, api, basic, envelopeOf, postEnvelope, startIngest } from './fixtures/ingest.js';

const broker = await startAedes();
t.teardown(() => broker.close());
const ingest = await startIngest(t, 'sec_scope', { mqttUrl: broker.url, mqttProtocol: 4, clientId: `ingest-scope-${process.pid}` });
const edges = {
  a1: { id: 'edge-a1', site: 'site-a', secret: await ingest.edges.issue('edge-a1', 'site-a'), seq: 0 },
  a2: { id: 'edge-a2', site: 'site-a', secret: await ingest.edges.issue('edge-a2', 'site-a'), seq: 0 },
  b1: { id: 'edge-b1', site: 'site-b', secret: await ingest.edges.issue('edge-b1', 'site-b'), seq: 0 },
};
type E = (typeof edges)['a1'];
/** Sends records as the edge, numbered in its own sequence; answers the ingest's JSON. */
async function send(e: E, make: (seq: number) => UplinkMessage): Promise<{ rejected: Array<{ seq: number; code: string; reason: string }> }> {
  const r = await postEnvelope(ingest, envelopeOf(e.id, e.site, [make(++e.seq)]), basic(e.id, e.secret));
  if (r.status !== 200) throw new Error(`${e.id}: HTTP ${r.status} ${await r.text()}`);
  return r.json() as Promise<{ rejected: Array<{ seq: number; code: string; reason: string }> }>;
}
const alarm = async (id: string) => (await ingest.store.query<{ state: string; severity: string; edge: string }>('SELECT state, severity, edge FROM alarms WHERE id = $1', [id]))[0];
const status = (e: E, device: string) => (seq: number): UplinkMessage => ({ seq, type: 'status', data: { site: e.site, edge: e.id, device, online: true, at: new Date().toISOString(), state: { kind: 'access_gate' } } });

t.test("an edge cannot resolve or downgrade another edge's alarm, in another site or its own", async (t) => {
  const fire = randomUUID();
  await send(edges.b1, (s) => alarmRecord(edges.b1.id, 'site-b', s, fire, { device: 'FP9' }));
  const other = randomUUID();
  await send(edges.a2, (s) => alarmRecord(edges.a2.id, 'site-a', s, other, { device: 'FP2', severity: 'critical' }));
  const attacks: Array<[string, E, (s: number) => UplinkMessage]> = [
    ['resolve site B\'s fire alarm from site A', edges.a1, (s) => alarmRecord(edges.a1.id, 'site-a', s, fire, { device: 'FP9', state: 'resolved' })],
    ['downgrade site B\'s fire alarm from site A', edges.a1, (s) => alarmRecord(edges.a1.id, 'site-a', s, fire, { device: 'FP9', severity: 'minor' })],
    ['resolve a same-site edge\'s alarm', edges.a1, (s) => alarmRecord(edges.a1.id, 'site-a', s, other, { device: 'FP2', state: 'resolved' })],
  ];
  for (const [what, e, make] of attacks) {
    const r = await send(e, make);
    t.match(r.rejected, [{ code: /^ERR_(ALARM|DEVICE)_NOT_OWNED$/ }], `${what}: refused`);
  }
  t.match(await alarm(fire), { state: 'open', severity: 'critical', edge: 'edge-b1' }, "site B's alarm is as its edge raised it");
  t.match(await alarm(other), { state: 'open', severity: 'critical', edge: 'edge-a2' });
  const dead = await ingest.store.query<{ edge: string; code: string }>("SELECT edge, code FROM dead_letters WHERE code LIKE 'ERR_%_NOT_OWNED'");
  t.equal(dead.length, 3, 'each attempt recorded');
  t.ok(dead.every((d) => d.edge === 'edge-a1'), 'under the edge that tried, not the victim');
  // The owner itself still resolves it.
  await send(edges.b1, (s) => alarmRecord(edges.b1.id, 'site-b', s, fire, { device: 'FP9', state: 'resolved' }));
  t.match(await alarm(fire), { state: 'resolved' });
});

t.test('a device belongs to the edge that reported it first; commands and results follow the owner', async (t) => {
  await send(edges.a1, status(edges.a1, 'G1'));
  const claim = await send(edges.a2, status(edges.a2, 'G1'));
  t.match(claim.rejected, [{ code: 'ERR_DEVICE_NOT_OWNED', reason: /belongs to edge edge-a1/ }], 'a second edge cannot claim the gate');
  const listener = await mqtt.connectAsync(broker.url, { protocolVersion: 4, clientId: 'down-listener' });
  t.teardown(() => listener.endAsync(true));
  const downs: string[] = [];
  listener.on('message', (topic) => downs.push(topic));
  await listener.subscribeAsync('edges/+/down', { qos: 1 });
  const sec = (await api(ingest, 'POST', '/users', ADMIN_TOKEN, { id: 'sec-a', role: 'security', sites: ['site-a'] })).body.token as string;
  const cmd = await api(ingest, 'POST', '/commands', sec, { site: 'site-a', device: 'G1', action: 'hold_open', params: {} });
  t.equal(cmd.status, 202);
  t.equal(cmd.body.edge, 'edge-a1', 'the hold-open goes to the owner');
  await waitFor(() => downs.includes('edges/edge-a1/down'), { what: 'command published to the owner' });
  t.notOk(downs.includes('edges/edge-a2/down'));
  // Results from any edge but the one the command went to are refused; the command stays pending.
  const result = (e: E) => (seq: number): UplinkMessage => ({ seq, type: 'command_result', data: { commandId: cmd.body.id, site: e.site, edge: e.id, device: 'G1', action: 'hold_open', status: 'confirmed', attempts: 1, latencyMs: 3, at: new Date().toISOString() } });
  t.match((await send(edges.a2, result(edges.a2))).rejected, [{ code: 'ERR_COMMAND_NOT_SENT_HERE' }], 'same-site edge');
  t.match((await send(edges.b1, result(edges.b1))).rejected, [{ code: 'ERR_COMMAND_NOT_SENT_HERE' }], 'another site\'s edge');
  t.equal((await api(ingest, 'GET', `/commands/${cmd.body.id}`, sec)).body.status, 'pending', 'not confirmed by a stranger');
  t.same((await send(edges.a1, result(edges.a1))).rejected, []);
  t.equal((await api(ingest, 'GET', `/commands/${cmd.body.id}`, sec)).body.status, 'confirmed', 'confirmed by the owner');
});

t.test('an admin moves a device; then only the new owner reports it', async (t) => {
  const adminA = (await api(ingest, 'POST', '/users', ADMIN_TOKEN, { id: 'admin-a', role: 'admin', sites: ['site-a'] })).body.token as string;
  t.equal((await api(ingest, 'PUT', '/sites/site-a/devices/G1/owner', adminA, { edge: 'edge-b1' })).status, 400, 'not to an edge of another site');
  const adminB = (await api(ingest, 'POST', '/users', ADMIN_TOKEN, { id: 'admin-b', role: 'admin', sites: ['site-b'] })).body.token as string;
  t.equal((await api(ingest, 'PUT', '/sites/site-a/devices/G1/owner', adminB, { edge: 'edge-b1' })).status, 403, "not by another site's admin");
  t.equal((await api(ingest, 'PUT', '/sites/site-a/devices/G1/owner', adminA, { edge: 'edge-a2' })).status, 200);
  t.same((await send(edges.a2, status(edges.a2, 'G1'))).rejected, [], 'the new owner reports it');
  t.match((await send(edges.a1, status(edges.a1, 'G1'))).rejected, [{ code: 'ERR_DEVICE_NOT_OWNED' }], 'the old one no longer');
});

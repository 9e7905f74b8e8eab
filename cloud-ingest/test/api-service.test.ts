/**
 * The API wired into the ingest service (createIngestService): the bootstrap admin from config, edge
 * credentials on the HTTP ingest, and a command that goes down through a real broker (in-process Aedes),
 * is answered by a simulated edge over the ingest's MQTT path, and reads confirmed in the API.
 */
import t from 'tap';
import mqtt from 'mqtt';
import { randomUUID } from 'node:crypto';
import { freshDatabase, waitFor, startAedes } from '@safe-community/testkit';
import { createIngestService } from '@safe-community/cloud-ingest';
import { downMacKey, downMacValid, validators, type Envelope } from '@safe-community/contracts';

const ADMIN = 'service-admin-token-0123456789abcdef';
const db = await freshDatabase('apisvc');
const broker = await startAedes();
const ingest = createIngestService({
  logLevel: 'silent', port: 0, databaseUrl: db.url, mqttUrl: broker.url, mqttProtocol: 4, clientId: `ingest-${randomUUID().slice(0, 8)}`,
  maintenance: { enabled: false }, api: { adminToken: ADMIN, edgeAuth: true },
});
await ingest.start();
// The simulated edge: receives its down messages and sends its uplink envelopes on the broker.
const edge = await mqtt.connectAsync(broker.url, { protocolVersion: 4, clientId: 'edge-e1' });
await edge.subscribeAsync('edges/e1/down', { qos: 1 });
const down: unknown[] = [];
edge.on('message', (_topic, payload) => down.push(JSON.parse(payload.toString('utf8'))));
t.teardown(async () => {
  await edge.endAsync();
  await ingest.stop();
  await broker.close();
  await db.drop();
});

const base = `http://127.0.0.1:${ingest.address().port}`;
const api = async (method: string, path: string, token: string, body?: unknown) => {
  const r = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  return { status: r.status, body: await r.json() as any };
};
let seq = 0;
let secret = '';
const envelope = (site: string, messages: Array<Record<string, unknown>>): Envelope =>
  ({ v: 1, edge: 'e1', site, sentAt: new Date().toISOString(), messages: messages.map((m) => ({ ...m, seq: ++seq })) }) as unknown as Envelope;

t.test('the bootstrap admin from config creates users; OpenAPI lists the ingest route too', async (t) => {
  t.same((await api('GET', '/api/v1/me', ADMIN)).body, { user: 'admin', role: 'admin', sites: '*' });
  const doc = await (await fetch(`${base}/openapi.json`)).json() as { paths: Record<string, unknown> };
  t.ok(doc.paths['/ingest/v1/envelopes'] && doc.paths['/api/v1/commands']);
  t.ok(doc.paths['/api/v1/rules'] && doc.paths['/api/v1/sla'], 'the rule engine and SLA figures are wired in');
  t.match((await api('GET', '/api/v1/rules', ADMIN)).body, { active: null, versions: [] });
});

t.test('the HTTP ingest takes envelopes only with the edge\'s own credentials', async (t) => {
  secret = (await api('POST', '/api/v1/edges/e1/credentials', ADMIN, { site: 'site-x' })).body.secret as string;
  const status = { type: 'status', data: { site: 'site-x', edge: 'e1', device: 'G1', online: true, at: new Date().toISOString(), state: { kind: 'access_gate' } } };
  const post = (body: unknown, auth?: string) => fetch(`${base}/ingest/v1/envelopes`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) }, body: JSON.stringify(body),
  });
  const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
  const none = await post(envelope('site-x', [status]));
  t.equal(none.status, 401);
  t.equal(((await none.json()) as { code: string }).code, 'ERR_UNAUTHENTICATED');
  seq = 0;
  t.equal((await post(envelope('site-x', [status]), basic('e1', 'wrong'))).status, 401);
  seq = 0;
  const wrongSite = await post(envelope('site-y', [status]), basic('e1', secret));
  t.equal(wrongSite.status, 403, 'an edge cannot write for another site');
  t.equal(await ingest.store.cursor('e1'), 0, 'nothing written so far');
  seq = 0;
  const ok = await post(envelope('site-x', [status]), basic('e1', secret));
  t.equal(ok.status, 200);
  t.match(await ok.json(), { upTo: 1 });
});

t.test('a command goes down through the broker and its result comes back through the ingest', async (t) => {
  const sec = (await api('POST', '/api/v1/users', ADMIN, { id: 'guard', role: 'security', sites: ['site-x'] })).body.token as string;
  const cmd = await api('POST', '/api/v1/commands', sec, { site: 'site-x', device: 'G1', action: 'hold_open', params: { seconds: 20 } });
  t.equal(cmd.status, 202);
  t.equal(cmd.body.status, 'pending');
  // Signed with the edge's own key (issue 12): the edge verifies it before acting.
  const signed = validators.signedDown.assert(await waitFor(() => down.find((d) => (d as { type: string }).type === 'signed'), { what: 'the command on edges/e1/down' }));
  t.ok(downMacValid(downMacKey(secret), signed), "the MAC is made with the edge's key");
  const parsed = validators.down.assert(JSON.parse(signed.body));
  t.ok(parsed.type === 'command' && parsed.command.id === cmd.body.id && parsed.command.device === 'G1');
  // The edge runs it and reports the result on its uplink, as the agent's outbox does.
  const result = { type: 'command_result', data: { commandId: cmd.body.id, site: 'site-x', edge: 'e1', device: 'G1', action: 'hold_open', status: 'confirmed', attempts: 1, latencyMs: 41, at: new Date().toISOString() } };
  await edge.publishAsync('edges/e1/uplink', JSON.stringify(envelope('site-x', [result])), { qos: 1 });
  const done = await waitFor(async () => {
    const r = await api('GET', `/api/v1/commands/${cmd.body.id}`, sec);
    return r.body.status === 'confirmed' ? r.body : null;
  }, { what: 'the command confirmed' });
  t.match(done, { status: 'confirmed', result: { attempts: 1, latencyMs: 41 } });
});

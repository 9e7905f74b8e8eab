/**
 * Calls leave the service through a webhook (an SMS or voice gateway, a chat bot): one JSON POST per
 * call, the bearer token, retries on failure and timeout, a resident's last fix only to their own guard
 * team and family; and the ingest wires it from its config so an alarm raised through the API is called out.
 */
import t, { type Test } from 'tap';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from '@safe-community/testkit';
import { createLogger } from '@safe-community/runtime';
import { WebhookNotifier, createIngestService, type AlarmView } from '../src/index.js';

interface Received { auth: string | undefined; body: { type: string; channel: string; level: number; alarm: { id: string; type: string; tags: Record<string, string> } } }

/** A gateway that answers with the queued statuses (200 when the queue is empty); 'hang' never answers. */
async function gateway(t: Test) {
  const received: Received[] = [];
  const answers: Array<number | 'hang'> = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      received.push({ auth: req.headers.authorization, body: JSON.parse(data) as Received['body'] });
      const a = answers.shift() ?? 200;
      if (a === 'hang') return;
      res.writeHead(a).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/calls`, received, answers };
}

const alarm: AlarmView = {
  id: '5b1c7f0e-8a4d-4c55-9d1e-2f8a6b7c9d01', site: 'site-a', edge: 'edge-1', device: 'W-101', type: 'care.fall', severity: 'critical',
  state: 'open', origin: 'edge', rule: null, message: 'Fall: no I\'m OK', count: 1, raisedAt: '2026-11-30T06:01:00.000Z',
  lastSeenAt: '2026-11-30T06:01:00.000Z', acknowledgedAt: null, acknowledgedBy: null, dispatchedAt: null, resolvedAt: null, resolvedBy: null,
  assignee: null, escalationLevel: 1, incidentId: '9d3e6c2a-1b4f-4e7a-8c5d-0f1a2b3c4d5e', sourceEventId: null,
  tags: { resident: 'R2', building: 'B', last_lat: '22.544100', last_lon: '114.058900', last_fix_at: '2026-11-30T06:00:00.000Z' },
};

t.test('one POST per call, with the token; the last fix only for the resident\'s own contacts', async (t) => {
  const gw = await gateway(t);
  const n = new WebhookNotifier({ url: gw.url, token: 'gw-secret', retryMs: 5 });
  await n.notify(alarm, 1, 'family:Li Ming family');
  await n.notify(alarm, 1, 'guard_team:guards-b');
  await n.notify(alarm, 2, 'manager');
  t.same(gw.received.map((r) => `${r.body.channel} L${r.body.level}`), ['family:Li Ming family L1', 'guard_team:guards-b L1', 'manager L2']);
  t.ok(gw.received.every((r) => r.auth === 'Bearer gw-secret'), 'bearer token on every call');
  t.match(gw.received[0]?.body, { type: 'call', alarm: { id: alarm.id, type: 'care.fall', tags: { resident: 'R2', last_lat: '22.544100' } } });
  t.equal(gw.received[1]?.body.alarm.tags.last_lat, '22.544100', 'the guard team gets the position');
  t.same(gw.received[2]?.body.alarm.tags, { resident: 'R2', building: 'B' }, 'the manager does not');
});

t.test('a failed or hanging gateway is tried again, then the call is reported as not delivered', async (t) => {
  const gw = await gateway(t);
  const n = new WebhookNotifier({ url: gw.url, retryMs: 5, timeoutMs: 200, attempts: 3 });
  gw.answers.push(503, 'hang');
  await n.notify(alarm, 0, 'duty');
  t.equal(gw.received.length, 3, 'delivered on the third attempt');
  gw.answers.push(500, 500, 500);
  await t.rejects(n.notify(alarm, 0, 'duty'), { code: 'ERR_NOTIFY_FAILED', message: /after 3 attempts: HTTP 500/ });
  t.throws(() => new WebhookNotifier({ url: 'not a url' }), { code: 'ERR_CONFIG', message: /notify.webhookUrl/ });
  t.throws(() => new WebhookNotifier({ url: 'ftp://gw.example/calls' }), { code: 'ERR_CONFIG' });
});

t.test('the ingest calls out through its configured webhook', async (t) => {
  const gw = await gateway(t);
  const ADMIN = 'admin-token-for-notify-tests-0123456789';
  const svc = createIngestService(
    { databaseUrl: null, mqttUrl: null, port: 0, maintenance: { enabled: false }, api: { adminToken: ADMIN }, notify: { webhookUrl: gw.url, webhookToken: 'gw-secret' } },
    { logger: createLogger({ level: 'silent' }) },
  );
  await svc.start();
  t.teardown(() => svc.stop());
  const { host, port } = svc.address();
  const res = await fetch(`http://${host}:${port}/api/v1/reports`, {
    method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ site: 's1', category: 'smell', message: 'smell of gas in the stairwell' }),
  });
  t.equal(res.status, 201);
  const id = ((await res.json()) as { id: string }).id;
  const call = await waitFor(() => gw.received.find((r) => r.body.alarm.id === id), { what: 'the call for the reported alarm' });
  t.match(call, { auth: 'Bearer gw-secret', body: { type: 'call', channel: 'duty', level: 0 } });
  t.throws(() => createIngestService({ notify: { webhookUrl: 'nope' } }), { code: 'ERR_CONFIG' }, 'a bad webhook URL stops the start with the key named');
});

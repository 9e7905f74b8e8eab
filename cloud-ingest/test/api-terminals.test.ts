/** A guard's handheld terminal polls its dispatches over HTTP and reports accept and arrival (issue 6 item 5), within its sites. */
import t from 'tap';
import { createIngestService } from '@safe-community/cloud-ingest';
import { createLogger } from '@safe-community/runtime';

const ADMIN = 'admin-token-for-terminal-tests-0123456789';

t.test('dispatch → terminal poll → accept → arrive, scoped to security staff', async (t) => {
  const svc = createIngestService({ databaseUrl: null, mqttUrl: null, port: 0, api: { adminToken: ADMIN } }, { logger: createLogger({ level: 'error' }) });
  await svc.start();
  t.teardown(() => svc.stop());
  const { host, port } = svc.address();
  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const res = await fetch(`http://${host}:${port}/api/v1${path}`, {
      method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const guard = await call('POST', '/users', ADMIN, { id: 'guard-li', role: 'security', sites: ['s1'] });
  t.equal(guard.status, 201, 'security user created');
  const viewer = await call('POST', '/users', ADMIN, { id: 'viewer-wu', role: 'viewer', sites: ['s1'] });
  const guardToken = String(guard.body.token);
  const viewerToken = String(viewer.body.token);

  const report = await call('POST', '/reports', guardToken, { site: 's1', category: 'smell', message: 'smell of gas in building 2 stairwell' });
  t.equal(report.status, 201, 'resident report raised an alarm');
  const id = String(report.body.id);
  t.equal((await call('POST', `/alarms/${id}/ack`, guardToken, {})).status, 200);
  t.equal((await call('POST', `/alarms/${id}/dispatch`, guardToken, { terminal: 'T-7', note: 'check stairwell' })).status, 200);

  t.equal((await call('GET', '/terminals/T-7/dispatches', viewerToken)).status, 401, 'a viewer cannot act for a terminal');
  const polled = await call('GET', '/terminals/T-7/dispatches', guardToken);
  t.equal(polled.status, 200);
  const dispatches = polled.body.dispatches as Array<{ id: string; alarmId?: string }>;
  t.equal(dispatches.length, 1, 'the terminal sees its pending dispatch');
  const dispatchId = dispatches[0]!.id;
  // A guard of another site neither sees the dispatch nor can act on it (as if it did not exist).
  const other = await call('POST', '/users', ADMIN, { id: 'guard-zhou', role: 'security', sites: ['s2'] });
  const otherToken = String(other.body.token);
  t.same((await call('GET', '/terminals/T-7/dispatches', otherToken)).body.dispatches, [], 'another site\'s guard polls nothing');
  const foreign = await call('POST', `/terminals/T-7/dispatches/${dispatchId}/accept`, otherToken);
  t.equal(foreign.status, 404, 'and cannot accept it');
  t.equal(foreign.body.code, 'ERR_DISPATCH_NOT_FOUND');
  t.equal((await call('POST', `/terminals/T-7/dispatches/${dispatchId}/accept`, guardToken)).status, 200, 'accepted');
  t.equal((await call('POST', `/terminals/T-7/dispatches/${dispatchId}/arrive`, guardToken)).status, 200, 'arrived');
  const detail = await call('GET', `/alarms/${id}`, guardToken);
  t.match(JSON.stringify(detail.body), /accept/i, 'accept recorded on the alarm');
});

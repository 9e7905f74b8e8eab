/** Rate limits per token: one token over its limit gets 429 with a stable code; another token is unaffected. */
import t from 'tap';
import { harness, ADMIN_TOKEN } from './api-harness.js';

const h = await harness({ backend: 'pglite', api: { rateLimit: { max: 5, timeWindowMs: 60_000 } } });
t.teardown(() => h.close());

t.test('the sixth request of a token within the window is 429 ERR_RATE_LIMITED; other tokens go on', async (t) => {
  const viewer = await h.user('v1', 'viewer', ['site-a']);
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push((await h.call('GET', '/api/v1/me', viewer)).status);
  t.same(statuses, [200, 200, 200, 200, 200, 429]);
  const limited = await h.call('GET', '/api/v1/alarms', viewer);
  t.equal(limited.status, 429);
  t.equal(limited.body.code, 'ERR_RATE_LIMITED');
  t.ok(Number(limited.headers.get('retry-after')) > 0, 'retry-after is given');
  const write = await h.call('POST', '/api/v1/alarms/00000000-0000-4000-8000-000000000000/ack', viewer, {});
  t.equal(write.status, 429, 'a write over the limit is refused before it is authorized or run');
  const audit = await h.store.query<{ status: number; code: string }>(`SELECT status, code FROM api_audit WHERE route LIKE '%/ack'`);
  t.same(audit, [{ status: 429, code: 'ERR_RATE_LIMITED' }], 'the refused write is audited');
  // The admin token used one request to create v1; it has four left.
  t.equal((await h.call('GET', '/api/v1/me', ADMIN_TOKEN)).status, 200, 'another token is not limited');
});

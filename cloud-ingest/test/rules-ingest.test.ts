/** The cloud rules fed by the real ingest: an envelope over HTTP → commit → rules → alarms, and edge alarms taken in. */
import t from 'tap';
import { waitFor } from '@safe-community/testkit';
import { createIngestService, parseRuleSet } from '@safe-community/cloud-ingest';
import type { UplinkMessage } from '@safe-community/contracts';
import { alarm, envelope, event } from './helpers/messages.js';
import { quietLogger } from './helpers/alarms-setup.js';

const rules = parseRuleSet(JSON.stringify({
  version: 1,
  rules: [{ id: 'knock', type: 'double_knock', kinds: ['fire.alarm'], windowSec: 60, distinct: 'device',
    alarm: { type: 'fire.confirmed', severity: 'critical', message: 'two detectors' } }],
}));

const ingest = createIngestService({ logLevel: 'silent', port: 0, maintenance: { enabled: false }, api: { edgeAuth: false } }, { rules, logger: quietLogger() });
await ingest.start();
t.teardown(() => ingest.stop());
const post = (body: unknown) => fetch(`http://127.0.0.1:${ingest.address().port}/ingest/v1/envelopes`, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
});
const inBuilding = (m: UplinkMessage, building: string): UplinkMessage => {
  if (m.type === 'event') m.data.tags = { building };
  return m;
};

t.test('two detectors of one building, committed by the ingest, confirm the fire', async (t) => {
  const r = await post(envelope('e1', [inBuilding(event('e1', 1, 'FP1'), 'b1'), inBuilding(event('e1', 2, 'FP2'), 'b1'), alarm('e1', 3, 'FP1', 'fire.zone')]));
  t.equal(r.status, 200);
  const rows = await waitFor(async () => {
    const x = await ingest.store.query<{ type: string; device: string; origin: string }>(`SELECT type, device, origin FROM alarms WHERE origin = 'rule'`);
    return x.length ? x : undefined;
  }, { what: 'the rule alarm' });
  t.same(rows, [{ type: 'fire.confirmed', device: 'building.b1', origin: 'rule' }]);
  const adopted = await waitFor(async () => {
    const x = await ingest.store.query<{ incident_id: string | null; adopted: boolean }>(`SELECT incident_id, adopted FROM alarms WHERE type = 'fire.zone'`);
    return x[0]?.adopted ? x[0] : undefined;
  }, { what: 'the edge alarm taken in' });
  t.ok(adopted.incident_id, 'the edge alarm joined an incident');
  const again = await post(envelope('e1', [inBuilding(event('e1', 1, 'FP1'), 'b1'), inBuilding(event('e1', 2, 'FP2'), 'b1')]));
  t.match(await again.json(), { duplicates: 2 });
  // A fixed wait: what follows proves the resent batch raised nothing more.
  await new Promise((r) => setTimeout(r, 200));
  const count = await ingest.store.query<{ count: number }>(`SELECT count FROM alarms WHERE type = 'fire.confirmed'`);
  t.same(count.map((c) => Number(c.count)), [1], 'a resent batch is not evaluated twice');
});

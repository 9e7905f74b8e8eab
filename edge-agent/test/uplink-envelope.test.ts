/** The uplink's envelope text: readings in v2's columnar block, everything else spliced as sent, nothing lost. */
import t from 'tap';
import { envelopeRecords, validators, type AnyEnvelope, type UplinkMessage } from '@safe-community/contracts';
import { envelopeJson } from '../src/uplink/index.js';

const T = '2026-11-29T10:00:00.000Z';
const reading = (seq: number, device: string, unit?: string): UplinkMessage =>
  ({ seq, type: 'telemetry', data: { site: 's1', edge: 'e1', device, metric: 'temp.c', value: seq / 2, ...(unit ? { unit } : {}), time: T } });
const status: UplinkMessage = { seq: 3, type: 'status', data: { site: 's1', edge: 'e1', device: 'D1', online: true, at: T } };

t.test('readings go in the block with their strings once, other records stay messages; the records survive the round trip', async (t) => {
  const records = [reading(1, 'D1', 'C'), reading(2, 'D2'), status, reading(4, 'D1', 'C')];
  const text = envelopeJson('e1', 's1', T, records.map((r) => JSON.stringify(r)), 'ep-1');
  const env = JSON.parse(text) as AnyEnvelope;
  t.ok(validators.envelope.check(env), 'a valid envelope');
  t.equal(env.v, 2);
  t.same(env.messages, [status]);
  t.match(env, { epoch: 'ep-1', series: { seq: [1, 2, 4], devices: ['D1', 'D2'], device: [0, 1, 0], units: ['C'], unit: [0, -1, 0] } });
  t.same(envelopeRecords(env), records, 'expanding the block gives back exactly the records the outbox held');
});

t.test('without readings the envelope is v1, as older edges send it', async (t) => {
  const env = JSON.parse(envelopeJson('e1', 's1', T, [JSON.stringify(status)])) as AnyEnvelope;
  t.equal(env.v, 1);
  t.notOk('series' in env);
  t.ok(validators.envelope.check(env));
});

t.test('a reading the block cannot hold as it is stays a message, for the cloud to judge on its own', async (t) => {
  const odd = [
    { seq: 1, type: 'telemetry', data: { ...reading(1, 'D1').data, extra: 1 } },
    { seq: 2, type: 'telemetry', data: { ...reading(2, 'D1').data, edge: 'other-edge' } },
    { seq: 3, type: 'telemetry', data: { ...reading(3, 'D1').data, value: '7' } },
  ];
  const env = JSON.parse(envelopeJson('e1', 's1', T, [...odd.map((r) => JSON.stringify(r)), JSON.stringify(reading(4, 'D1'))])) as AnyEnvelope;
  t.same(env.messages, odd);
  t.match(env, { v: 2, series: { seq: [4] } });
});

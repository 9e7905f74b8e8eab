import t from 'tap';
import { randomUUID } from 'node:crypto';
import type { Command, Event, Telemetry } from '@safe-community/contracts';
import { ProfileAdapter, type DeviceInfo } from '@safe-community/edge-agent';
import { loadProfiles, KIND_CATALOG } from '../src/index.js';

const profiles = await loadProfiles();
const clock = { now: () => Date.parse('2026-11-30T02:00:00Z'), setTimeout: () => 0, clearTimeout: () => undefined };
const adapter = (id: string) => new ProfileAdapter(profiles.get(id)!, { site: 'S1', edge: 'E1', clock });
const carelink = adapter('wearable.carelink-json');
const anxin = adapter('wearable.anxin-delim');
const dev = (profile: string): DeviceInfo => ({ id: 'W1', kind: 'wearable', profile, tags: { building: 'B', resident: 'R1' } });
const CL = dev('wearable.carelink-json');
const AX = dev('wearable.anxin-delim');

const events = (a: ProfileAdapter, d: DeviceInfo, suffix: string, body: string): Event[] =>
  a.decode(d, suffix, Buffer.from(body)).messages.flatMap((m) => (m.type === 'event' ? [m.data] : []));
const points = (a: ProfileAdapter, d: DeviceInfo, suffix: string, body: string): string[] =>
  a.decode(d, suffix, Buffer.from(body)).messages.flatMap((m) => (m.type === 'telemetry' ? [`${(m.data as Telemetry).metric}=${(m.data as Telemetry).value}`] : []));

t.test('two wearable dialects: one JSON, one comma-delimited; both cover the kind', async (t) => {
  const wearables = [...profiles.values()].filter((p) => p.kind === 'wearable');
  t.same(wearables.map((p) => `${p.id}:${p.codec.type}`).sort(), ['wearable.anxin-delim:delimited', 'wearable.carelink-json:json']);
  for (const p of wearables) {
    const kinds = new Set(p.inbound.flatMap((r) => (r.emit === 'event' ? [r.kind] : [])));
    for (const k of [...KIND_CATALOG.wearable!.events, 'wearable.ok']) t.ok(kinds.has(k), `${p.id} emits ${k}`);
  }
});

t.test('vendor → canonical: the same moments read the same in both dialects', async (t) => {
  const at = '2026-11-30T01:40:00.000Z';
  const epoch = Date.parse(at) / 1000;
  const pairs: Array<[string, Event[], Event[]]> = [
    ['SOS with position', events(carelink, CL, 'alert', JSON.stringify({ type: 'sos', lat: 22.5431, lon: 114.0579, ts: at })), events(anxin, AX, 'up', `S,${epoch},22.543100,114.057900`)],
    ['fall with impact', events(carelink, CL, 'alert', JSON.stringify({ type: 'fall', lat: 22.5431, lon: 114.0579, g: 3.2, ts: at })), events(anxin, AX, 'up', `F,${epoch},22.543100,114.057900,32`)],
    ["I'm OK", events(carelink, CL, 'alert', JSON.stringify({ type: 'ok', ts: at })), events(anxin, AX, 'up', `K,${epoch}`)],
  ];
  for (const [what, [a], [b]] of pairs) {
    t.ok(a && b, `${what}: one event each`);
    t.equal(a?.kind, b?.kind, `${what}: ${a?.kind}`);
    t.same(a?.payload, b?.payload, `${what}: same payload`);
    t.equal(a?.deviceTime, at);
    t.equal(b?.deviceTime, at);
    t.same(b?.tags, { building: 'B', resident: 'R1' }, 'device tags carried');
  }
  t.equal(events(anxin, AX, 'up', `K,${epoch}`)[0]?.severity, 'info', "I'm OK is not an alarm by itself");
  t.equal(events(anxin, AX, 'up', `S,${epoch},,`)[0]?.severity, 'critical');
  t.same(events(anxin, AX, 'up', `F,${epoch},,,`)[0]?.payload, {}, 'a fall without position or impact');

  const full = ['wearable.heart_rate=72', 'wearable.spo2=97', 'wearable.steps=1500', 'wearable.battery=64', 'wearable.lat=22.5431', 'wearable.lon=114.0579'];
  t.same(points(carelink, CL, 'vitals', JSON.stringify({ hr: 72, spo2: 97, steps: 1500, bat: 64, lat: 22.5431, lon: 114.0579, ts: at })), full);
  t.same(points(anxin, AX, 'up', `V,${epoch},72,97,1500,64,22.543100,114.057900`), full);
  t.same(points(anxin, AX, 'up', `V,${epoch},,,,18,,`), ['wearable.battery=18'], 'empty fields are absent, not zero');
});

t.test('canonical → vendor: anxin commands and their acknowledgements', async (t) => {
  const cmd = (action: string): Command => ({ id: randomUUID(), site: 'S1', edge: 'E1', device: 'W1', action, params: {}, issuedAt: new Date(clock.now()).toISOString(), issuedBy: 'user:guard-7' });
  const locate = cmd('locate');
  t.same(anxin.encode(AX, locate), { topic: 'devices/W1/down', payload: Buffer.from(`C,${locate.id},FIND`) });
  const help = cmd('notify_help');
  t.equal(anxin.encode(AX, help).payload.toString(), `C,${help.id},HELP`);
  t.throws(() => anxin.encode(AX, cmd('unlock')), { code: 'ERR_COMMAND_UNSUPPORTED' });
  t.throws(() => carelink.encode(CL, cmd('locate')), { code: 'ERR_COMMAND_UNSUPPORTED' }, 'carelink takes no commands');
  const ack = anxin.decode(AX, 'up', Buffer.from(`A,${help.id},1,HELP`));
  t.same(ack.readBacks, [{ commandId: help.id, device: 'W1', ok: true, detail: 'HELP' }]);
  t.equal(anxin.decode(AX, 'up', Buffer.from(`A,${help.id},0,HELP`)).readBacks[0]?.ok, false);
});

t.test('bad anxin records are refused with a code', async (t) => {
  t.throws(() => anxin.decode(AX, 'up', Buffer.from('Z,1')), { code: 'ERR_DECODE_RECORD' });
  t.throws(() => anxin.decode(AX, 'up', Buffer.from('V,1795000000,72')), { code: 'ERR_DECODE_PAYLOAD' }, 'wrong field count');
  t.throws(() => anxin.decode(AX, 'up', Buffer.from('V,1795000000,fast,97,1,1,,')), { code: 'ERR_DECODE_VALUE' });
  t.throws(() => anxin.decode(AX, 'up', Buffer.from('V,1795000000,,,,,,')), { code: 'ERR_DECODE_EMPTY' });
  t.throws(() => anxin.decode(AX, 'up', Buffer.from('A,not-a-uuid,1,FIND')), { code: 'ERR_DECODE_VALUE' });
  t.throws(() => anxin.decode(AX, 'down', Buffer.from('C,x,FIND')), { code: 'ERR_DECODE_TOPIC' });
});

/**
 * Issue 12, item 3, at the edge: a real edge agent (its gate a simulated device on its own broker) whose
 * cloud broker is open to anyone, as a broker that is misconfigured or taken over would be. Whatever an
 * attacker publishes on the edge's down topic (an unsigned command, a forged ack, a replay, another edge's
 * key, a stale message) must not move the gate or the outbox, and must leave a dead-letter record; an ack
 * beyond what the edge sent is ignored even when it is signed, and raised as `uplink.ack_invalid`.
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { downMacKey, signDown, type Command, type DownMessage } from '@safe-community/contracts';
import { newToken } from '@safe-community/cloud-ingest';
import { EdgeAgent, loadEdgeConfig } from '@safe-community/edge-agent';
import { createLogger } from '@safe-community/runtime';
import { SimulatedGate } from '@safe-community/simulators';
import { startAedes, waitFor } from '@safe-community/testkit';

const EDGE = 'hub-sec';
const SITE = 'site-s';
const secret = newToken('edge');
const otherSecret = newToken('edge');

// The open broker: no login, no topic rules.
const cloudBroker = await startAedes();
const brokerUrl = cloudBroker.url;
const dir = await mkdtemp(join(tmpdir(), 'sec-down-'));
const agent = new EdgeAgent({
  config: loadEdgeConfig({
    edge: { id: EDGE, site: SITE }, dataDir: dir, admin: { enabled: false }, broker: { port: 0 },
    linkage: { builtinRules: false },
    uplink: { url: brokerUrl, secret, ackTimeoutMs: 60_000 },
    devices: [{ id: 'G1', kind: 'access_gate', profile: 'access_gate.acme-json', tags: { building: 'B1' } }],
  }),
  logger: createLogger({ level: 'silent' }),
});
await agent.start();
const gate = new SimulatedGate({ url: `mqtt://127.0.0.1:${agent.broker.port}`, id: 'G1', password: (await agent.broker.credentials.provision('G1')).password, dialect: 'acme-json' });
await gate.start();
const attacker = await mqtt.connectAsync(brokerUrl, { clientId: 'attacker', reconnectPeriod: 0 });
t.teardown(async () => {
  await attacker.endAsync(true);
  await gate.stop();
  await agent.stop();
  await cloudBroker.close();
  await rm(dir, { recursive: true, force: true });
});
await waitFor(() => agent.uplink?.metrics().connected, { what: 'uplink connected to the cloud broker' });

const down = `edges/${EDGE}/down`;
const send = (payload: string): Promise<unknown> => attacker.publishAsync(down, payload, { qos: 1 });
const command = (action = 'hold_open'): Command => ({
  id: randomUUID(), site: SITE, edge: EDGE, device: 'G1', action, params: {}, issuedAt: new Date().toISOString(), issuedBy: 'user:attacker',
});
const body = (m: DownMessage): string => JSON.stringify(m);
const signed = (m: DownMessage, opts: { key?: string; edge?: string; ts?: number; id?: string } = {}): string =>
  signDown([opts.key ?? downMacKey(secret)], opts.edge ?? EDGE, body(m), opts.ts ?? Date.now(), opts.id ?? randomUUID().replaceAll('-', ''));
const refusedCount = (): number => agent.uplink!.metrics().downRefused;
const deadLetters = async (): Promise<Array<{ reason: string }>> =>
  (await readFile(join(dir, 'broker', 'dead-letter.jsonl'), 'utf8').catch(() => '')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { reason: string });

t.test('forged down messages move neither the gate nor the outbox, and each leaves a dead letter', async (t) => {
  const ackedBefore = agent.outbox.ackedSeq;
  const attacks: Array<[string, string, string]> = [
    ['unsigned command', body({ v: 1, type: 'command', command: command() }), 'ERR_DOWN_UNSIGNED'],
    ['unsigned ack far ahead', body({ v: 1, type: 'ack', edge: EDGE, upTo: 1_000_000 }), 'ERR_DOWN_UNSIGNED'],
    ["command signed with another edge's key", signed({ v: 1, type: 'command', command: command() }, { key: downMacKey(otherSecret) }), 'ERR_DOWN_MAC'],
    ['command signed for another edge', signed({ v: 1, type: 'command', command: command() }, { edge: 'hub-other' }), 'ERR_DOWN_EDGE'],
    ['command from ten minutes ago', signed({ v: 1, type: 'command', command: command() }, { ts: Date.now() - 600_000 }), 'ERR_DOWN_STALE'],
    ['body changed after signing', signed({ v: 1, type: 'command', command: command() }).replace('hold_open', 'release'), 'ERR_DOWN_MAC'],
  ];
  for (const [what, payload, code] of attacks) {
    const before = refusedCount();
    await send(payload);
    await waitFor(() => refusedCount() > before, { what });
    const records = await waitFor(async () => ((await deadLetters()).filter((r) => r.reason === code).length > 0 ? deadLetters() : null), { what: `${what}: dead letter` });
    t.ok(records.some((r) => r.reason === code), `${what}: refused (${code}) and recorded`);
  }
  t.equal(gate.state, 'locked', 'the gate stayed locked');
  t.equal(agent.outbox.ackedSeq, ackedBefore, 'the outbox did not move');
  t.equal(agent.uplink!.metrics().commands, 0, 'no command reached the command handler');
});

t.test('a signed command opens the gate once; its replay is refused', async (t) => {
  const payload = signed({ v: 1, type: 'command', command: command() });
  await send(payload);
  await waitFor(() => gate.state !== 'locked', { what: 'the signed command acted (control)' });
  const opened = gate.state;
  t.not(opened, 'locked', 'a command signed with the edge\'s key is accepted');
  const before = refusedCount();
  await send(payload);
  await waitFor(() => refusedCount() > before, { what: 'replay refused' });
  t.ok((await deadLetters()).some((r) => r.reason === 'ERR_DOWN_REPLAY'), 'the replay is recorded');
  t.equal(agent.uplink!.metrics().commands, 1, 'the command ran once');
});

t.test('a signed ack beyond the highest seq sent is ignored and raised as uplink.ack_invalid', async (t) => {
  const ackedBefore = agent.outbox.ackedSeq;
  await send(signed({ v: 1, type: 'ack', edge: EDGE, upTo: 1_000_000 }));
  await waitFor(() => agent.uplink!.metrics().ackInvalid === 1, { what: 'invalid ack counted' });
  t.equal(agent.outbox.ackedSeq, ackedBefore, 'the outbox never advances on it');
  const alarm = await waitFor(async () => (await agent.outbox.readFrom(1, 10_000, 1 << 24)).find((r) => r.type === 'alarm' && r.json.includes('uplink.ack_invalid')), { what: 'uplink.ack_invalid alarm in the outbox' });
  t.match(alarm.json, /"severity":"major"/);
  t.ok((await deadLetters()).some((r) => r.reason === 'ERR_UPLINK_ACK_INVALID'), 'and recorded as a dead letter');
  t.match((await agent.health()).parts.uplink?.reason ?? '', /invalid acks ignored/, 'health says so');
});

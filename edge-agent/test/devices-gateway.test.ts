import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Command, Event } from '@safe-community/contracts';
import { loadProfiles } from '@safe-community/firmware-configs';
import { createLogger } from '@safe-community/runtime';
import { waitFor } from '@safe-community/testkit';
import {
  SimulatedGate, SimulatedFirePanel, SimulatedBarrier, SimulatedWearable, SimulatedEnvSensor, type SimulatedDevice,
} from '@safe-community/simulators';
import { EdgeBroker } from '../src/broker/index.js';
import { DeviceGateway } from '../src/devices/index.js';
import type { DeviceInfo, OutboxInput, ReadBack, UplinkSink } from '../src/ports.js';

const logger = createLogger({ level: 'silent' });

/** An in-memory sink that can be made slow, to show the PUBACK waits for it. */
class RecordingSink implements UplinkSink {
  readonly records: OutboxInput[] = [];
  readonly order: string[] = [];
  delayMs = 0;
  async append(msg: OutboxInput): Promise<number> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    this.records.push(msg);
    if (msg.type === 'event') this.order.push(`durable:${msg.data.kind}`);
    return this.records.length;
  }
  events(): Event[] {
    return this.records.flatMap((m) => (m.type === 'event' ? [m.data] : []));
  }
}

const DEVICES: DeviceInfo[] = [
  { id: 'G1', kind: 'access_gate', profile: 'access_gate.acme-json', tags: { building: 'B', role: 'evacuation_gate' } },
  { id: 'G2', kind: 'access_gate', profile: 'access_gate.keyway-delim', tags: { building: 'B', role: 'evacuation_gate' } },
  { id: 'FP1', kind: 'fire_panel', profile: 'fire_panel.nova-json', tags: { building: 'B' } },
  { id: 'FP2', kind: 'fire_panel', profile: 'fire_panel.gst-hex', tags: { building: 'C' } },
  { id: 'B1', kind: 'car_barrier', profile: 'car_barrier.parkline-json', tags: { building: 'B', role: 'exit_barrier' } },
  { id: 'W1', kind: 'wearable', profile: 'wearable.carelink-json', tags: { building: 'B', resident: 'r-17' } },
  { id: 'ENV1', kind: 'env_sensor', profile: 'env_sensor.airsense-json', tags: { building: 'C', zone: 'basement' } },
];

const dataDir = await mkdtemp(join(tmpdir(), 'gateway-'));
const broker = new EdgeBroker({ dataDir, port: 0, logger, rateLimit: { perSecond: 500, burst: 500 } });
const sink = new RecordingSink();
const gateway = new DeviceGateway({ site: 'S1', edge: 'E1', broker, sink, devices: DEVICES, profiles: await loadProfiles(), logger });
await gateway.start();
await broker.start();
const url = `mqtt://127.0.0.1:${broker.port}`;
const pw: Record<string, string> = {};
for (const d of [...DEVICES.map((x) => x.id), 'GHOST']) pw[d] = (await broker.credentials.provision(d)).password;

const g1 = new SimulatedGate({ url, id: 'G1', password: pw.G1!, dialect: 'acme-json' });
const g2 = new SimulatedGate({ url, id: 'G2', password: pw.G2!, dialect: 'keyway-delim' });
const fp1 = new SimulatedFirePanel({ url, id: 'FP1', password: pw.FP1!, dialect: 'nova-json' });
const fp2 = new SimulatedFirePanel({ url, id: 'FP2', password: pw.FP2!, dialect: 'gst-hex' });
const b1 = new SimulatedBarrier({ url, id: 'B1', password: pw.B1! });
const w1 = new SimulatedWearable({ url, id: 'W1', password: pw.W1! });
const env1 = new SimulatedEnvSensor({ url, id: 'ENV1', password: pw.ENV1! });
const sims: SimulatedDevice[] = [g1, g2, fp1, fp2, b1, w1, env1];
await Promise.all(sims.map((s) => s.start()));

const heard: Event[] = [];
gateway.onEvent((e) => heard.push(e));
const readBacks: ReadBack[] = [];
gateway.onReadBack((rb) => readBacks.push(rb));

t.teardown(async () => {
  await Promise.all(sims.map((s) => s.stop()));
  await gateway.stop();
  await broker.stop();
  await rm(dataDir, { recursive: true, force: true });
});

function cmd(device: string, action: string): Command {
  return { id: randomUUID(), site: 'S1', edge: 'E1', device, action, params: {}, issuedAt: new Date().toISOString(), issuedBy: 'linkage:test' };
}

t.test('directory lists devices by kind and tags; all are online with a status record', async (t) => {
  t.same(gateway.list({ tags: { role: 'evacuation_gate' } }).map((d) => d.id), ['G1', 'G2']);
  t.same(gateway.list({ kind: 'fire_panel' }).map((d) => d.id), ['FP1', 'FP2']);
  t.same(gateway.list({ kind: 'access_gate', tags: { building: 'C' } }), []);
  t.equal(gateway.get('B1')?.profile, 'car_barrier.parkline-json');
  for (const d of DEVICES) t.ok(gateway.online(d.id), `${d.id} online`);
  await waitFor(() => sink.records.filter((m) => m.type === 'status' && m.data.online).length >= DEVICES.length, { what: 'online status records' });
  t.same(gateway.commandTopics('G2'), ['devices/G2/down']);
  t.same(gateway.commandTopics('W1'), [], 'a wearable takes no commands');
});

t.test('every kind and dialect reaches the sink as canonical events and telemetry, tagged', async (t) => {
  await fp1.raiseAlarm({ zone: 3, loop: 1, detector: 12, type: 'smoke' });
  await fp2.raiseAlarm({ zone: 5, loop: 2, detector: 4, type: 'manual_call_point' });
  await g1.access({ granted: false, method: 'card', credential: 'C-1', reason: 'expired' });
  await g2.door('forced');
  await b1.arrive({ plate: '粤B12345', confidence: 0.91 });
  await w1.sos({ lat: 22.5, lon: 114.1 });
  await w1.vitals({ hr: 71, spo2: 98 });
  await env1.leak(true);
  await env1.reading({ temperature: 21.5, humidity: 40 });
  // Each `await` above returned on PUBACK, and the PUBACK follows the sink's append: no waiting needed.
  const byDevice = (id: string) => sink.events().filter((e) => e.device === id).map((e) => e.kind);
  t.same(byDevice('FP1'), ['fire.alarm']);
  t.same(byDevice('FP2'), ['fire.alarm']);
  t.same(byDevice('G1'), ['access.denied']);
  t.same(byDevice('G2'), ['door.forced']);
  t.same(byDevice('B1'), ['vehicle.arrived']);
  t.same(byDevice('W1'), ['wearable.sos']);
  t.same(byDevice('ENV1'), ['env.water_leak']);
  const fire = sink.events().find((e) => e.device === 'FP2');
  t.same(fire?.payload, { zone: 5, loop: 2, detector: 4, type: 'manual_call_point' });
  t.same(fire?.tags, { building: 'C' }, 'tags come from the device config');
  const metrics = sink.records.flatMap((m) => (m.type === 'telemetry' ? [`${m.data.device}:${m.data.metric}=${m.data.value}`] : []));
  t.same(metrics, ['W1:wearable.heart_rate=71', 'W1:wearable.spo2=98', 'ENV1:env_sensor.temperature=21.5', 'ENV1:env_sensor.humidity=40']);
  t.equal(heard.length, sink.events().length, 'the linkage hears every event');
  t.same(gateway.state('FP1'), { alarm: true });
});

t.test('commands go out in each dialect and come back as read-backs with state', async (t) => {
  const sent = [cmd('G1', 'hold_open'), cmd('G2', 'hold_open'), cmd('B1', 'hold_raised'), cmd('FP1', 'reset'), cmd('FP2', 'reset')];
  for (const c of sent) await gateway.send(c);
  await waitFor(() => sent.every((c) => readBacks.some((rb) => rb.commandId === c.id)), { what: 'read-backs' });
  for (const c of sent) t.equal(readBacks.find((rb) => rb.commandId === c.id)?.ok, true, `${c.device} ${c.action} confirmed`);
  t.equal(g1.state, 'held_open');
  t.equal(g2.state, 'held_open');
  t.equal(b1.state, 'held_raised');
  t.equal(fp1.inAlarm, false);
  t.equal(gateway.state('G1').door, 'held_open');
  t.equal(gateway.state('G2').door, 'held_open');
  t.equal(gateway.state('B1').barrier, 'held_raised');
  await t.rejects(gateway.send(cmd('W1', 'open')), { code: 'ERR_COMMAND_UNSUPPORTED' });
  await t.rejects(gateway.send(cmd('NOPE', 'open')), { code: 'ERR_UNKNOWN_DEVICE' });
});

t.test('fault modes: no ack, slow ack', async (t) => {
  g1.faults = { noAck: true };
  const silent = cmd('G1', 'release');
  await gateway.send(silent);
  await waitFor(() => g1.received.some((c) => c.id === silent.id), { what: 'command received' });
  // A fixed wait: what follows proves no read-back came.
  await new Promise((r) => setTimeout(r, 200));
  t.notOk(readBacks.some((rb) => rb.commandId === silent.id), 'no read-back from a device that does not ack');
  t.equal(g1.state, 'locked', 'the device acted anyway');

  g1.faults = { ackDelayMs: 250 };
  const slow = cmd('G1', 'unlock');
  const sentAt = performance.now();
  await gateway.send(slow);
  const rb = await waitFor(() => readBacks.find((r) => r.commandId === slow.id), { what: 'slow read-back' });
  t.ok(rb.at - sentAt >= 240, `read-back after ${Math.round(rb.at - sentAt)} ms`);
  g1.faults = {};
});

t.test('malformed payloads are refused and recorded while valid messages around them go through', async (t) => {
  const before = broker.deadLetters.total();
  const kinds = () => sink.events().filter((e) => e.device === 'FP2').length;
  const n = kinds();
  await fp2.sendMalformed('raw', '01zz');
  await fp2.raiseAlarm({ zone: 1, loop: 1, detector: 1, type: 'heat' });
  await fp2.sendMalformed('raw', '0100');
  await fp2.sendMalformed('unknown/topic', '01');
  await fp2.restore({ zone: 1, loop: 1, detector: 1 });
  t.equal(broker.deadLetters.total() - before, 3);
  t.equal(kinds() - n, 2, 'both valid messages stored');
  const counters = broker.stats().refused;
  t.ok((counters.ERR_DECODE_PAYLOAD ?? 0) >= 2);
  t.ok((counters.ERR_DECODE_TOPIC ?? 0) >= 1);
  t.ok(fp2.connected, 'the device stays connected');

  // Random corruption from the simulator's own fault mode.
  fp1.faults = { malformedRate: 0.5 };
  for (let i = 0; i < 20; i++) await fp1.fault({ zone: 2, loop: 1, detector: i, fault: 'open_circuit' });
  fp1.faults = {};
  const faults = sink.events().filter((e) => e.device === 'FP1' && e.kind === 'fire.fault').length;
  t.equal(faults + fp1.malformedSent, 20, 'every fault is either stored or dead-lettered');
  t.ok(fp1.malformedSent > 0 && faults > 0);
});

t.test('a provisioned but unconfigured device is refused per message', async (t) => {
  const ghost = new SimulatedEnvSensor({ url, id: 'GHOST', password: pw.GHOST! });
  await ghost.start();
  t.teardown(() => ghost.stop());
  await ghost.reading({ temperature: 20 });
  t.equal(broker.stats().refused.ERR_UNKNOWN_DEVICE, 1);
  t.notOk(sink.records.some((m) => m.type === 'telemetry' && m.data.device === 'GHOST'));
});

t.test('flapping connection: status follows, commands still reach the device afterwards', async (t) => {
  const statusOf = () => sink.records.flatMap((m) => (m.type === 'status' && m.data.device === 'B1' && !m.data.state ? [m.data.online] : []));
  const n = statusOf().length;
  await b1.flap({ cycles: 3, downMs: 60, upMs: 60 });
  await waitFor(() => statusOf().length - n >= 6, { what: 'status records' });
  t.same(statusOf().slice(n), [false, true, false, true, false, true]);
  t.ok(gateway.online('B1'));
  const c = cmd('B1', 'raise');
  await gateway.send(c);
  await waitFor(() => readBacks.some((rb) => rb.commandId === c.id), { what: 'read-back after flapping' });
  t.equal(b1.state, 'raised');
});

t.test('the device PUBACK waits for the sink', async (t) => {
  sink.delayMs = 150;
  t.teardown(() => { sink.delayMs = 0; });
  sink.order.length = 0;
  const started = Date.now();
  await w1.fall({ g: 3 }).then(() => sink.order.push('puback'));
  t.same(sink.order, ['durable:wearable.fall', 'puback']);
  t.ok(Date.now() - started >= 140, 'publish took as long as the sink');
});

t.test('a device that connects before gateway.start() still subscribes, is decoded and gets its online record', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gateway-early-'));
  const early = new EdgeBroker({ dataDir: dir, port: 0, logger });
  const earlySink = new RecordingSink();
  const gw = new DeviceGateway({ site: 'S1', edge: 'E1', broker: early, sink: earlySink, devices: [DEVICES[2]!], profiles: await loadProfiles(), logger });
  early.use(gw); // the agent's order: broker first, gateway later
  await early.start();
  const { password } = await early.credentials.provision('FP1');
  const panel = new SimulatedFirePanel({ url: `mqtt://127.0.0.1:${early.port}`, id: 'FP1', password, dialect: 'nova-json' });
  t.teardown(async () => {
    await panel.stop();
    await gw.stop();
    await early.stop();
    await rm(dir, { recursive: true, force: true });
  });
  await panel.start(); // rejects if the command-topic subscription were refused
  await panel.raiseAlarm({ zone: 1, loop: 1, detector: 1, type: 'smoke' });
  t.same(earlySink.events().map((e) => e.kind), ['fire.alarm']);
  await gw.start();
  t.ok(earlySink.records.some((m) => m.type === 'status' && m.data.device === 'FP1' && m.data.online), 'online record caught up');
  const c = cmd('FP1', 'reset');
  const confirmed = new Promise<ReadBack>((resolve) => gw.onReadBack((rb) => rb.commandId === c.id && resolve(rb)));
  await gw.send(c);
  t.equal((await confirmed).ok, true);
});

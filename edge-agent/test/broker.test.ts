import t, { type Test } from 'tap';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import { waitFor } from '@safe-community/testkit';
import { createLogger } from '@safe-community/runtime';
import { EdgeBroker, PublishRefused, CredentialStore, type DeadLetter } from '../src/broker/index.js';

const logger = createLogger({ level: 'silent' });

async function setup(t: Test, opts: Partial<ConstructorParameters<typeof EdgeBroker>[0]> = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), 'edge-broker-'));
  const broker = new EdgeBroker({ dataDir, port: 0, logger, ...opts });
  const published: { device: string; topic: string; payload: string }[] = [];
  let gate: Promise<void> = Promise.resolve();
  const events: string[] = [];
  let failedOnce = false;
  broker.use({
    commandTopics: (id) => [`devices/${id}/cmd`],
    async onDevicePublish(device, topic, payload) {
      const text = payload.toString();
      if (text === 'refuse-me') throw new PublishRefused('ERR_DECODE', 'not a vendor payload');
      if (text === 'fail-me') throw new Error('disk full');
      if (text === 'fail-once' && !failedOnce) {
        failedOnce = true;
        throw new Error('disk full');
      }
      await gate;
      events.push(`durable:${text}`);
      published.push({ device, topic, payload: text });
    },
  });
  await broker.start();
  const clients: MqttClient[] = [];
  t.teardown(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await broker.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  const connect = async (id: string, password: string, extra: IClientOptions = {}): Promise<MqttClient> => {
    const c = mqtt.connect(`mqtt://127.0.0.1:${broker.port}`, { clientId: id, username: id, password, reconnectPeriod: 0, connectTimeout: 3000, ...extra });
    clients.push(c);
    await new Promise<void>((resolve, reject) => {
      c.once('connect', () => resolve());
      c.once('error', reject);
    });
    return c;
  };
  return { broker, dataDir, published, events, connect, setGate: (p: Promise<void>) => { gate = p; } };
}

t.test('provisioned device connects; wrong password and unknown device are refused and recorded', async (t) => {
  const { broker, connect, dataDir } = await setup(t);
  const { password } = await broker.credentials.provision('G1');
  t.match(password, /^[A-Za-z0-9_-]{20,}$/);
  // Concurrent provisioning must not lose an entry.
  await Promise.all(['C1', 'C2', 'C3', 'C4'].map((id) => broker.credentials.provision(id)));
  const reloaded = new CredentialStore(dataDir);
  await reloaded.load();
  t.same(reloaded.list(), ['C1', 'C2', 'C3', 'C4', 'G1']);
  const stored = await readFile(broker.credentials.file, 'utf8');
  t.notOk(stored.includes(password), 'password is not stored in clear');
  await connect('G1', password);
  t.ok(broker.isOnline('G1'));
  await t.rejects(connect('G1', 'wrong'), /Bad username or password|bad user name/i);
  await t.rejects(connect('G9', password), /Bad username or password|bad user name/i);
  t.equal(broker.stats().refused.ERR_AUTH, 2);
  const log = await readFile(broker.deadLetters.file, 'utf8');
  t.notOk(log.includes(password), 'dead-letter record holds no password');
});

t.test('retained status: online on connect, offline on disconnect', async (t) => {
  const { broker, connect } = await setup(t);
  const { password } = await broker.credentials.provision('FP1');
  const seen: string[] = [];
  const unsub = await broker.subscribe('devices/FP1/status', (_topic, p) => seen.push(p.toString()));
  const changes: boolean[] = [];
  broker.onDeviceStatus((_id, online) => changes.push(online));
  const c = await connect('FP1', password);
  await waitFor(() => seen.includes('online'), { what: 'online status' });
  await c.endAsync();
  await waitFor(() => seen.at(-1) === 'offline', { what: 'offline status' });
  t.same(changes, [true, false]);
  await unsub();
  // A late subscriber gets the retained offline.
  const { password: p2 } = await broker.credentials.provision('WATCH');
  const w = await connect('WATCH', p2);
  t.equal(broker.isOnline('FP1'), false);
  t.ok(w.connected);
});

t.test('ACL: publish outside own prefix closes the connection; foreign command subscription gets SUBACK failure', async (t) => {
  const { broker, connect, published } = await setup(t);
  const a = await broker.credentials.provision('G1');
  const b = await broker.credentials.provision('G2');
  const g1 = await connect('G1', a.password);
  await connect('G2', b.password);

  // MQTT.js turns SUBACK 0x80 into an error carrying the packet.
  const refused = await g1.subscribeAsync('devices/G2/cmd', { qos: 1 }).then(() => null, (err: unknown) => err as { packet?: { granted?: number[] } });
  t.same(refused?.packet?.granted, [128], 'subscription to another device\'s commands refused');
  t.ok(g1.connected, 'a refused subscription does not close the connection');
  const own = await g1.subscribeAsync('devices/G1/cmd', { qos: 1 });
  t.equal(own[0]?.qos, 1, 'own command topic granted');

  const closed = new Promise<void>((resolve) => g1.once('close', () => resolve()));
  g1.publish('devices/G2/evt', 'spoof', { qos: 1 });
  await closed;
  t.equal(broker.stats().refused.ERR_ACL_PUBLISH, 1);
  t.equal(broker.stats().refused.ERR_ACL_SUBSCRIBE, 1);
  t.equal(published.length, 0, 'spoofed message never reached the hook');
});

t.test('device may not publish its own status topic', async (t) => {
  const { broker, connect } = await setup(t);
  const a = await broker.credentials.provision('G1');
  const g1 = await connect('G1', a.password);
  const closed = new Promise<void>((resolve) => g1.once('close', () => resolve()));
  g1.publish('devices/G1/status', 'online', { qos: 1, retain: true });
  await closed;
  t.equal(broker.stats().refused.ERR_ACL_PUBLISH, 1);
});

t.test('PUBACK is sent only after onDevicePublish resolved', async (t) => {
  const { broker, connect, events, setGate } = await setup(t);
  const a = await broker.credentials.provision('FP1');
  const c = await connect('FP1', a.password);
  let release!: () => void;
  setGate(new Promise<void>((r) => { release = r; }));
  const acked = c.publishAsync('devices/FP1/evt', 'alarm-1', { qos: 1 }).then(() => events.push('puback'));
  // A fixed wait: what follows proves no PUBACK came while the hook held it.
  await new Promise((r) => setTimeout(r, 150));
  t.same(events, [], 'no PUBACK while the hook is pending');
  release();
  await acked;
  t.same(events, ['durable:alarm-1', 'puback']);
});

t.test('a hook failure withholds PUBACK and the device resends after reconnecting', async (t) => {
  const { broker, connect, published } = await setup(t);
  const a = await broker.credentials.provision('FP1');
  // Automatic reconnect: MQTT.js resends in-flight QoS 1 messages when it reconnects by itself.
  const c = await connect('FP1', a.password, { clean: false, reconnectPeriod: 100 });
  const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
  let acked = false;
  const delivered = new Promise<void>((resolve) => c.publish('devices/FP1/evt', 'fail-once', { qos: 1 }, () => { acked = true; resolve(); }));
  await closed;
  t.equal(acked, false, 'no PUBACK while the message is not durable');
  t.equal(broker.stats().hookFailures, 1);
  await Promise.race([delivered, new Promise((_, reject) => setTimeout(() => reject(new Error('not resent')), 5000))]);
  t.same(published.map((p) => p.payload), ['fail-once'], 'the resent message is stored once');
});

t.test('a rate-exempt device (a fire panel in an alarm storm) is never refused; others still are', async (t) => {
  const clock = { now: () => 1_000_000, setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };
  const { broker, connect, published } = await setup(t, { rateLimit: { perSecond: 1, burst: 3 }, rateLimitExempt: (id) => id === 'FP1', clock });
  const refused: string[] = [];
  broker.deadLetters.onRecord((r) => refused.push(`${r.device}:${r.reason}`));
  const panel = await connect('FP1', (await broker.credentials.provision('FP1')).password);
  const sensor = await connect('S1', (await broker.credentials.provision('S1')).password);
  for (let i = 0; i < 20; i++) await panel.publishAsync('devices/FP1/tele', `detector-${i}`, { qos: 1 });
  for (let i = 0; i < 5; i++) await sensor.publishAsync('devices/S1/tele', `reading-${i}`, { qos: 1 });
  t.equal(published.filter((p) => p.device === 'FP1').length, 20, 'all 20 panel messages delivered at a frozen clock');
  t.equal(published.filter((p) => p.device === 'S1').length, 3, 'the sensor gets its burst of 3');
  t.same(refused, ['S1:ERR_RATE_LIMITED', 'S1:ERR_RATE_LIMITED'], 'only the sensor is refused');
});

t.test('oversize, rate-limited and refused payloads are acknowledged, dropped and recorded; valid traffic continues', async (t) => {
  let now = 1_000_000;
  const clock = { now: () => now, setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };
  const { broker, connect, published } = await setup(t, { maxPayloadBytes: 100, rateLimit: { perSecond: 10, burst: 5 }, clock });
  const records: DeadLetter[] = [];
  broker.deadLetters.onRecord((r) => records.push(r));
  const a = await broker.credentials.provision('E1');
  const c = await connect('E1', a.password);
  const tap: string[] = [];
  await broker.subscribe('#', (topic) => tap.push(topic));

  await c.publishAsync('devices/E1/tele', 'x'.repeat(101), { qos: 1 });
  await c.publishAsync('devices/E1/tele', 'refuse-me', { qos: 1 });
  await c.publishAsync('devices/E1/tele', 'ok-1', { qos: 1 });
  for (let i = 0; i < 5; i++) await c.publishAsync('devices/E1/tele', `burst-${i}`, { qos: 1 });
  now += 1000; // refills the bucket
  await c.publishAsync('devices/E1/tele', 'ok-2', { qos: 1 });

  const reasons = records.map((r) => r.reason);
  t.same(reasons.filter((r) => r === 'ERR_PAYLOAD_TOO_LARGE').length, 1);
  t.same(reasons.filter((r) => r === 'ERR_DECODE').length, 1);
  // Burst of 5: refuse-me, ok-1 and burst-0..2 take the tokens (the oversize one was refused before the
  // bucket), so burst-3 and burst-4 are over the rate; a second later the bucket has refilled.
  t.equal(reasons.filter((r) => r === 'ERR_RATE_LIMITED').length, 2, 'rate limit hit twice');
  t.same(published.map((p) => p.payload).filter((p) => p.startsWith('burst')), ['burst-0', 'burst-1', 'burst-2']);
  t.ok(published.some((p) => p.payload === 'ok-1'));
  t.ok(published.some((p) => p.payload === 'ok-2'), 'valid traffic continues after refusals');
  t.ok(c.connected, 'client stayed connected');
  t.notOk(tap.some((topic) => topic.startsWith('$refused')), 'refused packets reach no subscriber');
  const lines = (await readFile(broker.deadLetters.file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as DeadLetter);
  t.equal(lines.length, records.length, 'every refusal is in the JSON-lines file');
  t.equal(lines[0]?.bytes, 101);
});

t.test('agent publishes commands in process; the device receives them on its command topic', async (t) => {
  const { broker, connect } = await setup(t);
  const a = await broker.credentials.provision('G1');
  const g1 = await connect('G1', a.password);
  await g1.subscribeAsync('devices/G1/cmd', { qos: 1 });
  const got = new Promise<string>((resolve) => g1.once('message', (_topic, p) => resolve(p.toString())));
  await broker.publish('devices/G1/cmd', '{"op":"HOLD"}');
  t.equal(await got, '{"op":"HOLD"}');

  // The agent's MQTT identity is privileged.
  const creds = broker.agentCredentials;
  const agent = await connect(`${creds.clientIdPrefix}-1`, creds.password, { username: creds.username });
  const sub = await agent.subscribeAsync('devices/#', { qos: 1 });
  t.equal(sub[0]?.qos, 1);
});

t.test('TLS listener: a device connects over TLS with its credentials', async (t) => {
  const { execFileSync } = await import('node:child_process');
  const certDir = await mkdtemp(join(tmpdir(), 'edge-tls-'));
  t.teardown(() => rm(certDir, { recursive: true, force: true }));
  const keyPath = join(certDir, 'key.pem');
  const certPath = join(certDir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
  const { broker } = await setup(t, { tls: { port: 0, keyPath, certPath } });
  t.ok(broker.tlsPort > 0 && broker.tlsPort !== broker.port);
  const { password } = await broker.credentials.provision('G1');
  const c = mqtt.connect(`mqtts://127.0.0.1:${broker.tlsPort}`, { clientId: 'G1', username: 'G1', password, reconnectPeriod: 0, ca: await readFile(certPath), rejectUnauthorized: false });
  t.teardown(() => c.endAsync(true));
  await new Promise<void>((resolve, reject) => { c.once('connect', () => resolve()); c.once('error', reject); });
  await c.publishAsync('devices/G1/evt', 'over-tls', { qos: 1 });
  t.ok(broker.isOnline('G1'));
  t.equal(broker.stats().accepted, 1);
});

t.test('garbage on the socket and a dead hook never stop the broker', async (t) => {
  const { createConnection } = await import('node:net');
  const { broker, connect, published, setGate } = await setup(t, { hookTimeoutMs: 100 });
  const a = await broker.credentials.provision('G1');
  // A hook that never resolves: the PUBACK is withheld, the connection closed after the timeout.
  setGate(new Promise<void>(() => undefined));
  const stuck = await connect('G1', a.password);
  const closed = new Promise<void>((resolve) => stuck.once('close', () => resolve()));
  stuck.publish('devices/G1/evt', 'stuck', { qos: 1 });
  await closed;
  t.equal(broker.stats().hookFailures, 1, 'hook timeout counted');
  setGate(Promise.resolve());
  for (const junk of [Buffer.from('GET / HTTP/1.1\r\n\r\n'), Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f]), Buffer.alloc(4096, 0x30)]) {
    const s = createConnection(broker.port, '127.0.0.1');
    await new Promise<void>((resolve) => {
      s.on('error', () => resolve()); // the broker may reset the socket; that is the point
      s.on('close', () => resolve());
      s.write(junk, () => setTimeout(() => s.destroy(), 50));
    });
  }
  const c = await connect('G1', a.password);
  await c.publishAsync('devices/G1/evt', 'still-alive', { qos: 1 });
  t.ok(published.some((p) => p.payload === 'still-alive'), 'valid traffic after protocol garbage');
});

t.test('persistence: retained status and a command queued for an offline device survive a broker restart', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'edge-persist-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const first = new EdgeBroker({ dataDir, port: 0, logger });
  await first.start();
  const { password } = await first.credentials.provision('G1');
  const opts = { clientId: 'G1', username: 'G1', password, clean: false, reconnectPeriod: 0 };
  const g1 = mqtt.connect(`mqtt://127.0.0.1:${first.port}`, opts);
  await new Promise<void>((resolve, reject) => { g1.once('connect', () => resolve()); g1.once('error', reject); });
  await g1.subscribeAsync('devices/G1/cmd', { qos: 1 });
  await g1.endAsync();
  await waitFor(() => !first.isOnline('G1'), { what: 'G1 offline' });
  await first.publish('devices/G1/cmd', 'HOLD_OPEN-while-offline', { qos: 1 });
  await first.stop();

  const second = new EdgeBroker({ dataDir, port: 0, logger });
  await second.start();
  t.teardown(() => second.stop());
  const again = mqtt.connect(`mqtt://127.0.0.1:${second.port}`, opts);
  t.teardown(() => again.endAsync(true));
  const got = new Promise<string>((resolve) => again.on('message', (_topic, p) => resolve(p.toString())));
  await new Promise<void>((resolve, reject) => { again.once('connect', () => resolve()); again.once('error', reject); });
  t.equal(await got, 'HOLD_OPEN-while-offline', 'queued command delivered after the restart');

  const statuses: string[] = [];
  await second.subscribe('devices/+/status', (_topic, p) => statuses.push(p.toString()));
  await waitFor(() => statuses.includes('online'), { what: 'online status' });
});

t.test('a burst reaches the hook at once and in order; PUBACKs keep the order even when hooks finish out of order', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'edge-burst-'));
  const broker = new EdgeBroker({ dataDir, port: 0, logger, persistence: 'memory' });
  const started: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  broker.use({
    commandTopics: () => [],
    async onDevicePublish(_device, _topic, payload) {
      started.push(payload.toString());
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      // Later messages finish first.
      await new Promise((r) => setTimeout(r, 60 - Number(payload.toString()) * 2));
      inFlight--;
    },
  });
  await broker.start();
  const { password } = await broker.credentials.provision('E1');
  const c = mqtt.connect(`mqtt://127.0.0.1:${broker.port}`, { clientId: 'E1', username: 'E1', password, reconnectPeriod: 0 });
  t.teardown(async () => {
    await c.endAsync(true);
    await broker.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  await new Promise<void>((resolve, reject) => { c.once('connect', () => resolve()); c.once('error', reject); });
  const acked: string[] = [];
  const sent = Array.from({ length: 20 }, (_, i) => String(i));
  await Promise.all(sent.map((n) => c.publishAsync('devices/E1/evt', n, { qos: 1 }).then(() => acked.push(n))));
  t.same(started, sent, 'hooks called in arrival order');
  t.ok(maxInFlight > 1, `hooks overlap (${maxInFlight} at once), so a durable sink can commit them together`);
  t.same(acked, sent, 'PUBACKs in arrival order');
});

/**
 * Issue 13, edge broker before login: oversized packets are refused on their header, unknown ids cost no
 * hash, reconnects use the cached verifier, a source over its connect rate is refused at once, the hash
 * queue is bounded, drops attempts whose socket has gone, and serves life-safety devices first.
 */
import t, { type Test } from 'tap';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor, rawConnect, openSocket, remainingLength, connectPacket } from '@safe-community/testkit';
import mqtt from 'mqtt';
import { createLogger } from '@safe-community/runtime';
import { EdgeBroker, type EdgeBrokerOptions } from '../src/broker/index.js';

const logger = createLogger({ level: 'silent' });

async function setup(t: Test, opts: Partial<EdgeBrokerOptions> = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), 'edge-preauth-'));
  const broker = new EdgeBroker({ dataDir, port: 0, logger, persistence: 'memory', ...opts });
  broker.use({ commandTopics: (id) => [`devices/${id}/cmd`], onDevicePublish: async () => {} });
  await broker.start();
  t.teardown(async () => {
    await broker.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  return broker;
}

t.test('a CONNECT announcing 150 MiB is refused on its header, before its body is read', async (t) => {
  const broker = await setup(t, { maxPacketBytes: 256 * 1024 });
  const s = await openSocket(broker.port);
  const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
  s.on('error', () => undefined);
  const size = 150 * 1024 * 1024;
  s.write(Buffer.concat([Buffer.from([0x10]), remainingLength(size)]));
  // Keep streaming body bytes until the broker hangs up; it must do so long before 150 MiB.
  let sent = 0;
  const chunk = Buffer.alloc(64 * 1024, 0x41);
  let open = true;
  void closed.then(() => { open = false; });
  while (open && sent < 8 * 1024 * 1024) {
    if (!s.write(chunk)) await new Promise((r) => setTimeout(r, 5));
    sent += chunk.length;
    await new Promise((r) => setImmediate(r));
  }
  await closed;
  t.ok(sent < 8 * 1024 * 1024, `connection closed after ${sent} bytes`);
  await waitFor(() => broker.stats().refused.ERR_PACKET_TOO_LARGE === 1, { what: 'dead letter' });
  const log = await readFile(broker.deadLetters.file, 'utf8');
  t.match(log, /ERR_PACKET_TOO_LARGE/);
  // A packet header split across reads is still counted right: a normal device connects afterwards.
  const { password } = await broker.credentials.provision('G1');
  t.equal(await rawConnect(broker.port, 'G1', password), 0);
});

t.test('the packet limit also holds after login, and never cuts a payload the payload limit accepts', async (t) => {
  const broker = await setup(t, { maxPacketBytes: 1024, maxPayloadBytes: 8 * 1024 });
  const { password } = await broker.credentials.provision('G1');
  const s = await openSocket(broker.port);
  s.on('error', () => undefined);
  s.resume(); // read the CONNACK, or the socket never sees the broker's close
  const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
  s.write(connectPacket('G1', 'G1', password));
  await waitFor(() => broker.isOnline('G1'), { what: 'G1 online' });
  // A PUBLISH of 6 KiB fits the payload limit (8 KiB), so the effective packet limit is raised to 12 KiB.
  const topic = Buffer.from('devices/G1/evt');
  const payload = Buffer.alloc(6 * 1024, 0x7b);
  const small = Buffer.concat([Buffer.from([topic.length >> 8, topic.length & 0xff]), topic, payload]);
  s.write(Buffer.concat([Buffer.from([0x30]), remainingLength(small.length), small]));
  // A fixed wait: what follows proves the broker did not drop the client for it.
  await new Promise((r) => setTimeout(r, 50));
  t.ok(broker.isOnline('G1'), 'a payload under the payload limit passes');
  s.write(Buffer.concat([Buffer.from([0x30]), remainingLength(20 * 1024 * 1024)]));
  await closed;
  t.equal(broker.stats().refused.ERR_PACKET_TOO_LARGE, 1);
});

t.test('unknown ids are refused without a hash; a reconnecting device uses the cached verifier', async (t) => {
  const broker = await setup(t, { auth: { perSource: false } });
  const { password } = await broker.credentials.provision('G1');
  const codes = await Promise.all(Array.from({ length: 40 }, (_, i) => rawConnect(broker.port, `bogus-${i}`, 'x'.repeat(24))));
  t.same(new Set(codes), new Set([4]), 'all refused with bad credentials');
  t.equal(broker.stats().auth?.hashed, 0, 'no hash for an id that is not provisioned');
  t.equal(await rawConnect(broker.port, 'G1', password), 0);
  t.equal(broker.stats().auth?.hashed, 1, 'the first login of a device is hashed');
  for (let i = 0; i < 3; i++) t.equal(await rawConnect(broker.port, 'G1', password), 0);
  t.equal(await rawConnect(broker.port, 'G1', 'wrong-password-xxxxxxx'), 4, 'wrong password still refused');
  t.equal(broker.stats().auth?.hashed, 1, 'reconnects and a wrong password for a cached device cost no hash');
  // Re-provisioning forgets the cached verifier: the old password no longer works.
  const fresh = await broker.credentials.provision('G1');
  t.equal(await rawConnect(broker.port, 'G1', password), 4);
  t.equal(await rawConnect(broker.port, 'G1', fresh.password), 0);
});

t.test('a source over its connect rate is refused at once; other sources are not affected', async (t) => {
  const broker = await setup(t, { auth: { perSource: { perSecond: 0.01, burst: 3 } } });
  const { password } = await broker.credentials.provision('G1');
  const codes: Array<number | 'closed'> = [];
  for (let i = 0; i < 5; i++) codes.push(await rawConnect(broker.port, `x${i}`, 'nope', { localAddress: '127.0.0.2' }));
  t.same(codes, [4, 4, 4, 3, 3], 'past the burst: CONNACK 3 (server unavailable)');
  t.equal(broker.stats().refused.ERR_CONNECT_RATE, 2);
  t.equal(broker.stats().auth?.rateLimited, 2);
  t.equal(await rawConnect(broker.port, 'G1', password, { localAddress: '127.0.0.3' }), 0, 'another address connects');
});

t.test('hash queue: bounded, drops attempts whose socket has gone, serves life-safety devices first', async (t) => {
  const broker = await setup(t, { auth: { perSource: false, concurrency: 1, maxQueue: 6 }, authPriority: (id) => id.startsWith('FP') });
  const ids = Array.from({ length: 12 }, (_, i) => `D${i}`);
  const creds = new Map<string, string>();
  for (const id of [...ids, 'FP1']) creds.set(id, (await broker.credentials.provision(id)).password);

  // Sockets that send a CONNECT for a provisioned (not yet cached) id and leave at once.
  for (const id of ids.slice(0, 4)) {
    const s = await openSocket(broker.port);
    s.on('error', () => undefined);
    s.end(connectPacket(id, id, 'wrong-but-plausible-xxxx'));
  }
  await waitFor(() => (broker.stats().auth?.gone ?? 0) + (broker.stats().auth?.hashed ?? 0) >= 4, { what: 'abandoned attempts settled' });
  t.ok((broker.stats().auth?.gone ?? 0) >= 1, `abandoned attempts dropped unhashed (gone=${broker.stats().auth?.gone})`);

  // Eight normal devices and then a fire panel at once: the panel overtakes those still queued, and the
  // queue's bound refuses what does not fit.
  const order: string[] = [];
  const attempts = ids.slice(4).map((id) => rawConnect(broker.port, id, creds.get(id)!).then((c) => { order.push(id); return c; }));
  await waitFor(() => broker.stats().auth!.queued >= 5, { what: 'queue filled' });
  const panel = rawConnect(broker.port, 'FP1', creds.get('FP1')!).then((c) => { order.push('FP1'); return c; });
  const codes = await Promise.all([...attempts, panel]);
  t.equal(codes.at(-1), 0, 'fire panel connected');
  t.ok(order.indexOf('FP1') < 4, `fire panel served early (position ${order.indexOf('FP1')} of ${order.length})`);
  t.ok(codes.includes(3), 'queue past its bound answers server unavailable');
  t.ok((broker.stats().refused.ERR_AUTH_BUSY ?? 0) >= 1);
});

t.test('a device publishing to a $ topic is closed, dead-lettered and counted', async (t) => {
  const broker = await setup(t);
  const { password } = await broker.credentials.provision('G1');
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { clientId: 'G1', username: 'G1', password, reconnectPeriod: 0 });
  t.teardown(() => c.endAsync(true));
  const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
  c.publish('$SYS/broker/spoof', 'x', { qos: 1 });
  await closed;
  t.equal(broker.stats().refused.ERR_RESERVED_TOPIC, 1);
  const log = await readFile(broker.deadLetters.file, 'utf8');
  t.match(log, /"reason":"ERR_RESERVED_TOPIC".*"device":"G1"/);
});

/**
 * The uplink against a real (in-process Aedes) broker and a test cloud that acks like the real one:
 * every seq must arrive exactly once in order after dedupe by the cloud's high-water mark, and the outbox
 * must drain to depth 0, also when the cloud withholds acks, drops a batch, or restarts.
 */
import t, { type Test } from 'tap';
import { randomUUID } from 'node:crypto';
import { freePort, startParts, tempDir, waitFor } from '@safe-community/testkit';
import { createLogger } from '@safe-community/runtime';
import type { Command } from '@safe-community/contracts';
import { Outbox } from '../src/outbox/index.js';
import { Uplink, type UplinkOptions } from '../src/uplink/index.js';
import type { OutboxInput } from '../src/ports.js';
import { TestCloud, cloudRig, doorForced, exactlyOnceInOrder } from './uplink-fixtures.js';

const EDGE = 'edge-up1';
const SITE = 'site-1';
const log = createLogger({ level: 'silent' });

const event = (i: number) => doorForced(EDGE, SITE, i);
const telemetry = (i: number): OutboxInput => ({
  type: 'telemetry',
  data: { site: SITE, edge: EDGE, device: 'env-1', metric: 'temp', value: i, time: new Date(1_700_000_000_000 + i).toISOString() },
});

async function rig(t: Test, over: Partial<UplinkOptions> = {}) {
  const { dir, broker, cloud } = await cloudRig(t, 'uplink-');
  const [outbox] = await startParts(t, new Outbox({ dir, edge: EDGE, site: SITE, logger: log }));
  const commands: Command[] = [];
  const uplink = new Uplink({
    url: broker.url, edge: EDGE, site: SITE, source: outbox, logger: log,
    maxBatchMessages: 200, window: 4, ackTimeoutMs: 400,
    backoff: { initialMs: 20, maxMs: 200, jitter: 0.5 },
    onCommand: (c) => void commands.push(c),
    ...over,
  });
  t.teardown(() => uplink.stop());
  return { dir, broker, cloud, outbox, uplink, commands };
}

async function appendMany(outbox: Outbox, from: number, n: number): Promise<number[]> {
  const ps: Promise<number>[] = [];
  for (let i = from; i < from + n; i++) ps.push(outbox.append(i % 3 === 0 ? event(i) : telemetry(i)));
  return Promise.all(ps);
}

t.test('delivers every record once, in order, and drains the outbox', async (t) => {
  // A long ack timeout: on a loaded machine a spurious resend would make "no resends" fail for no fault.
  const { cloud, outbox, uplink } = await rig(t, { ackTimeoutMs: 10_000 });
  await uplink.start();
  await appendMany(outbox, 0, 3000);
  await waitFor(() => outbox.stats().depth === 0, { what: 'outbox drained' });
  t.ok(exactlyOnceInOrder(cloud.state.committed, 3000), 'seqs 1..3000 exactly once in order');
  t.equal(cloud.state.duplicates, 0, 'no resends needed');
  t.equal(cloud.invalid, 0, 'every envelope matches the contract');
  const m = uplink.metrics();
  t.equal(m.connected, true);
  t.equal(m.ackedSeq, 3000);
  t.ok(m.lagMs >= 0, 'lag measured');
  const stored = cloud.state.messages.get(4) as { type: string; data: { edgeTime: string } };
  t.equal(stored.type, 'event', 'seq 4 is the event appended fourth');
  t.equal(stored.data.edgeTime, new Date(1_700_000_000_003).toISOString(), 'original timestamp kept');
});

t.test('resends after withheld acks; the cloud dedupes', async (t) => {
  const { cloud, outbox, uplink } = await rig(t);
  cloud.withholdAcks = true;
  await uplink.start();
  await appendMany(outbox, 0, 1000);
  await waitFor(() => uplink.metrics().goBacks >= 3, { what: 'ack timeouts' });
  t.equal(outbox.stats().ackedSeq, 0, 'no ack, no advance (PUBACK does not count)');
  const goBacks = uplink.metrics().goBacks;
  t.ok(cloud.state.batches <= 4 + goBacks, `after a timeout only one batch probes (${cloud.state.batches} batches, ${goBacks} go-backs)`);
  cloud.withholdAcks = false;
  await waitFor(() => outbox.stats().depth === 0, { what: 'outbox drained' });
  t.ok(exactlyOnceInOrder(cloud.state.committed, 1000), 'exactly once after dedupe');
  t.ok(cloud.state.duplicates > 0, 'the cloud saw and skipped resends');
});

t.test('a dropped batch makes the cloud refuse the next; go-back-N fills the gap', async (t) => {
  const { cloud, outbox, uplink } = await rig(t, { ackTimeoutMs: 5000 });
  await uplink.start();
  await appendMany(outbox, 0, 200);
  await waitFor(() => outbox.stats().depth === 0, { what: 'first part drained' });
  cloud.dropBatches = 1;
  await appendMany(outbox, 200, 1800);
  await waitFor(() => outbox.stats().depth === 0, { what: 'outbox drained', timeoutMs: 4000 });
  t.ok(exactlyOnceInOrder(cloud.state.committed, 2000), 'exactly once in order');
  t.ok(cloud.state.refused > 0, 'the cloud refused a batch with a gap');
  t.ok(uplink.metrics().goBacks > 0, 'the uplink went back (before the 5 s ack timeout)');
});

t.test('a cloud restart mid-stream loses nothing', async (t) => {
  const { broker, cloud, outbox, uplink } = await rig(t);
  await uplink.start();
  const writing = appendMany(outbox, 0, 4000);
  await waitFor(() => cloud.state.upTo > 500, { what: 'some delivered' });
  await cloud.stop();
  await new Promise((r) => setTimeout(r, 300)); // the cloud stays away a while: batches go unacked
  const cloud2 = new TestCloud(broker.url, cloud.state);
  await cloud2.start();
  t.teardown(() => cloud2.stop());
  await writing;
  await waitFor(() => outbox.stats().depth === 0, { what: 'outbox drained' });
  t.ok(exactlyOnceInOrder(cloud.state.committed, 4000), 'exactly once in order across the restart');
});

t.test('commands come down; invalid down messages are counted, not acted on', async (t) => {
  const { cloud, uplink, commands } = await rig(t);
  await uplink.start();
  await waitFor(() => uplink.metrics().connected, { what: 'connected' });
  const command: Command = {
    id: randomUUID(), site: SITE, edge: EDGE, device: 'gate-1', action: 'hold_open', params: {},
    issuedAt: new Date().toISOString(), issuedBy: 'user:42',
  };
  await cloud.sendDown(EDGE, { v: 1, type: 'command', command });
  await cloud.sendDown(EDGE, { v: 1, type: 'command', command: { ...command, action: 'Bad Action' } });
  await cloud.sendDown(EDGE, { v: 1, type: 'ack', edge: 'another-edge', upTo: 5 });
  await waitFor(() => uplink.metrics().invalidDown === 2, { what: 'invalid counted' });
  await waitFor(() => commands.length === 1, { what: 'command delivered' });
  t.same(commands[0], command);
  t.equal(uplink.metrics().commands, 1);
  t.equal(uplink.metrics().ackedSeq, 0, 'an ack for another edge is ignored');
  // An ack far beyond anything this edge sent (issue 12): ignored, counted, never advancing the outbox.
  await cloud.sendDown(EDGE, { v: 1, type: 'ack', edge: EDGE, upTo: 50 });
  await waitFor(() => uplink.metrics().ackInvalid === 1, { what: 'invalid ack detected' });
  t.equal(uplink.metrics().ackedSeq, 0, 'the send point stays where the real acks left it');
});

t.test('reconnects follow the Backoff on the injected clock, not MQTT.js\'s fixed period', async (t) => {
  const [outbox] = await startParts(t, new Outbox({ dir: await tempDir(t, 'uplink-bo-'), edge: EDGE, site: SITE, logger: log }));
  const delays: number[] = [];
  // Records the delays asked for and runs them at once, so the test does not wait for real time.
  const clock = {
    now: () => Date.now(),
    setTimeout: (fn: () => void, ms: number) => {
      if (ms >= 100) delays.push(ms);
      return setTimeout(fn, ms >= 100 ? 1 : ms);
    },
    clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout),
  };
  const port = await freePort(); // nothing listens here
  const uplink = new Uplink({
    url: `mqtt://127.0.0.1:${port}`, edge: EDGE, site: SITE, source: outbox, logger: log, clock,
    backoff: { initialMs: 100, maxMs: 400, jitter: 0 }, ackTimeoutMs: 50,
  });
  t.teardown(() => uplink.stop());
  await uplink.start();
  await waitFor(() => delays.length >= 5, { what: 'five reconnect attempts' });
  t.same(delays.slice(0, 5), [100, 200, 400, 400, 400], 'exponential, capped');
  t.equal(uplink.metrics().connected, false);
});

t.test('an edge id that cannot be a topic level fails start()', async (t) => {
  const outbox = new Outbox({ dir: await tempDir(t, 'uplink-id-'), edge: EDGE, site: SITE, logger: log });
  const uplink = new Uplink({ url: 'mqtt://127.0.0.1:1', edge: 'bad/edge', site: SITE, source: outbox, logger: log });
  await t.rejects(uplink.start(), { code: 'ERR_TOPIC_ID' });
  t.equal(uplink.metrics().connected, false);
});

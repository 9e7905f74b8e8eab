/**
 * Outbox and uplink benchmark (issue 4): durable appends/s under group commit at several concurrencies,
 * raw replay (read) speed of the backlog, and a 1M-message backlog built while the cloud broker is down
 * ("outage"), the edge restarted (recovery timed), then drained through the uplink to an in-process Aedes broker and an acking test cloud,
 * counting lost and doubled seqs; then a live phase where 1 in 20 batches is lost. Run: `npx tsx bench/outbox.ts [messages]` (default 1 000 000).
 *
 * Every append counted is durable: it resolved after the fdatasync of its write batch (default policy).
 * The test cloud parses every envelope and dedupes by its high-water mark as the real ingest does, but
 * does not validate schemas or write a database, so the drain figure is the edge's side of the pipe.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import mqtt from 'mqtt';
import { edgeDownTopic, envelopeRecords, uplinkSubscription, type AnyEnvelope } from '@safe-community/contracts';
import { createLogger } from '@safe-community/runtime';
import { freePort, startAedes } from '@safe-community/testkit';
import { Outbox, Uplink, type OutboxInput } from '@safe-community/edge-agent';

const N = Number(process.argv[2] ?? 1_000_000);
const EDGE = 'edge-bench';
const SITE = 'site-bench';
const log = createLogger({ level: 'silent' });
const T0 = Date.parse('2026-11-29T00:00:00.000Z');

/** 9 telemetry points to 1 event, the mix of a building hub. */
function message(i: number): OutboxInput {
  if (i % 10 === 0) {
    return {
      type: 'event',
      data: {
        id: randomUUID(), site: SITE, edge: EDGE, device: `gate-${i % 50}`, kind: 'door.forced', severity: 'major',
        edgeTime: new Date(T0 + i).toISOString(), payload: { i },
      },
    };
  }
  return { type: 'telemetry', data: { site: SITE, edge: EDGE, device: `env-${i % 200}`, metric: 'temp', value: i, time: new Date(T0 + i).toISOString() } };
}

const newOutbox = (dir: string): Outbox =>
  new Outbox({ dir, edge: EDGE, site: SITE, logger: log, capacity: { maxBytes: 4 * 1024 * 1024 * 1024 } });

/** Appends `count` messages from `concurrency` producers, each awaiting its own durable append. */
async function appendRun(outbox: Outbox, count: number, concurrency: number, offset = 0): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await outbox.append(message(offset + next++));
  }));
  return count / ((performance.now() - t0) / 1000);
}

/** The acking cloud: commits a batch that continues its high-water mark, skips duplicates, refuses gaps. */
async function startCloud(url: string, total: number) {
  const stored = new Uint8Array(total + 1);
  // dropEvery > 0: every n-th batch is lost on its way in (neither committed nor acked).
  const st = { upTo: 0, doubled: 0, skipped: 0, refused: 0, misordered: 0, batches: 0, dropEvery: 0, dropped: 0 };
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, clientId: 'bench-cloud' });
  client.on('message', (_topic, payload) => {
    // Both envelope versions: the uplink sends its readings in v2's columnar block.
    const env = JSON.parse(payload.toString('utf8')) as AnyEnvelope;
    const records = envelopeRecords(env);
    st.batches++;
    if (st.dropEvery > 0 && st.batches % st.dropEvery === 0) {
      st.dropped++;
      return;
    }
    if (records[0]!.seq > st.upTo + 1) st.refused++;
    else {
      for (const m of records) {
        if (m.seq <= st.upTo) {
          st.skipped++;
          continue;
        }
        st.upTo = m.seq;
        if (stored[m.seq]) st.doubled++;
        stored[m.seq] = 1;
        // The i-th append must hold seq i + 1: order and identity survive the outage.
        const i = m.type === 'event' ? (m.data.payload as { i: number }).i : m.type === 'telemetry' ? m.data.value : -1;
        if (i !== m.seq - 1) st.misordered++;
      }
    }
    client.publish(edgeDownTopic(env.edge), JSON.stringify({ v: 1, type: 'ack', edge: env.edge, upTo: st.upTo }), { qos: 1 });
  });
  await client.subscribeAsync(uplinkSubscription(), { qos: 1 });
  return {
    st,
    lost: () => {
      let lost = 0;
      for (let s = 1; s <= total; s++) if (!stored[s]) lost++;
      return lost;
    },
    stop: () => client.endAsync(true),
  };
}

const rows: [string, string][] = [];
const row = (k: string, v: string) => {
  rows.push([k, v]);
  process.stderr.write(`${k}: ${v}\n`);
};
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

// 1. Group commit: durable appends/s at three concurrencies (fresh outbox each).
const byConcurrency: Record<string, number> = {};
for (const [c, count] of [[1, 3_000], [64, 100_000], [1024, 200_000]] as const) {
  const dir = await mkdtemp(join(tmpdir(), 'bench-outbox-'));
  const o = newOutbox(dir);
  await o.start();
  const rate = await appendRun(o, count, c);
  const writes = o.stats().writes;
  await o.stop();
  await rm(dir, { recursive: true, force: true });
  byConcurrency[c] = rate;
  row(`durable appends/s, ${c} in flight (${fmt(count)} msgs, ${fmt(count / writes)} per fsync)`, fmt(rate));
}

// 2. Outage: the uplink runs against a port with no broker while the 1M backlog is appended.
const dir = await mkdtemp(join(tmpdir(), 'bench-outbox-'));
let outbox = newOutbox(dir);
await outbox.start();
const port = await freePort();
const url = `mqtt://127.0.0.1:${port}`;
const newUplink = (source: Outbox) => new Uplink({
  url, edge: EDGE, site: SITE, source, logger: log, maxBatchMessages: 2000, maxBatchBytes: 1024 * 1024,
  window: 8, ackTimeoutMs: 3000, backoff: { initialMs: 50, maxMs: 500, jitter: 0.5 },
});
let uplink = newUplink(outbox);
await uplink.start();
const backlogRate = await appendRun(outbox, N, 1024);
row(`durable appends/s, 1024 in flight, ${fmt(N)}-message backlog`, fmt(backlogRate));
row('backlog on disk (MiB)', (outbox.stats().bytes / 1048576).toFixed(1));

// 3. The edge restarts during the outage: recovery scans every record of the backlog (length, CRC, seqs).
await uplink.stop();
await outbox.stop();
let t0 = performance.now();
outbox = newOutbox(dir);
await outbox.start();
const recoveryMs = performance.now() - t0;
row(`restart: recovery of the ${fmt(N)}-message backlog (ms)`, fmt(recoveryMs));
// A full collection first, so the figure is what the open backlog holds, not garbage from the appends.
v8.setFlagsFromString('--expose-gc');
(runInNewContext('gc') as () => void)();
const heapMiB = process.memoryUsage().heapUsed / 1048576;
row('heap after GC with the backlog open (MiB; sparse index, records stay on disk)', heapMiB.toFixed(1));
if (outbox.stats().depth !== N) throw new Error(`backlog after restart is ${outbox.stats().depth}, not ${N}`);

// Raw replay: reading the whole backlog back in uplink-sized batches (reads never change state).
t0 = performance.now();
let read = 0;
for (let next = 1; ;) {
  const recs = await outbox.readFrom(next, 2000, 1024 * 1024);
  if (recs.length === 0) break;
  read += recs.length;
  next = recs.at(-1)!.seq + 1;
}
const readRate = read / ((performance.now() - t0) / 1000);
row('backlog read back (records/s)', fmt(readRate));
uplink = newUplink(outbox);
await uplink.start();

// 4. The broker comes back: drain through the uplink to the acking cloud.
const broker = await startAedes(port);
const FAULTY = Math.max(1000, Math.round(N / 5));
const cloud = await startCloud(url, N + FAULTY);
t0 = performance.now();
while (outbox.stats().depth > 0) await new Promise((r) => setTimeout(r, 20));
const drainS = (performance.now() - t0) / 1000;
const replayRate = N / drainS;
const m = uplink.metrics();
row(`backlog drained through uplink + broker + acking cloud (s)`, drainS.toFixed(2));
row('replayed/s (end to end, to ack)', fmt(replayRate));
row('batches sent / go-backs / reconnect attempts', `${m.batchesSent} / ${m.goBacks} / ${m.reconnects}`);

// 5. Live flow with a lossy path: every 20th batch vanishes, so the cloud refuses the next and the uplink
//    goes back. Appends and delivery run at once.
cloud.st.dropEvery = 20;
t0 = performance.now();
await appendRun(outbox, FAULTY, 1024, N);
while (outbox.stats().depth > 0) await new Promise((r) => setTimeout(r, 20));
const faultyRate = FAULTY / ((performance.now() - t0) / 1000);
const m2 = uplink.metrics();
row(`live ${fmt(FAULTY)} msgs with 1 in 20 batches lost: appended and acked per s`, fmt(faultyRate));
row('batches lost / refused by the cloud / go-backs', `${cloud.st.dropped} / ${cloud.st.refused} / ${m2.goBacks - m.goBacks}`);
const lost = cloud.lost();
row(`lost / doubled / misordered (all ${fmt(N + FAULTY)} seqs)`, `${lost} / ${cloud.st.doubled} / ${cloud.st.misordered}`);
row('resent records skipped by the cloud', fmt(cloud.st.skipped));

await uplink.stop();
await cloud.stop();
await outbox.stop();
await broker.close();
await rm(dir, { recursive: true, force: true });

const w = Math.max(...rows.map(([k]) => k.length));
console.log(`outbox benchmark (${fmt(N)} messages, 9:1 telemetry:events, fdatasync per batch)`);
for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v.padStart(12)}`);
console.log(JSON.stringify({
  messages: N,
  append_per_s: Math.round(backlogRate),
  append_per_s_c1: Math.round(byConcurrency[1] ?? 0),
  append_per_s_c64: Math.round(byConcurrency[64] ?? 0),
  append_per_s_c1024: Math.round(byConcurrency[1024] ?? 0),
  read_per_s: Math.round(readRate),
  replay_per_s: Math.round(replayRate),
  drain_s: Number(drainS.toFixed(2)),
  recovery_ms: Math.round(recoveryMs),
  heap_mib_with_backlog: Number(heapMiB.toFixed(1)),
  lossy_live_per_s: Math.round(faultyRate),
  lossy_batches_dropped: cloud.st.dropped,
  lost,
  doubled: cloud.st.doubled,
  misordered: cloud.st.misordered,
  resent_skipped: cloud.st.skipped,
  go_backs: m2.goBacks,
}));

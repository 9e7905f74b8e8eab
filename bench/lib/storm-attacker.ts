/**
 * The hostile side of the storm benchmark, in its own process so its own memory and sockets are not
 * counted against the edge: for `seconds` it sends, from loopback addresses other than 127.0.0.1,
 * - 1,000 CONNECTs with ids that are not provisioned (and some with a real gate's id and a wrong password),
 * - CONNECTs announcing 150 MiB, streamed until the broker hangs up (two sockets at a time),
 * - 100 poison envelopes on the cloud broker (payloads nested 5,000 deep; alarm ids reused with another type),
 * - an HTTP flood: junk envelopes on the ingest and API writes with made-up tokens.
 * Sends back what it did and how the targets answered.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import mqtt from 'mqtt';
import { edgeUplinkTopic } from '@safe-community/contracts';
import { openSocket, rawConnect, remainingLength } from '@safe-community/testkit';

interface Plan { brokerPort: number; gateId: string; mqttUrl: string; httpPort: number; seconds: number }
const plan = JSON.parse(process.argv[2]!) as Plan;
const until = performance.now() + plan.seconds * 1000;
const source = (i: number): string => `127.0.0.${2 + (i % 50)}`;
const tally = { connects: 0, connackCodes: {} as Record<string, number>, oversized: 0, oversizedBytes: 0, poison: 0, http: 0, httpStatus: {} as Record<string, number> };

async function bogusConnects(): Promise<void> {
  // 1,000 over the first 20 s, 50 at a time; one in ten uses the real gate's id with a wrong password.
  for (let batch = 0; batch < 20; batch++) {
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 50 }, async (_, k) => {
      const i = batch * 50 + k;
      const id = i % 10 === 0 ? plan.gateId : `bogus-${randomBytes(4).toString('hex')}`;
      const code = await rawConnect(plan.brokerPort, id, randomBytes(18).toString('base64url'), { localAddress: source(i), timeoutMs: 20_000 }).catch(() => 'error' as const);
      tally.connects++;
      tally.connackCodes[String(code)] = (tally.connackCodes[String(code)] ?? 0) + 1;
    }));
    await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (performance.now() - t0))));
  }
}

async function oversized(worker: number): Promise<void> {
  const chunk = Buffer.alloc(64 * 1024, 0x41);
  while (performance.now() < until) {
    const s = await openSocket(plan.brokerPort, source(100 + worker)).catch(() => null);
    if (!s) continue;
    s.on('error', () => undefined);
    let open = true;
    s.once('close', () => { open = false; });
    s.write(Buffer.concat([Buffer.from([0x10]), remainingLength(150 * 1024 * 1024)]));
    let sent = 0;
    while (open && sent < 150 * 1024 * 1024 && performance.now() < until) {
      if (!s.write(chunk)) await new Promise((r) => setTimeout(r, 2));
      sent += chunk.length;
      await new Promise((r) => setImmediate(r));
    }
    s.destroy();
    tally.oversized++;
    tally.oversizedBytes += sent;
    await new Promise((r) => setTimeout(r, 200));
  }
}

function poisonEnvelope(edge: string, seq: number, i: number): string {
  const now = new Date().toISOString();
  if (i % 2 === 0) {
    const ev = { seq, type: 'event', data: { id: randomUUID(), site: 'storm-site', edge, device: 'X1', kind: 'door.forced', severity: 'major', edgeTime: now, payload: { x: '@DEEP@' } } };
    return JSON.stringify({ v: 1, edge, site: 'storm-site', sentAt: now, messages: [ev] }).replace('"@DEEP@"', `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`);
  }
  // Open A, resolve it, open another A, then bring the first id back as type B: the store refuses it.
  const id = randomUUID();
  const device = `P-${edge}-${seq}`;
  const alarm = (s: number, type: string, state: string, aid: string) => ({
    seq: s, type: 'alarm', data: { id: aid, site: 'storm-site', edge, device, type, severity: 'major', state, raisedAt: now, count: 1, message: 'poison' },
  });
  return JSON.stringify({ v: 1, edge, site: 'storm-site', sentAt: now, messages: [
    alarm(seq, 'fire.alarm', 'open', id), alarm(seq + 1, 'fire.alarm', 'resolved', id), alarm(seq + 2, 'fire.alarm', 'open', randomUUID()), alarm(seq + 3, 'gate.fault', 'open', id),
  ] });
}

async function poison(): Promise<void> {
  const c = await mqtt.connectAsync(plan.mqttUrl, { clientId: `storm-poison-${process.pid}`, reconnectPeriod: 0 });
  const seqs = new Map<string, number>();
  for (let i = 0; i < 100 && performance.now() < until; i++) {
    const edge = `poison-${i % 10}`;
    const seq = (seqs.get(edge) ?? 0) + 1;
    await c.publishAsync(edgeUplinkTopic(edge), poisonEnvelope(edge, seq, i), { qos: 1 });
    seqs.set(edge, seq + (i % 2 === 0 ? 0 : 3)); // the last seq this envelope used
    tally.poison++;
    await new Promise((r) => setTimeout(r, (plan.seconds * 1000 * 0.8) / 100));
  }
  await c.endAsync();
}

function post(path: string, body: string, headers: Record<string, string>, i: number): Promise<void> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: plan.httpPort, path, method: 'POST', localAddress: source(200 + i), headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      tally.httpStatus[String(res.statusCode)] = (tally.httpStatus[String(res.statusCode)] ?? 0) + 1;
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', () => resolve());
    req.end(body);
  });
}

async function httpFlood(worker: number): Promise<void> {
  const junk = `{"junk":"${'x'.repeat(60_000)}"}`;
  let i = 0;
  while (performance.now() < until) {
    if (i++ % 2 === 0) await post('/ingest/v1/envelopes', junk, {}, worker);
    else await post('/api/v1/alarms/00000000-0000-4000-8000-000000000000/ack', '{}', { authorization: `Bearer ${randomBytes(24).toString('base64url')}` }, worker);
    tally.http++;
  }
}

await Promise.all([bogusConnects(), oversized(0), oversized(1), poison(), ...Array.from({ length: 4 }, (_, w) => httpFlood(w))]);
process.send!({ tally }, () => process.exit(0));

/**
 * Fuzz: thousands of random and mutated payloads at every profile's adapter, from a seeded PRNG so a
 * failure repeats. Asserts that nothing but a coded DecodeError ever escapes, that whatever decodes is a
 * valid canonical message, and that valid messages interleaved with the garbage are all delivered, in order.
 */
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validators } from '@safe-community/contracts';
import { loadProfiles } from '@safe-community/firmware-configs';
import { createLogger } from '@safe-community/runtime';
import { prng } from '@safe-community/simulators';
import { EdgeBroker, PublishRefused } from '../src/broker/index.js';
import { DeviceGateway, DecodeError, ProfileAdapter } from '../src/devices/index.js';
import type { DeviceInfo, OutboxInput, UplinkSink } from '../src/ports.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261129);
const ROUNDS = 1200; // per profile
const rand = prng(SEED);
const int = (n: number): number => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;

interface Sample {
  suffix: string;
  payload: string;
}

/** Realistic messages per profile: the fuzzer mutates these. */
const SAMPLES: Record<string, Sample[]> = {
  'access_gate.acme-json': [
    { suffix: 'event', payload: '{"evt":"ACCESS","result":"GRANTED","method":"CARD","cred":"A1","ts":1795000000}' },
    { suffix: 'event', payload: '{"evt":"DOOR","door":"FORCED","ts":1795000000}' },
    { suffix: 'ack', payload: '{"cid":"0b7f4c1e-3f55-4a8e-9a51-2b0c7d1d9e10","res":"OK","door":"HOLD_OPEN"}' },
    { suffix: 'state', payload: '{"door":"LOCKED"}' },
  ],
  'access_gate.keyway-delim': [
    { suffix: 'up', payload: 'A,1795000000,G,C,0042,0' },
    { suffix: 'up', payload: 'D,1795000000,F' },
    { suffix: 'up', payload: 'K,0b7f4c1e-3f55-4a8e-9a51-2b0c7d1d9e10,0,H' },
  ],
  'fire_panel.nova-json': [
    { suffix: 'alarm', payload: '{"type":"ALARM","zone":3,"loop":1,"point":12,"device":"SMOKE","time":"2026-11-29T10:00:00Z"}' },
    { suffix: 'alarm', payload: '{"type":"FAULT","zone":2,"loop":1,"point":7,"fault":"open_circuit"}' },
    { suffix: 'ack', payload: '{"ref":"0b7f4c1e-3f55-4a8e-9a51-2b0c7d1d9e10","status":"done"}' },
  ],
  'fire_panel.gst-hex': [
    { suffix: 'raw', payload: '05' },
    { suffix: 'raw', payload: '01000301000c01' },
    { suffix: 'raw', payload: '02000201000702' },
    { suffix: 'raw', payload: '0a0b7f4c1e3f554a8e9a512b0c7d1d9e1000' },
  ],
  'car_barrier.parkline-json': [
    { suffix: 'evt', payload: '{"e":"arrive","plate":"粤B12345","conf":0.93,"lane":"exit1","t":1795000000123}' },
    { suffix: 'ack', payload: '{"id":"0b7f4c1e-3f55-4a8e-9a51-2b0c7d1d9e10","ok":true,"pos":"up"}' },
  ],
  'wearable.carelink-json': [
    { suffix: 'alert', payload: '{"type":"sos","lat":22.5,"lon":114.1,"ts":"2026-11-29T10:00:00Z"}' },
    { suffix: 'vitals', payload: '{"hr":72,"spo2":97,"steps":100,"bat":80}' },
  ],
  'wearable.anxin-delim': [
    { suffix: 'up', payload: 'S,1795000000,22.500000,114.100000' },
    { suffix: 'up', payload: 'F,1795000000,,,32' },
    { suffix: 'up', payload: 'K,1795000000' },
    { suffix: 'up', payload: 'V,1795000000,72,97,100,80,22.500000,114.100000' },
    { suffix: 'up', payload: 'A,0b7f4c1e-3f55-4a8e-9a51-2b0c7d1d9e10,1,FIND' },
  ],
  'env_sensor.airsense-json': [
    { suffix: 'data', payload: '{"data":{"t":215,"h":560,"pm25":12},"dev":{"bat":90},"ts":1795000000}' },
    { suffix: 'alert', payload: '{"alert":"leak","on":1,"probe":"P1"}' },
  ],
};

/** A valid message that carries a unique marker, and how to find the marker in what comes out. */
const MARKED: Record<string, { make(i: number): Sample; marker(m: OutboxInput): string | undefined }> = {
  'access_gate.acme-json': {
    make: (i) => ({ suffix: 'event', payload: JSON.stringify({ evt: 'ACCESS', result: 'GRANTED', method: 'QR', cred: `valid-${i}` }) }),
    marker: (m) => (m.type === 'event' ? String(m.data.payload.credential) : undefined),
  },
  'access_gate.keyway-delim': {
    make: (i) => ({ suffix: 'up', payload: `A,1795000000,G,Q,valid-${i},0` }),
    marker: (m) => (m.type === 'event' ? String(m.data.payload.credential) : undefined),
  },
  'fire_panel.nova-json': {
    make: (i) => ({ suffix: 'alarm', payload: JSON.stringify({ type: 'ALARM', zone: 900_000 + i, loop: 9, point: 9, device: 'HEAT' }) }),
    marker: (m) => (m.type === 'event' && m.data.payload.loop === 9 ? `valid-${Number(m.data.payload.zone) - 900_000}` : undefined),
  },
  'fire_panel.gst-hex': {
    make: (i) => ({ suffix: 'raw', payload: `01${(40_000 + i).toString(16).padStart(4, '0')}fe000902` }),
    marker: (m) => (m.type === 'event' && m.data.payload.loop === 254 ? `valid-${Number(m.data.payload.zone) - 40_000}` : undefined),
  },
  'car_barrier.parkline-json': {
    make: (i) => ({ suffix: 'evt', payload: JSON.stringify({ e: 'arrive', plate: `valid-${i}` }) }),
    marker: (m) => (m.type === 'event' ? String(m.data.payload.plate) : undefined),
  },
  'wearable.carelink-json': {
    make: (i) => ({ suffix: 'vitals', payload: JSON.stringify({ steps: 7_000_000 + i }) }),
    marker: (m) => (m.type === 'telemetry' && m.data.value >= 7_000_000 ? `valid-${m.data.value - 7_000_000}` : undefined),
  },
  'wearable.anxin-delim': {
    make: (i) => ({ suffix: 'up', payload: `V,,,,${6_000_000 + i},,,` }),
    marker: (m) => (m.type === 'telemetry' && m.data.value >= 6_000_000 ? `valid-${m.data.value - 6_000_000}` : undefined),
  },
  'env_sensor.airsense-json': {
    make: (i) => ({ suffix: 'data', payload: JSON.stringify({ data: { pm25: 8_000_000 + i } }) }),
    marker: (m) => (m.type === 'telemetry' && m.data.value >= 8_000_000 ? `valid-${m.data.value - 8_000_000}` : undefined),
  },
};

const NASTY = ['__proto__', 'constructor', 'prototype', '', '\u0000', 'NaN', 'Infinity', '-1', '1e309', '9'.repeat(40), '{}', '[]', 'null', 'true', '😀', ',', '|'];

function randomBytes(): Buffer {
  const b = Buffer.alloc(int(64));
  for (let i = 0; i < b.length; i++) b[i] = int(256);
  return b;
}

function mutate(s: string): string {
  switch (int(9)) {
    case 0: return s.slice(0, int(s.length + 1));
    case 1: { const i = int(s.length + 1); return s.slice(0, i) + pick(NASTY) + s.slice(i); }
    case 2: { const i = int(s.length); return s.slice(0, i) + String.fromCharCode(int(0x3000)) + s.slice(i + 1); }
    case 3: return s.replace(/"[^"]*"/, `"${pick(NASTY)}"`);
    case 4: return s.replace(/\d+/, pick(NASTY));
    case 5: return s.split(',').reverse().join(',');
    case 6: return `{"a":${'['.repeat(int(3000))}`;
    case 7: return s.replace(/:[^,}]+/, `:${pick(['null', '{"x":1}', '[1,2]', '"x"', '1e999', 'true', '-0'])}`);
    default: return s + s;
  }
}

const profiles = await loadProfiles();
const devices: DeviceInfo[] = [...profiles.values()].map((p, i) => ({ id: `D${i}`, kind: p.kind, profile: p.id, tags: { building: 'B' } }));

t.test(`adapters never throw anything but DecodeError, and decode only valid canonical messages (seed ${SEED})`, async (t) => {
  let thrown = 0;
  let decoded = 0;
  let foreign = 0;
  let invalid = 0;
  for (const dev of devices) {
    const adapter = new ProfileAdapter(profiles.get(dev.profile)!, { site: 'S1', edge: 'E1' });
    const samples = SAMPLES[dev.profile]!;
    for (let i = 0; i < ROUNDS; i++) {
      const base = pick(samples);
      const suffix = rand() < 0.05 ? pick(['x', 'ack/x', base.suffix + '/', 'state']) : base.suffix;
      const payload = rand() < 0.2 ? randomBytes() : Buffer.from(mutate(base.payload));
      try {
        const out = adapter.decode(dev, suffix, payload);
        decoded++;
        for (const m of out.messages) {
          const ok = m.type === 'event' ? validators.event.check(m.data) : m.type === 'telemetry' ? validators.telemetry.check(m.data) : validators.deviceStatus.check(m.data);
          if (!ok) invalid++;
        }
      } catch (err) {
        if (err instanceof DecodeError && /^ERR_DECODE_/.test(err.code)) thrown++;
        else {
          foreign++;
          t.fail(`non-coded throw for ${dev.profile} ${JSON.stringify(payload.toString('latin1').slice(0, 80))}: ${String(err)}`);
        }
      }
    }
  }
  t.equal(foreign, 0, 'no uncoded error escaped');
  t.equal(invalid, 0, 'everything decoded is a valid canonical message');
  t.equal(thrown + decoded, devices.length * ROUNDS);
  t.ok(thrown > devices.length * ROUNDS * 0.5, `${thrown} refused, ${decoded} still decoded`);
});

t.test('valid messages interleaved with garbage all reach the sink, in order', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'fuzz-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const records: OutboxInput[] = [];
  const sink: UplinkSink = { append: async (m) => records.push(m) };
  const broker = new EdgeBroker({ dataDir, logger: createLogger({ level: 'silent' }) });
  const gateway = new DeviceGateway({ site: 'S1', edge: 'E1', broker, sink, devices, profiles, logger: createLogger({ level: 'silent' }) });
  await gateway.start();
  t.teardown(() => gateway.stop());

  const expected = new Map<string, string[]>();
  let refused = 0;
  for (const dev of devices) {
    const samples = SAMPLES[dev.profile]!;
    const marked = MARKED[dev.profile]!;
    const want: string[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      let input: Sample;
      if (i % 10 === 0) {
        input = marked.make(i);
        want.push(`valid-${i}`);
      } else {
        const base = pick(samples);
        input = { suffix: base.suffix, payload: mutate(base.payload) };
      }
      try {
        await gateway.onDevicePublish(dev.id, `devices/${dev.id}/${input.suffix}`, Buffer.from(input.payload));
      } catch (err) {
        if (err instanceof PublishRefused) refused++;
        else t.fail(`gateway threw a non-refusal: ${String(err)}`);
      }
    }
    expected.set(dev.profile, want);
  }
  for (const dev of devices) {
    const marked = MARKED[dev.profile]!;
    const seen = records.filter((m) => 'device' in m.data && m.data.device === dev.id).map((m) => marked.marker(m)).filter((x): x is string => !!x && x.startsWith('valid-'));
    const firstSeen = [...new Set(seen)];
    const want = expected.get(dev.profile)!;
    t.same(firstSeen.filter((x) => want.includes(x)), want, `${dev.profile}: all ${want.length} valid messages, in order`);
  }
  t.ok(refused > 0, `${refused} refused`);
});

import t from 'tap';
import { randomUUID } from 'node:crypto';
import { createIngestService } from '@safe-community/cloud-ingest';
import { createLogger } from '@safe-community/runtime';

t.test('GET /metrics serves the ingest series with live values', async (t) => {
  const svc = createIngestService({ databaseUrl: null, mqttUrl: null, port: 0, api: { edgeAuth: false } }, { logger: createLogger({ level: 'error' }) });
  await svc.start();
  t.teardown(() => svc.stop());
  const { host, port } = svc.address();
  const now = new Date().toISOString();
  const envelope = {
    v: 1, edge: 'e-metrics', site: 's1', sentAt: now,
    messages: [
      { seq: 1, type: 'telemetry', data: { site: 's1', edge: 'e-metrics', device: 'S1', metric: 'temperature', value: 21.5, time: now } },
      { seq: 2, type: 'alarm', data: { id: randomUUID(), site: 's1', device: 'G1', type: 'door.forced', severity: 'major', state: 'open', raisedAt: now, count: 1, message: 'forced' } },
    ],
  };
  const res = await fetch(`http://${host}:${port}/ingest/v1/envelopes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope) });
  t.equal(res.status, 200, 'envelope accepted');
  const metrics = await (await fetch(`http://${host}:${port}/metrics`)).text();
  t.match(metrics, /^ingest_envelopes_total 1$/m);
  t.match(metrics, /^ingest_rows_written_total [1-9]\d*$/m, 'rows written counted');
  t.match(metrics, /^ingest_alarms\{state="open",severity="major"\} 1$/m, 'alarms by state from the database');
  t.match(metrics, /^ingest_dead_letters_total 0$/m);
  t.match(metrics, /^ingest_process_resident_memory_bytes \d+/m, 'process metrics too');
});

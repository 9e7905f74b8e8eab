/**
 * Seeds a small, realistic community: two sites, two buildings, every event kind and metric the boards
 * read, alarms in each state, and linkage executions with confirmed and failed actions. Times are
 * relative to `now`, all within the last three hours, so a six-hour dashboard range covers them.
 *
 * Elderly care: residents R1 (site-a, wearable-1), R2 (site-b, wearable-2) and R3 (site-a, wearable-3,
 * enrolled but silent), and wearable-4 (site-a) that no resident wears; care alarms, events and notices
 * as the edge care monitor sends them, and resident incidents. Telemetry names are as the edge sends
 * them (`wearable.*`, `env_sensor.*`, `edge.*`).
 */
import { randomUUID } from 'node:crypto';

export const SITES = ['site-a', 'site-b'] as const;
export const BUILDINGS = ['b1', 'b2'] as const;

const EDGE: Record<string, string> = { 'site-a': 'edge-a1', 'site-b': 'edge-b1' };

export async function seed(db: { query(sql: string, params?: unknown[]): Promise<unknown> }, now = new Date()): Promise<void> {
  const ago = (min: number): Date => new Date(now.getTime() - min * 60_000);
  const seqs = new Map<string, number>();
  const seq = (edge: string): number => {
    const n = (seqs.get(edge) ?? 0) + 1;
    seqs.set(edge, n);
    return n;
  };

  for (const site of SITES) {
    await db.query('INSERT INTO edge_cursor (edge, site, last_seq, updated_at) VALUES ($1, $2, 100, $3)', [EDGE[site], site, ago(20)]);
  }

  const status = async (site: string, device: string, online: boolean, minAgo: number, state: object = {}): Promise<void> => {
    await db.query('INSERT INTO device_status (site, edge, device, online, state, at) VALUES ($1,$2,$3,$4,$5,$6)', [site, EDGE[site], device, online, JSON.stringify(state), ago(minAgo)]);
  };
  await status('site-a', 'gate-1', true, 30, { held: false });
  await status('site-a', 'barrier-1', true, 30);
  await status('site-a', 'cam-1', true, 60);
  await status('site-a', 'cam-2', false, 12);
  await status('site-a', 'wearable-1', true, 3);
  await status('site-b', 'panel-1', false, 40);
  await status('site-b', 'wearable-2', true, 5);

  const resident = async (site: string, id: string, name: string, wearable: string, building: string | null, unit: string): Promise<void> => {
    await db.query(
      `INSERT INTO care_residents (site, id, name, wearable, building, unit, team, contacts, consent, updated_at, updated_by)
       VALUES ($1,$2,$3,$4,$5,$6,'team-1',$7,$8,$9,'user:admin')`,
      [site, id, name, wearable, building, unit, JSON.stringify([{ name: 'Family', role: 'family', phone: '+86 10 0000 0000' }]),
        JSON.stringify({ givenAt: '2026-01-01', givenBy: 'family', scope: ['alerts', 'location', 'vitals', 'activity'] }), ago(600)],
    );
  };
  await resident('site-a', 'R1', 'Wang Lan', 'wearable-1', 'b1', '1-301');
  await resident('site-b', 'R2', 'Li Ming', 'wearable-2', null, '2-102');
  await resident('site-a', 'R3', 'Zhao Hua', 'wearable-3', 'b1', '1-502');

  const ids: Record<string, string> = {};
  const event = async (site: string, device: string, kind: string, minAgo: number, building: string, payload: object = {}, severity = 'info', key?: string): Promise<void> => {
    const id = randomUUID();
    if (key) ids[key] = id;
    const edge = EDGE[site]!;
    await db.query(
      'INSERT INTO events (edge, seq, id, site, device, kind, severity, device_time, time, tags, payload) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$8,$9,$10)',
      [edge, seq(edge), id, site, device, kind, severity, ago(minAgo), JSON.stringify({ building, zone: 'z1' }), JSON.stringify(payload)],
    );
  };
  await event('site-a', 'panel-a', 'fire.alarm', 6, 'b1', { zone: 3, snapshot: 'snap/fire-1.jpg' }, 'critical', 'fire');
  await event('site-a', 'panel-a', 'fire.reset', 2, 'b1', { zone: 3 });
  await event('site-b', 'panel-1', 'fire.alarm', 90, 'b2', { zone: 1 }, 'critical', 'fireB');
  await event('site-a', 'door-3', 'door.forced', 31, 'b2', {}, 'major', 'forced');
  for (let i = 0; i < 6; i++) await event('site-a', 'gate-1', 'access.granted', 10 + i * 15, 'b1', { direction: i % 2 ? 'out' : 'in', credential: `card-${i}` });
  await event('site-b', 'gate-9', 'access.granted', 50, 'b2', { direction: 'in' });
  await event('site-a', 'gate-1', 'access.denied', 44, 'b1', { credential: 'card-x', reason: 'expired' }, 'minor');
  await event('site-a', 'barrier-1', 'vehicle.arrived', 25, 'b1', { plate: '京A12345', decision: 'allowed' });
  await event('site-a', 'barrier-1', 'vehicle.departed', 15, 'b1', { plate: '京A12345', decision: 'allowed' });
  await event('site-b', 'barrier-2', 'vehicle.arrived', 70, 'b2', { plate: '沪B67890', decision: 'denied' });
  await event('site-a', 'wearable-1', 'wearable.sos', 8, 'b1', {}, 'major', 'sos');
  await event('site-b', 'wearable-2', 'wearable.fall', 55, 'b2', {}, 'major');
  const care = async (site: string, device: string, kind: string, minAgo: number, building: string, residentId: string, severity: string, message: string, key?: string): Promise<void> => {
    const id = randomUUID();
    if (key) ids[key] = id;
    const edge = EDGE[site]!;
    await db.query(
      'INSERT INTO events (edge, seq, id, site, device, kind, severity, device_time, time, tags, payload) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$8,$9,$10)',
      [edge, seq(edge), id, site, device, kind, severity, ago(minAgo), JSON.stringify({ building, resident: residentId, unit: residentId === 'R1' ? '1-301' : '2-102', category: kind === 'care.battery_low' || kind === 'care.device_back' ? 'maintenance' : 'safety' }), JSON.stringify({ message })],
    );
  };
  await care('site-a', 'wearable-1', 'care.fall_cancelled', 70, 'b1', 'R1', 'info', "Wang Lan (R1) pressed I'm OK after a fall");
  await care('site-a', 'wearable-1', 'care.sos', 8, 'b1', 'R1', 'critical', 'SOS from Wang Lan (R1)', 'careSos');
  await care('site-a', 'wearable-1', 'care.vitals', 30, 'b1', 'R1', 'major', 'heart rate of Wang Lan (R1) above limit: 131', 'careVitals');
  await care('site-b', 'wearable-2', 'care.battery_low', 45, 'b2', 'R2', 'minor', 'Wearable of Li Ming (R2) low on battery: 15%', 'careBattery');
  await care('site-b', 'wearable-2', 'care.device_back', 20, 'b2', 'R2', 'info', 'Wearable of Li Ming (R2) heard again');
  for (let i = 0; i < 4; i++) {
    await event('site-a', 'cam-1', 'video.line_crossing', 20 + i * 30, 'b1', { line: 'gate-line', direction: i % 2 ? 'out' : 'in', class: 'person' });
  }
  await event('site-a', 'cam-1', 'video.zone_intrusion', 35, 'b1', { zone: 'pool', class: 'person', snapshot: 'snap/zone-1.jpg' }, 'major');
  await event('site-b', 'cam-7', 'video.zone_intrusion', 65, 'b2', { zone: 'roof', class: 'car' }, 'major');
  await event('site-a', 'cam-1', 'video.crowd', 40, 'b1', { zone: 'lobby', count: 14, class: 'person' }, 'minor');
  await event('site-a', 'cam-2', 'camera.offline', 100, 'b1', {}, 'major');
  await event('site-a', 'cam-2', 'camera.online', 80, 'b1', {});
  await event('site-a', 'cam-2', 'camera.offline', 12, 'b1', {}, 'major');

  const incident = async (site: string, key: string, state: string, severity: string, opened: number, last: number, closed?: number): Promise<string> => {
    const id = randomUUID();
    await db.query('INSERT INTO incidents (id, site, group_key, state, severity, opened_at, last_alarm_at, closed_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)',
      [id, site, key, state, severity, ago(opened), ago(last), closed === undefined ? null : ago(closed)]);
    return id;
  };
  // R1's alarms carry the edge's episode (group key resident:<id>:<episode>); R2's incident is keyed by resident alone.
  const incR1 = await incident('site-a', 'resident:R1:R1-20260101T000000Z', 'open', 'critical', 30, 8);
  const incR2 = await incident('site-b', 'resident:R2', 'closed', 'minor', 45, 45, 25);
  const incB1 = await incident('site-a', 'building:b1', 'open', 'critical', 6, 6);

  const alarm = async (a: { site: string; device: string; type: string; severity: string; state: string; raised: number; acked?: number; resolved?: number; building: string; source?: string; tags?: Record<string, string>; incident?: string }): Promise<void> => {
    await db.query(
      `INSERT INTO alarms (id, site, edge, device, type, severity, state, raised_at, last_seen_at, count, message, source_event_id, tags, acknowledged_at, resolved_at, incident_id)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$8,1,$9,$10,$11,$12,$13,$14)`,
      [randomUUID(), a.site, EDGE[a.site], a.device, a.type, a.severity, a.state, ago(a.raised), `${a.type} at ${a.device}`, a.source ?? null,
        JSON.stringify({ building: a.building, ...a.tags }), a.acked === undefined ? null : ago(a.acked), a.resolved === undefined ? null : ago(a.resolved), a.incident ?? null],
    );
  };
  await alarm({ site: 'site-a', device: 'panel-a', type: 'fire.alarm', severity: 'critical', state: 'open', raised: 6, building: 'b1', source: ids.fire, incident: incB1 });
  await alarm({ site: 'site-a', device: 'door-3', type: 'door.forced', severity: 'major', state: 'acknowledged', raised: 31, acked: 29, building: 'b2', source: ids.forced });
  await alarm({ site: 'site-a', device: 'wearable-1', type: 'wearable.sos', severity: 'major', state: 'open', raised: 8, building: 'b1', source: ids.sos });
  await alarm({ site: 'site-a', device: 'gate-1', type: 'access.denied', severity: 'minor', state: 'resolved', raised: 120, acked: 118, resolved: 110, building: 'b1' });
  await alarm({ site: 'site-b', device: 'panel-1', type: 'fire.alarm', severity: 'critical', state: 'resolved', raised: 90, acked: 88, resolved: 60, building: 'b2', source: ids.fireB });
  await alarm({ site: 'site-b', device: 'wearable-2', type: 'wearable.fall', severity: 'major', state: 'dispatched', raised: 55, acked: 54, building: 'b2' });
  // Care alarms as the edge care monitor raises them (edge-agent/src/care/README.md, "What goes to the sink").
  const careTags = (residentId: string, unit: string, category: string): Record<string, string> => ({
    resident: residentId, unit, category, reason: 'test', episode: `${residentId}-20260101T000000Z`, last_lat: '39.9042', last_lon: '116.4074', last_fix_at: ago(9).toISOString(),
  });
  await alarm({ site: 'site-a', device: 'wearable-1', type: 'care.sos', severity: 'critical', state: 'open', raised: 8, building: 'b1', source: ids.careSos, tags: careTags('R1', '1-301', 'safety'), incident: incR1 });
  await alarm({ site: 'site-a', device: 'wearable-1', type: 'care.vitals', severity: 'major', state: 'acknowledged', raised: 30, acked: 25, building: 'b1', source: ids.careVitals, tags: careTags('R1', '1-301', 'safety'), incident: incR1 });
  await alarm({ site: 'site-b', device: 'wearable-2', type: 'care.battery_low', severity: 'minor', state: 'resolved', raised: 45, acked: 40, resolved: 25, building: 'b2', source: ids.careBattery, tags: careTags('R2', '2-102', 'maintenance'), incident: incR2 });

  const metric = async (site: string, device: string, name: string, value: number, minAgo: number, unit?: string): Promise<void> => {
    const edge = EDGE[site]!;
    await db.query('INSERT INTO telemetry (edge, seq, site, device, metric, value, unit, time) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)', [edge, seq(edge), site, device, name, value, unit ?? null, ago(minAgo)]);
  };
  for (let m = 121; m >= 1; m -= 10) {
    for (const site of SITES) {
      const edge = EDGE[site]!;
      await metric(site, edge, 'edge.inference_ms', 18 + (m % 7), m, 'ms');
      await metric(site, edge, 'edge.fps', 9.5, m, 'fps');
      await metric(site, edge, 'edge.dropped_frames', m % 3, m);
      // The backlog grows towards now at site-a so the outbox alert rules have something to fire on.
      await metric(site, edge, 'edge.outbox_depth', site === 'site-a' ? 1600 - m * 10 : 5, m);
      await metric(site, edge, 'edge.outbox_oldest_age_s', site === 'site-a' ? 700 - m * 3 : 1, m, 's');
      await metric(site, edge, 'edge.uplink_lag_ms', 40 + m, m, 'ms');
      await metric(site, edge, 'edge.cpu_percent', 35, m, '%');
      await metric(site, edge, 'edge.memory_mb', 420, m, 'MB');
    }
    await metric('site-a', 'wearable-1', 'wearable.heart_rate', 70 + (m % 5), m, 'bpm');
    await metric('site-a', 'wearable-1', 'wearable.spo2', 97, m, '%');
    await metric('site-a', 'wearable-1', 'wearable.battery', 80 - m / 10, m, '%');
    await metric('site-a', 'wearable-1', 'wearable.steps', 1000 - m, m);
    await metric('site-a', 'wearable-1', 'wearable.lat', 39.9042, m);
    await metric('site-a', 'wearable-1', 'wearable.lon', 116.4074, m);
    await metric('site-b', 'wearable-2', 'wearable.heart_rate', 88, m, 'bpm');
    await metric('site-b', 'wearable-2', 'wearable.spo2', 93, m, '%');
    await metric('site-b', 'wearable-2', 'wearable.battery', 15, m, '%');
    await metric('site-b', 'wearable-2', 'wearable.steps', 300 - m, m);
    await metric('site-b', 'wearable-2', 'wearable.lat', 31.2304, m);
    await metric('site-b', 'wearable-2', 'wearable.lon', 121.4737, m);
    // A wearable no resident wears (yet): it still shows on the board and the map, under its own id.
    await metric('site-a', 'wearable-4', 'wearable.heart_rate', 66, m, 'bpm');
    await metric('site-a', 'wearable-4', 'wearable.battery', 55, m, '%');
    await metric('site-a', 'wearable-4', 'wearable.lat', 39.9050, m);
    await metric('site-a', 'wearable-4', 'wearable.lon', 116.4080, m);
    await metric('site-a', 'env-1', 'env_sensor.temperature', 24, m, 'C');
  }

  const result = async (site: string, device: string, action: string, status: string, latency: number, minAgo: number): Promise<void> => {
    const edge = EDGE[site]!;
    await db.query(
      'INSERT INTO command_results (edge, seq, command_id, site, device, action, status, attempts, latency_ms, time, detail) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)',
      [edge, seq(edge), randomUUID(), site, device, action, status, status === 'confirmed' ? 1 : 3, latency, ago(minAgo), status === 'confirmed' ? null : 'no read-back'],
    );
  };
  await result('site-a', 'gate-1', 'hold_open', 'confirmed', 42, 6);
  await result('site-a', 'barrier-1', 'raise', 'timeout', 3000, 6);
  await result('site-b', 'gate-9', 'hold_open', 'confirmed', 55, 90);

  const linkage = async (site: string, trigger: string, minAgo: number, actions: object[], status: string): Promise<void> => {
    const edge = EDGE[site]!;
    const started = ago(minAgo);
    await db.query(
      'INSERT INTO linkage_executions (edge, seq, id, site, rule, trigger_event_id, time, finished_at, status, actions) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)',
      [edge, seq(edge), randomUUID(), site, 'fire-evacuation', trigger, started, new Date(started.getTime() + 3100), status, JSON.stringify(actions)],
    );
  };
  const action = (device: string, act: string, status: string, sent: number, confirmed?: number): object => ({
    device, action: act, commandId: randomUUID(), status, attempts: status === 'confirmed' ? 1 : 3, sentAfterMs: sent,
    ...(confirmed === undefined ? {} : { confirmedAfterMs: confirmed }),
  });
  await linkage('site-a', ids.fire!, 6, [action('gate-1', 'hold_open', 'confirmed', 2, 42), action('barrier-1', 'raise', 'timeout', 3)], 'partial');
  await linkage('site-b', ids.fireB!, 90, [action('gate-9', 'hold_open', 'confirmed', 1, 55)], 'confirmed');

  // The fire alarm's video (issue 16): one clip uploaded, one still uploading (not counted as playable).
  for (const [camera, status] of [['cam-b1-lobby', 'ready'], ['cam-b1-stairs', 'uploading']] as const) {
    await db.query(
      `INSERT INTO evidence_clips (clip, site, edge, camera, trigger_event, trigger_kind, severity, start_at, duration_ms, bytes, sha256, blurred, storage_key, status)
       VALUES ($1, 'site-a', $2, $3, $4, 'fire.alarm', 'critical', $5, 30000, 1000, $6, true, $7, $8)`,
      [randomUUID(), EDGE['site-a'], camera, ids.fire, ago(6), '0'.repeat(64), status === 'ready' ? `site-a/x/${camera}.mp4` : null, status]);
  }

  await db.query("INSERT INTO dead_letters (received_at, source, edge, seq, code, reason, payload) VALUES ($1, 'mqtt:sc/v1/edge/edge-a1/up', 'edge-a1', 7, 'ERR_VALIDATION', '/payload/kind: must match pattern', '{}')", [ago(15)]);
}

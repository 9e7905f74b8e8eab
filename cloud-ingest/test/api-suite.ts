/**
 * The REST API suite, run once per store backend (api.test.ts on PostgreSQL, api-pglite.test.ts on PGlite):
 * alarms through the real alarm service, incidents, resident reports, event and telemetry queries, commands
 * down tracked to their result, display warnings, rules, SLA, OpenAPI, and bad input answered 4xx with
 * nothing changed.
 */
import t, { type Test } from 'tap';
import { compressAllChunks, expectedStore } from '@safe-community/testkit';
import { validators, type DownMessage } from '@safe-community/contracts';
import { systemClock, type Clock } from '@safe-community/runtime';
import { harness, ADMIN_TOKEN, eventMsg, resultMsg, statusMsg, telemetryMsg } from './api-harness.js';

export async function apiSuite(backend: 'pg' | 'pglite'): Promise<void> {
  // Commands read their deadline from this clock, so a test can move past it without waiting.
  let skewMs = 0;
  const clock: Clock = { ...systemClock, now: () => Date.now() + skewMs };
  const h = await harness({ backend, api: { clock, commandTimeoutMs: 5_000, commandGraceMs: 5_000 } });
  t.teardown(() => h.close());

  const sec = await h.user('guard-lead', 'security', ['site-a']);
  const viewer = await h.user('viewer-a', 'viewer', ['site-a']);
  await h.ingest('edge-a', 'site-a', [
    statusMsg('site-a', 'edge-a', 'G1', 'access_gate', { position: 'closed' }),
    statusMsg('site-a', 'edge-a', 'B1', 'car_barrier', { position: 'closed' }),
    statusMsg('site-a', 'edge-a', 'D1', 'display', { position: 'closed' }),
    statusMsg('site-a', 'edge-a', 'D2', 'display', { position: 'closed' }),
  ]);
  await h.ingest('edge-b', 'site-b', [statusMsg('site-b', 'edge-b', 'G9', 'access_gate', { position: 'closed' })]);

  const count = async (table: string): Promise<number> => Number((await h.store.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n);

  t.test('alarm lifecycle through the API: report → list → ack → assign → dispatch → resolve', async (t) => {
    const rep = await h.call('POST', '/api/v1/reports', viewer, { site: 'site-a', location: 'bldg-3-f2', category: 'smoke', message: 'smell of smoke on floor 2', reporter: 'res-1203' });
    t.equal(rep.status, 201);
    t.match(rep.body, { site: 'site-a', device: 'bldg-3-f2', type: 'report.smoke', state: 'open', origin: 'report', severity: 'major' });
    const again = await h.call('POST', '/api/v1/reports', viewer, { site: 'site-a', location: 'bldg-3-f2', category: 'smoke', message: 'still smoke' });
    t.equal(again.body.id, rep.body.id, 'a second report of the same place and kind counts up the same alarm');
    t.equal(again.body.count, 2);
    const id = rep.body.id as string;

    const list = await h.call('GET', '/api/v1/alarms?state=open&severity=major,critical&site=site-a', sec);
    t.equal(list.status, 200);
    t.ok(list.body.alarms.some((a: { id: string }) => a.id === id));

    const ack = await h.call('POST', `/api/v1/alarms/${id}/ack`, sec, { note: 'calling the resident' });
    t.match(ack.body, { state: 'acknowledged', acknowledgedBy: 'guard-lead' });
    const asg = await h.call('POST', `/api/v1/alarms/${id}/assign`, sec, { assignee: 'guard-7' });
    t.equal(asg.body.assignee, 'guard-7');
    const dsp = await h.call('POST', `/api/v1/alarms/${id}/dispatch`, sec, { terminal: 'T-07', note: 'go to building 3 floor 2' });
    t.equal(dsp.body.state, 'dispatched');
    t.match(dsp.body.dispatches, [{ terminal: 'T-07', status: 'sent' }]);
    const res = await h.call('POST', `/api/v1/alarms/${id}/resolve`, sec, { note: 'burnt toast' });
    t.equal(res.body.state, 'resolved');
    t.ok(res.body.audit.length >= 5, 'the alarm carries its audit trail');
    t.ok(res.body.incidentId, 'and its incident');

    const inc = await h.call('GET', '/api/v1/incidents', sec);
    t.ok(inc.body.incidents.some((i: { alarmIds: string[] }) => i.alarmIds.includes(id)));
    // The resolved alarm's incident is closed: `?open` (as the API README writes it) and `?open=true` both leave it out.
    for (const q of ['?open', '?open=true']) {
      const open = await h.call('GET', `/api/v1/incidents${q}`, sec);
      t.equal(open.status, 200, `${q} is accepted`);
      t.notOk(open.body.incidents.some((i: { alarmIds: string[] }) => i.alarmIds.includes(id)), `${q} lists open incidents only`);
    }
    const closed = await h.call('GET', '/api/v1/incidents?open=false', sec);
    t.ok(closed.body.incidents.some((i: { alarmIds: string[] }) => i.alarmIds.includes(id)), '?open=false lists it');
    const filtered = await h.call('GET', '/api/v1/alarms?state=resolved', sec);
    t.same(filtered.body.alarms.map((a: { id: string }) => a.id), [id]);
  });

  t.test('illegal transitions are 409 ERR_ALARM_STATE and change nothing', async (t) => {
    const a = await h.alarms.raise({ site: 'site-a', device: 'G1', type: 'door.held', severity: 'minor', message: 'door held open' });
    const before = await h.call('GET', `/api/v1/alarms/${a.id}`, sec);
    const r = await h.call('POST', `/api/v1/alarms/${a.id}/resolve`, sec, {});
    t.equal(r.status, 409);
    t.equal(r.body.code, 'ERR_ALARM_STATE');
    t.type(r.body.message, 'string');
    t.equal((await h.call('POST', `/api/v1/alarms/${a.id}/ack`, sec, {})).status, 200);
    const twice = await h.call('POST', `/api/v1/alarms/${a.id}/ack`, sec, {});
    t.equal(twice.status, 409);
    const after = await h.call('GET', `/api/v1/alarms/${a.id}`, sec);
    t.equal(after.body.state, 'acknowledged');
    t.equal(after.body.audit.length, before.body.audit.length + 1, 'only the one legal acknowledge was recorded');
  });

  t.test('malformed input is 400 ERR_VALIDATION with path and reason, and nothing changes', async (t) => {
    const a = await h.alarms.raise({ site: 'site-a', device: 'B1', type: 'barrier.stuck', severity: 'major', message: 'barrier stuck' });
    const cases: Array<[string, string, unknown, string]> = [
      ['POST', `/api/v1/alarms/${a.id}/ack`, { note: 'x', extra: true }, ''],
      ['POST', `/api/v1/alarms/${a.id}/dispatch`, { terminal: 'bad terminal/#' }, '/terminal'],
      ['POST', `/api/v1/alarms/${a.id}/assign`, {}, '/assignee'],
      ['POST', '/api/v1/alarms/not-a-uuid/ack', {}, '/id'],
      ['POST', `/api/v1/alarms/${a.id}/comments`, { text: 42 }, '/text'],
      ['POST', '/api/v1/commands', { site: 'site-a', device: 'G1', action: 'Open Gate!' }, '/action'],
      ['GET', '/api/v1/alarms?state=burning', undefined, '/state'],
      ['GET', '/api/v1/events?limit=0', undefined, '/limit'],
      ['GET', '/api/v1/events?from=yesterday', undefined, '/from'],
    ];
    for (const [method, path, body, where] of cases) {
      const r = await h.call(method, path, sec, body);
      t.equal(r.status, 400, `${method} ${path} ${JSON.stringify(body)} → 400`);
      t.equal(r.body.code, 'ERR_VALIDATION');
      if (where) t.ok(r.body.issues?.some((i: { path: string }) => i.path.startsWith(where)), `names ${where}: ${JSON.stringify(r.body.issues)}`);
    }
    const notJson = await h.call('POST', `/api/v1/alarms/${a.id}/ack`, sec, '{"note": ');
    t.equal(notJson.status, 400);
    t.match(notJson.body, { code: String, message: /JSON/i });
    const badCursor = await h.call('GET', '/api/v1/events?cursor=bm9wZQ', sec);
    t.equal(badCursor.status, 400);
    t.equal(badCursor.body.code, 'ERR_BAD_CURSOR');
    const noRoute = await h.call('GET', '/api/v1/nothing-here', sec);
    t.equal(noRoute.status, 404);
    t.equal(noRoute.body.code, 'ERR_ROUTE_NOT_FOUND');
    const after = await h.call('GET', `/api/v1/alarms/${a.id}`, sec);
    t.equal(after.body.state, 'open');
    t.same(after.body.comments, []);
    t.equal(after.body.assignee, null);
  });

  t.test('events and telemetry: filtered by time range, device and kind/metric, paged by cursor, scoped', async (t) => {
    const t0 = Date.parse('2026-11-29T09:00:00.000Z');
    const at = (s: number): string => new Date(t0 + s * 1000).toISOString();
    await h.ingest('edge-a', 'site-a', [
      ...Array.from({ length: 7 }, (_, i) => eventMsg('site-a', 'edge-a', 'G1', 'door.forced', at(i))),
      eventMsg('site-a', 'edge-a', 'B1', 'barrier.raised', at(3)),
      ...Array.from({ length: 5 }, (_, i) => telemetryMsg('site-a', 'edge-a', 'S1', 'temp.c', 20 + i, at(i))),
      telemetryMsg('site-a', 'edge-a', 'S1', 'humidity.pct', 55, at(1)),
    ]);
    await h.ingest('edge-b', 'site-b', [eventMsg('site-b', 'edge-b', 'G9', 'door.forced', at(2))]);

    // The same reads, and on TimescaleDB once more after every chunk is compressed (issue 17): the
    // segmentby/orderby layout must give the API the same rows, order and pages.
    const reads = async (t: Test): Promise<void> => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const q: string = `/api/v1/events?kind=door.forced&from=${at(0)}&to=${at(10)}&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
        const r = await h.call('GET', q, sec);
        t.equal(r.status, 200);
        seen.push(...r.body.events.map((e: { edgeTime: string; site: string }) => `${e.site}@${e.edgeTime}`));
        cursor = r.body.nextCursor;
        pages++;
      } while (cursor && pages < 10);
      t.equal(pages, 3, '7 events in pages of 3');
      t.same(seen, Array.from({ length: 7 }, (_, i) => `site-a@${at(6 - i)}`), 'newest first, each once, only site A');

      const window = await h.call('GET', `/api/v1/events?device=G1&from=${at(2)}&to=${at(4)}`, sec);
      t.same(window.body.events.map((e: { edgeTime: string }) => e.edgeTime), [at(3), at(2)], 'from inclusive, to exclusive');
      const all = await h.call('GET', `/api/v1/events?kind=door.forced&from=${at(0)}&to=${at(10)}`, ADMIN_TOKEN);
      t.equal(all.body.events.length, 8, 'an all-sites admin sees site B too');

      const tel = await h.call('GET', `/api/v1/telemetry?device=S1&metric=temp.c&from=${at(0)}&limit=2`, sec);
      t.same(tel.body.points.map((p: { value: number }) => p.value), [24, 23]);
      t.ok(tel.body.nextCursor);
      const rest = await h.call('GET', `/api/v1/telemetry?device=S1&metric=temp.c&from=${at(0)}&limit=10&cursor=${tel.body.nextCursor}`, sec);
      t.same(rest.body.points.map((p: { value: number }) => p.value), [22, 21, 20]);
      t.equal(rest.body.nextCursor, null);
    };
    await t.test('from the rows as written', reads);
    if (backend === 'pg') t.equal(h.store.timescale, await expectedStore() === 'timescale', 'the store variant the server offers');
    if (h.store.timescale) {
      t.ok(await compressAllChunks(h.store.runner()) > 0, 'every chunk compressed');
      await t.test('from compressed chunks', reads);
    }
  });

  t.test('inventory: sites, edges and devices from device_status and edge_cursor', async (t) => {
    const edges = await h.call('GET', '/api/v1/edges', sec);
    t.match(edges.body.edges, [{ edge: 'edge-a', site: 'site-a', lastSeq: Number }]);
    t.equal(edges.body.edges.length, 1);
    const devs = await h.call('GET', '/api/v1/devices?edge=edge-a', sec);
    t.same(devs.body.devices.map((d: { device: string; kind: string | null }) => `${d.device}:${d.kind}`), ['B1:car_barrier', 'D1:display', 'D2:display', 'G1:access_gate']);
    t.same((await h.call('GET', '/api/v1/devices?online=false', sec)).body.devices, [], 'query booleans are parsed');
    t.equal((await h.call('GET', '/api/v1/devices?online=true', sec)).body.devices.length, 4);
    // An online/offline change carries no state: the device keeps its kind and the state it last reported.
    await h.ingest('edge-a', 'site-a', [statusMsg('site-a', 'edge-a', 'G1', undefined, undefined, false)]);
    const g1 = (await h.call('GET', '/api/v1/devices?online=false', sec)).body.devices;
    t.match(g1, [{ device: 'G1', kind: 'access_gate', online: false, state: { position: 'closed' } }]);
    await h.ingest('edge-a', 'site-a', [statusMsg('site-a', 'edge-a', 'G1', 'access_gate', { position: 'closed' })]);
    const empty = await h.call('POST', '/api/v1/alarms/00000000-0000-4000-8000-000000000000/ack', sec);
    t.equal(empty.status, 404, 'a POST without a body is validated as {} and reaches the service');
    const sites = await h.call('GET', '/api/v1/sites', sec);
    t.match(sites.body.sites, [{ site: 'site-a', edges: 1, devices: 4, online: 4 }]);
  });

  t.test('a command goes down to the device\'s edge and is tracked to its result', async (t) => {
    const r = await h.call('POST', '/api/v1/commands', sec, { site: 'site-a', device: 'G1', action: 'hold_open', params: { seconds: 30 } });
    t.equal(r.status, 202);
    t.match(r.body, { site: 'site-a', edge: 'edge-a', device: 'G1', action: 'hold_open', status: 'pending', result: null, issuedBy: 'user:guard-lead' });
    const sent = h.published.at(-1)!;
    t.equal(sent.topic, 'edges/edge-a/down');
    const down = validators.down.assert(JSON.parse(sent.payload)) as DownMessage;
    t.ok(down.type === 'command' && down.command.id === r.body.id && down.command.params.seconds === 30, 'a valid DownMessage carrying the command');

    t.equal((await h.call('GET', `/api/v1/commands/${r.body.id}`, sec)).body.status, 'pending');
    await h.ingest('edge-a', 'site-a', [resultMsg('site-a', 'edge-a', 'G1', r.body.id, 'hold_open', 'confirmed')]);
    const done = await h.call('GET', `/api/v1/commands/${r.body.id}`, viewer);
    t.match(done.body, { status: 'confirmed', result: { status: 'confirmed', attempts: 1, latencyMs: 35 } });

    const r2 = await h.call('POST', '/api/v1/commands', sec, { site: 'site-a', device: 'B1', action: 'raise' });
    await h.ingest('edge-a', 'site-a', [resultMsg('site-a', 'edge-a', 'B1', r2.body.id, 'raise', 'rejected')]);
    t.equal((await h.call('GET', `/api/v1/commands/${r2.body.id}`, sec)).body.status, 'rejected');

    const r3 = await h.call('POST', '/api/v1/commands', sec, { site: 'site-a', device: 'G1', action: 'close', timeoutMs: 1000 });
    t.equal((await h.call('GET', `/api/v1/commands/${r3.body.id}`, sec)).body.status, 'pending');
    skewMs = 6_500; // past timeout (1 s) + grace (5 s), with no result
    t.equal((await h.call('GET', `/api/v1/commands/${r3.body.id}`, sec)).body.status, 'timeout');
    skewMs = 0;

    const listed = await h.call('GET', '/api/v1/commands?device=G1', sec);
    t.same(listed.body.commands.map((c: { id: string }) => c.id), [r3.body.id, r.body.id]);
    const other = await h.call('GET', `/api/v1/commands/${r.body.id}`, await h.user('sec-b', 'security', ['site-b']));
    t.equal(other.status, 404, "another site's command is not found");
  });

  t.test('commands that cannot go out change nothing', async (t) => {
    const rows = await count('api_commands');
    const sent = h.published.length;
    const unknown = await h.call('POST', '/api/v1/commands', sec, { site: 'site-a', device: 'NOPE', action: 'raise' });
    t.equal(unknown.status, 404);
    t.equal(unknown.body.code, 'ERR_DEVICE_NOT_FOUND');
    const otherSite = await h.call('POST', '/api/v1/commands', sec, { site: 'site-b', device: 'G9', action: 'hold_open' });
    t.equal(otherSite.status, 404, "another site's device answers as unknown");
    const byViewer = await h.call('POST', '/api/v1/commands', viewer, { site: 'site-a', device: 'G1', action: 'hold_open' });
    t.equal(byViewer.status, 403);
    h.failPublish.on = true;
    const down = await h.call('POST', '/api/v1/commands', sec, { site: 'site-a', device: 'G1', action: 'hold_open' });
    h.failPublish.on = false;
    t.equal(down.status, 503);
    t.equal(down.body.code, 'ERR_PUBLISH_FAILED');
    t.equal(await count('api_commands'), rows, 'no command recorded');
    t.equal(h.published.length, sent, 'nothing published');
  });

  t.test('warnings go to every display screen of the site as tracked commands', async (t) => {
    const before = h.published.length;
    const r = await h.call('POST', '/api/v1/warnings', sec, { site: 'site-a', message: 'Fire drill at 15:00, please stay calm', level: 'info' });
    t.equal(r.status, 202);
    t.same(r.body.commands.map((c: { device: string; action: string; purpose: string }) => `${c.device}:${c.action}:${c.purpose}`), ['D1:show_warning:warning', 'D2:show_warning:warning']);
    const msgs = h.published.slice(before).map((p) => JSON.parse(p.payload) as { command: { device: string; params: { message: string } } });
    t.same(msgs.map((m) => m.command.device), ['D1', 'D2']);
    t.equal(msgs[0]!.command.params.message, 'Fire drill at 15:00, please stay calm');
    const one = await h.call('POST', '/api/v1/warnings', sec, { site: 'site-a', message: 'Gate 1 closed', screens: ['D2'] });
    t.equal(one.body.commands.length, 1);
    const typo = await h.call('POST', '/api/v1/warnings', sec, { site: 'site-a', message: 'x', screens: ['D1', 'D404'] });
    t.equal(typo.status, 404);
    t.equal(h.published.length, before + 3, 'a list with an unknown screen sends to none');
    const none = await h.call('POST', '/api/v1/warnings', ADMIN_TOKEN, { site: 'site-b', message: 'x' });
    t.equal(none.status, 404);
    t.equal(none.body.code, 'ERR_NO_DISPLAYS');
  });

  t.test('OpenAPI is served at /openapi.json and describes the API', async (t) => {
    const r = await fetch(`${h.base}/openapi.json`);
    t.equal(r.status, 200);
    const doc = await r.json() as { openapi: string; paths: Record<string, Record<string, { requestBody?: unknown; summary?: string }>>; components: { securitySchemes: unknown } };
    t.equal(doc.openapi, '3.0.3');
    for (const p of ['/api/v1/alarms', '/api/v1/alarms/{id}/ack', '/api/v1/alarms/{id}/resolve', '/api/v1/commands', '/api/v1/commands/{id}', '/api/v1/events', '/api/v1/telemetry', '/api/v1/warnings', '/api/v1/reports', '/api/v1/incidents', '/api/v1/devices', '/alarms/{id}/snapshot']) {
      t.ok(doc.paths[p], `documents ${p}`);
    }
    t.ok(doc.paths['/api/v1/commands']?.post?.requestBody, 'request bodies are described');
    t.match(doc.components.securitySchemes, { bearer: { type: 'http', scheme: 'bearer' } });
  });

  t.test('rules: read by anyone, loaded by admins only, validated and versioned', async (t) => {
    const set = { version: 1, rules: [{ id: 'fire-confirm', type: 'double_knock', kinds: ['fire.alarm'], windowSec: 60, distinct: 'device', alarm: { type: 'fire.confirmed', severity: 'critical', message: 'two detectors' } }] };
    const bySec = await h.call('PUT', '/api/v1/rules', sec, set);
    t.equal(bySec.status, 403);
    const ok = await h.call('PUT', '/api/v1/rules', ADMIN_TOKEN, set);
    t.equal(ok.status, 200);
    t.equal(h.rules.version, 1, 'the engine runs the new version');
    const stale = await h.call('PUT', '/api/v1/rules', ADMIN_TOKEN, set);
    t.equal(stale.status, 409);
    t.equal(stale.body.code, 'ERR_RULES_VERSION');
    const bad = await h.call('PUT', '/api/v1/rules', ADMIN_TOKEN, { version: 2, rules: [{ id: 'x', type: 'teleport' }] });
    t.equal(bad.status, 400);
    t.equal(bad.body.code, 'ERR_RULES_INVALID');
    t.match(bad.body.message, /rules\/0/);
    const read = await h.call('GET', '/api/v1/rules', viewer);
    t.match(read.body, { active: { version: 1, loadedBy: 'user:admin', body: { rules: [{ id: 'fire-confirm' }] } }, versions: [{ version: 1 }] });
  });

  t.test('SLA figures per site, scoped to the caller', async (t) => {
    const mine = await h.call('GET', '/api/v1/sla', sec);
    t.equal(mine.status, 200);
    t.ok(mine.body.sites.length >= 1);
    t.ok(mine.body.sites.every((r: { site: string }) => r.site === 'site-a'), 'only site A');
    t.ok(mine.body.sites[0].acknowledged >= 1, 'the acknowledged alarms count');
    const other = await h.call('GET', '/api/v1/sla?site=site-b', sec);
    t.same(other.body.sites, []);
  });
}

/**
 * Issue 16, reading evidence: an alarm's clips (pending when announced, ready once uploaded), served as
 * video/mp4 with HTTP range requests to staff of the alarm's site only, with one audit row per view.
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { apiCall, basic, clipOf, createUser, postAlarmWithClips, smallMp4, startEvidenceIngest, uploadAll } from './helpers/evidence.js';

const { ingest, base } = await startEvidenceIngest(t, 'ev_read');
const secretA = await ingest.edges.issue('edge-a1', 'site-a');
const secretB = await ingest.edges.issue('edge-b1', 'site-b');
const authA = basic('edge-a1', secretA);
const guardA = await createUser(base, 'guard-a', 'security', ['site-a']);
const viewerA = await createUser(base, 'viewer-a', 'viewer', ['site-a']);
const guardB = await createUser(base, 'guard-b', 'security', ['site-b']);

const mp4 = await smallMp4(t);
const trigger = randomUUID();
const ready = clipOf(mp4, { trigger, camera: 'cam-door' });
const pending = clipOf(mp4, { trigger, camera: 'cam-lobby', startAt: new Date(Date.now() - 5_000).toISOString() });
const alarm = await postAlarmWithClips(base, authA, 'edge-a1', 'site-a', trigger, [ready, pending]);
const clipUrl = `/api/v1/alarms/${alarm}/clips/${ready.clip}`;
const views = async (): Promise<number> =>
  Number((await ingest.store.query<{ n: number }>(`SELECT count(*)::int AS n FROM api_audit WHERE route = '/api/v1/alarms/:id/clips/:clip' AND target = $1`, [alarm]))[0]?.n);

t.test('announced clips are pending in the alarm\'s evidence; uploaded ones turn ready', async (t) => {
  const before = await apiCall(base, 'GET', `/api/v1/alarms/${alarm}`, guardA);
  t.equal(before.status, 200);
  t.same(before.body.evidence.clips.map((c: { camera: string; status: string }) => [c.camera, c.status]), [['cam-door', 'pending'], ['cam-lobby', 'pending']]);
  t.match(before.body.evidence.clips[0], { clip: ready.clip, startAt: ready.startAt, durationMs: 30_000, blurred: null, url: clipUrl });
  const notYet = await apiCall(base, 'GET', clipUrl, guardA);
  t.equal(notYet.status, 404);
  t.equal(notYet.body.code, 'ERR_EVIDENCE_PENDING');
  t.same(await uploadAll(base, ready, 64 * 1024, authA).then((s) => s.at(-1)), 201);
  const after = await apiCall(base, 'GET', `/api/v1/alarms/${alarm}`, guardA);
  t.match(after.body.evidence.clips, [{ clip: ready.clip, status: 'ready', blurred: true, durationMs: 30_000, url: clipUrl }, { clip: pending.clip, status: 'pending' }]);
});

t.test('the whole clip is served as video/mp4 with accept-ranges and its length, and the view is audited', async (t) => {
  const before = await views();
  const r = await fetch(`${base}${clipUrl}`, { headers: { authorization: `Bearer ${viewerA}` } });
  t.equal(r.status, 200);
  t.equal(r.headers.get('content-type'), 'video/mp4');
  t.equal(r.headers.get('accept-ranges'), 'bytes');
  t.equal(r.headers.get('content-length'), String(mp4.length));
  t.ok(Buffer.from(await r.arrayBuffer()).equals(mp4), 'byte for byte');
  t.equal(await views() - before, 1, 'one audit row');
  const row = (await ingest.store.query<{ actor: string; detail: { action: string; clip: string } }>(`SELECT actor, detail FROM api_audit WHERE route = '/api/v1/alarms/:id/clips/:clip' ORDER BY id DESC LIMIT 1`))[0];
  t.match(row, { actor: 'viewer-a', detail: { action: 'evidence.view', clip: ready.clip } });
});

t.test('range requests answer 206 with exactly the bytes asked for; only the range from 0 is audited', async (t) => {
  const before = await views();
  const get = (range: string): Promise<Response> => fetch(`${base}${clipUrl}`, { headers: { authorization: `Bearer ${guardA}`, range } });
  const cases: Array<[string, number, number]> = [['bytes=0-99', 0, 99], ['bytes=1000-4095', 1000, 4095], [`bytes=${mp4.length - 10}-`, mp4.length - 10, mp4.length - 1], ['bytes=-500', mp4.length - 500, mp4.length - 1], [`bytes=100-${mp4.length + 1000}`, 100, mp4.length - 1]];
  for (const [range, start, end] of cases) {
    const r = await get(range);
    t.equal(r.status, 206, range);
    t.equal(r.headers.get('content-range'), `bytes ${start}-${end}/${mp4.length}`, range);
    t.equal(r.headers.get('content-length'), String(end - start + 1), range);
    t.ok(Buffer.from(await r.arrayBuffer()).equals(mp4.subarray(start, end + 1)), `${range}: the exact bytes`);
  }
  t.equal(await views() - before, 1, 'one view: the range that starts at 0');
  for (const bad of [`bytes=${mp4.length}-`, 'bytes=500-100', 'bytes=-0', 'bytes=x-y']) {
    const r = await get(bad);
    t.equal(r.status, 416, bad);
    t.equal(r.headers.get('content-range'), `bytes */${mp4.length}`, bad);
    await r.arrayBuffer();
  }
});

t.test('staff of another site, and callers without a token, get nothing of the clip', async (t) => {
  const other = await apiCall(base, 'GET', clipUrl, guardB);
  t.equal(other.status, 404);
  t.equal(other.body.code, 'ERR_ALARM_NOT_FOUND');
  t.equal((await apiCall(base, 'GET', clipUrl, null)).status, 401);
  const otherAlarm = await apiCall(base, 'GET', `/api/v1/alarms/${alarm}`, guardB);
  t.equal(otherAlarm.status, 404);
  // A site-B alarm whose trigger happens to be site A's event shows none of site A's clips.
  const forged = await postAlarmWithClips(base, basic('edge-b1', secretB), 'edge-b1', 'site-b', randomUUID(), []);
  await ingest.store.query('UPDATE alarms SET source_event_id = $1 WHERE id = $2', [trigger, forged]);
  const b = await apiCall(base, 'GET', `/api/v1/alarms/${forged}`, guardB);
  t.same(b.body.evidence.clips, [], 'no site-A clip on a site-B alarm');
  const viaB = await apiCall(base, 'GET', `/api/v1/alarms/${forged}/clips/${ready.clip}`, guardB);
  t.equal(viaB.status, 404);
  t.equal(viaB.body.code, 'ERR_EVIDENCE_NOT_FOUND');
});

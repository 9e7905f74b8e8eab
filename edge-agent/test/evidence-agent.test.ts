/**
 * Issue 16 end to end inside the agent: a simulated ONVIF camera over real RTSP is recorded from its main
 * profile; a fire alarm in the building the camera covers announces a clip at once (`evidence.clip`), and
 * the clip that reaches the real cloud route starts before the alarm by about the pre-roll, lasts about
 * pre + post, is blurred, and matches its sha256. The linkage alarm for the same event adds no second clip.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDatabase, MEDIA_DIR, MODELS_DIR, waitFor } from '@safe-community/testkit';
import { SimulatedFirePanel } from '@safe-community/simulators';
import { CameraRig } from '@safe-community/simulators/camera';
import { createIngestService } from '@safe-community/cloud-ingest';
import { EdgeAgent, loadEdgeConfig, probeVideo } from '@safe-community/edge-agent';
import { createLogger } from '@safe-community/runtime';

const CREDS = { username: 'installer', password: 's3cret-Pass' };
const PRE = 6;
const POST = 4;
const SEGMENT = 2;
const log = createLogger({ level: 'fatal' });
// Real RTSP, ffmpeg and the face model on a shared 2-core box: a loaded machine needs more than the suite's 120 s.
t.setTimeout(300000);

type Stored = { type: string; data: { id: string; kind?: string; type?: string; device: string; edgeTime?: string; sourceEventId?: string; payload?: Record<string, unknown> } };

t.test('a fire alarm gets a clip from the covering camera: announced, cut around the alarm, blurred, uploaded whole', async (t) => {
  const db = await freshDatabase('ev_edge_agent');
  const cloudDir = await mkdtemp(join(tmpdir(), 'ev-agent-cloud-'));
  const dir = await mkdtemp(join(tmpdir(), 'ev-agent-'));
  const ingest = createIngestService({ port: 0, host: '127.0.0.1', databaseUrl: db.url, maintenance: { enabled: false }, evidence: { dir: cloudDir } }, { logger: log });
  await ingest.start();
  const secret = await ingest.edges.issue('hub-ev', 'site-ev');
  const rig = new CameraRig({ video: join(MEDIA_DIR, 'vtest_20s_h264.mp4'), camera: { credentials: CREDS, snapshotFile: join(MEDIA_DIR, 'person.jpg') } });
  await rig.start();
  const agent = new EdgeAgent({
    config: loadEdgeConfig({
      edge: { id: 'hub-ev', site: 'site-ev' }, dataDir: dir, broker: { port: 0 }, admin: { enabled: false },
      uplink: { secret }, cloud: { url: `http://127.0.0.1:${ingest.address().port}` }, video: { modelsDir: MODELS_DIR },
      evidence: { preSec: PRE, postSec: POST, ringSeconds: 30, segmentSec: SEGMENT },
      devices: [{ id: 'FP1', kind: 'fire_panel', profile: 'fire_panel.nova-json', tags: { building: 'B1' } }],
      cameras: [
        { id: 'CAM1', hostname: '127.0.0.1', port: rig.camera.port, ...CREDS, events: false, tags: { covers: 'B1', fire_preset: 'gate' } },
        { id: 'CAM2', hostname: '127.0.0.1', port: rig.camera.port, ...CREDS, events: false, tags: { covers: 'B2' }, evidence: { enabled: false } },
      ],
    }),
    logger: log,
  });
  await agent.start();
  const panel = new SimulatedFirePanel({ url: `mqtt://127.0.0.1:${agent.broker.port}`, id: 'FP1', password: (await agent.broker.credentials.provision('FP1')).password, dialect: 'nova-json' });
  await panel.start();
  t.teardown(async () => {
    await panel.stop();
    await agent.stop();
    await rig.stop();
    await ingest.stop();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
    await rm(cloudDir, { recursive: true, force: true });
  });
  const stored = async (): Promise<Stored[]> => (await agent.outbox.readFrom(1, 10_000, 1 << 24)).map((r) => JSON.parse(r.json) as Stored);

  const evidence = agent.evidence!;
  t.same([...evidence.recorders.keys()], ['CAM1'], 'only the camera with evidence on is recorded');
  const recorder = evidence.recorders.get('CAM1')!;
  // Wait until the ring holds the whole pre-roll.
  await waitFor(() => (recorder.index.list()[0]?.startMs ?? Infinity) <= Date.now() - (PRE + SEGMENT) * 1000, { what: 'pre-roll recorded', timeoutMs: 60_000 });
  t.match((await agent.health()).parts['recorder:CAM1'], { state: 'up' }, 'the recorder reports up on /health');

  await panel.raiseAlarm({ zone: 3, loop: 1, detector: 7, type: 'smoke' });
  const fire = await waitFor(async () => (await stored()).find((r) => r.type === 'event' && r.data.kind === 'fire.alarm'), { what: 'fire.alarm stored' });
  const announced = await waitFor(async () => (await stored()).find((r) => r.type === 'event' && r.data.kind === 'evidence.clip'), { what: 'evidence.clip announced' });
  const eventAt = Date.parse(fire.data.edgeTime!);
  t.match(announced.data, { device: 'CAM1', payload: { camera: 'CAM1', triggerEventId: fire.data.id, triggerKind: 'fire.alarm' } }, 'the clip is announced with its trigger');
  // The trigger is the event, or the linkage's alarm for it when that is stored first (raised ms later).
  const startAt = Date.parse(String(announced.data.payload!.startAt));
  t.ok(startAt >= eventAt - PRE * 1000 && startAt <= eventAt - PRE * 1000 + 1000, 'startAt = trigger − pre');
  t.equal(Date.parse(String(announced.data.payload!.endAt)) - startAt, (PRE + POST) * 1000, 'endAt = trigger + post');
  const clip = String(announced.data.payload!.clip);

  const done = await waitFor(() => (evidence.queue.get(clip)?.state === 'uploaded' ? evidence.queue.get(clip) : null), { what: 'clip uploaded', timeoutMs: 90_000 });
  const preRollMs = eventAt - done.cutStartMs!;
  t.ok(preRollMs >= (PRE - SEGMENT) * 1000, `the clip starts at least pre − one segment before the alarm (${preRollMs} ms)`);
  t.ok(preRollMs <= (PRE + SEGMENT) * 1000 + 500, 'and not much earlier');
  const original = await probeVideo(done.original!);
  const want = (PRE + POST) * 1000;
  t.ok(original.durationMs >= want - SEGMENT * 1000 && original.durationMs <= want + SEGMENT * 1000 + 500, `the clip lasts about pre + post (${original.durationMs} ms)`);
  t.equal(original.width, 768, 'recorded at the stream\'s full size (stream copy)');

  const row = (await ingest.store.query('SELECT status, sha256, blurred, camera, trigger_event, storage_key FROM evidence_clips WHERE clip = $1', [clip]))[0] as Record<string, unknown> | undefined;
  t.match(row, { status: 'ready', blurred: true, camera: 'CAM1', sha256: done.upload!.sha256, trigger_event: fire.data.id }, 'the cloud has the blurred clip, with its trigger');
  const cloudFile = await readFile(join(cloudDir, String(row!.storage_key)));
  t.equal(createHash('sha256').update(cloudFile).digest('hex'), done.upload!.sha256, 'byte for byte');
  t.ok(Math.abs(done.upload!.durationMs - original.durationMs) <= 200, 'the blurred clip has the original\'s length');

  const alarm = (await stored()).find((r) => r.type === 'alarm' && r.data.type === 'fire.alarm');
  t.equal(alarm?.data.sourceEventId, fire.data.id, 'the linkage raised its alarm for the same event');
  t.equal(evidence.queue.list().length, 1, 'and that alarm made no second clip');
  const metrics = await agent.metrics.registry.metrics();
  t.match(metrics, /edge_evidence_clips_total\{[^}]*camera="CAM1"[^}]*outcome="made"[^}]*\} 1/);
  t.match(metrics, /edge_evidence_segments_total\{[^}]*camera="CAM1"[^}]*\} [1-9]/);
  t.match((await agent.health()).parts.evidence, { state: 'up' });
});

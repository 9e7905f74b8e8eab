/**
 * Issue 16, item 4, against the real cloud upload route (cloud-ingest, real PostgreSQL, file store): a clip
 * queued while the cloud is down waits, health says why, and it arrives whole (sha256 matches) once the
 * cloud is up; an upload cut off half way resumes from the cloud's offset after the edge restarts.
 */
import t from 'tap';
import { createHash, randomUUID } from 'node:crypto';
import { access, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIngestService, type IngestService } from '@safe-community/cloud-ingest';
import { createLogger, passedOn } from '@safe-community/runtime';
import { freePort, freshDatabase, waitFor } from '@safe-community/testkit';
import { Evidence, EvidenceQueue, remoteOffset, runFfmpeg, sha256File, uploadClip, type ClipManifest, type UploadTarget } from '@safe-community/edge-agent';

const log = createLogger({ level: 'fatal' });
const db = await freshDatabase('ev_edge_upload');
const cloudDir = await mkdtemp(join(tmpdir(), 'evidence-cloud-'));
const edgeDir = await mkdtemp(join(tmpdir(), 'evidence-edge-'));
const port = await freePort();
let ingest: IngestService | null = null;
const startCloud = async (): Promise<IngestService> => {
  const svc = createIngestService({ port, host: '127.0.0.1', databaseUrl: db.url, maintenance: { enabled: false }, evidence: { dir: cloudDir } }, { logger: log });
  await svc.start();
  ingest = svc;
  return svc;
};
t.teardown(async () => {
  await ingest?.stop();
  await db.drop();
  await rm(cloudDir, { recursive: true, force: true });
  await rm(edgeDir, { recursive: true, force: true });
});

// The edge's identity exists in the cloud before the outage.
const secret = await (await startCloud()).edges.issue('edge-ev', 'site-ev');
await ingest!.stop();
ingest = null;
const target: UploadTarget = { baseUrl: `http://127.0.0.1:${port}`, edge: 'edge-ev', secret, chunkBytes: 64 * 1024 };

/** A real H.264 MP4 of a few seconds (about 200–400 kB: several chunks). */
async function makeClip(name: string): Promise<{ file: string; bytes: number; sha256: string }> {
  const file = join(edgeDir, name);
  await runFfmpeg(['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=10:duration=4', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '10', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', file], {}, passedOn('TEST_MEDIA'));
  return { file, bytes: (await stat(file)).size, sha256: await sha256File(file) };
}

function manifest(f: { file: string; bytes: number; sha256: string }, kind = 'door.forced'): ClipManifest {
  const now = Date.now();
  return {
    clip: randomUUID(), camera: 'CAM1', triggerEventId: randomUUID(), triggerKind: kind, triggerDevice: 'G1', severity: 'major',
    eventAtMs: now - 20_000, fromMs: now - 30_000, toMs: now - 10_000, createdAt: new Date(now).toISOString(), state: 'queued', blurred: f.file,
    upload: { ...f, blurred: true, startMs: now - 30_000, durationMs: 4000 },
  };
}

function evidenceOn(dir: string): Evidence {
  return new Evidence({
    site: 'site-ev', edge: 'edge-ev', dir,
    settings: {
      preSec: 10, postSec: 20, ringSeconds: 60, ringMaxBytes: 1 << 26, segmentSec: 2, keepOriginalDays: 7, queueMaxBytes: 1 << 30,
      sendUnblurred: false, blurEveryFrames: 2, triggers: { kinds: ['fire.*'], minSeverity: 'major', ignore: [] },
    },
    // Short retries: the cloud's start (migrations) may take a while on a loaded box, and the clip must go soon after.
    cameras: [], tagsOf: () => undefined, sink: { append: async () => 1 }, upload: target, uploadRetry: { initialMs: 200, maxMs: 1000 }, log,
  });
}

const cloudRow = async (clip: string) => (await ingest!.store.query('SELECT site, edge, status, bytes, sha256, storage_key, blurred FROM evidence_clips WHERE clip = $1', [clip]))[0] as
  { site: string; edge: string; status: string; bytes: string; sha256: string; storage_key: string; blurred: boolean } | undefined;

t.test('a clip queued while the cloud is down waits, says why, and arrives whole when the cloud comes up', async (t) => {
  const dir = join(edgeDir, 'down');
  const f = await makeClip('down.mp4');
  const m = manifest(f);
  await new EvidenceQueue(join(dir, 'queue'), log).save(m);
  const evidence = evidenceOn(dir);
  await evidence.start();
  t.teardown(() => evidence.stop());

  await waitFor(() => evidence.stats().uploadFailures >= 2, { what: 'upload attempts failing', timeoutMs: 20_000 });
  const h = evidence.health();
  t.equal(h.state, 'degraded');
  t.match(h.reason, /uploads failing: ERR_EVIDENCE_UPLOAD_NETWORK: cloud not reachable.*\(1 waiting\)/, `health says why: ${h.reason}`);
  t.equal(evidence.queue.get(m.clip)?.state, 'queued', 'the clip waits in the queue');

  await startCloud();
  await waitFor(() => evidence.queue.get(m.clip)?.state === 'uploaded', { what: 'clip uploaded', timeoutMs: 30_000 });
  const row = await cloudRow(m.clip);
  t.match(row, { site: 'site-ev', edge: 'edge-ev', status: 'ready', sha256: f.sha256, blurred: true });
  t.equal(Number(row!.bytes), f.bytes);
  const stored = await readFile(join(cloudDir, row!.storage_key));
  t.equal(createHash('sha256').update(stored).digest('hex'), f.sha256, 'the stored clip is the edge\'s file, byte for byte');
  await t.rejects(access(f.file), 'the blurred copy is deleted from the edge once the cloud has it');
  t.same(evidence.health(), { state: 'up' }, 'health is up again');
  t.same(await new EvidenceQueue(join(dir, 'queue'), log).load().then((all) => all.map((x) => x.state)), ['uploaded'], 'the manifest on disk says uploaded');
  await ingest!.stop();
  ingest = null;
});

t.test('an upload cut off half way resumes from the cloud\'s offset after the edge restarts', async (t) => {
  await startCloud();
  const dir = join(edgeDir, 'resume');
  const f = await makeClip('resume.mp4');
  t.ok(f.bytes > 3 * target.chunkBytes, `several chunks (${f.bytes} bytes)`);
  const m = manifest(f, 'fire.alarm');
  await new EvidenceQueue(join(dir, 'queue'), log).save(m);

  // The first run sends two chunks and dies: its progress callback throws after the second.
  const sent: number[] = [];
  await t.rejects(uploadClip(target, m, (offset) => {
    sent.push(offset);
    if (sent.length === 2) throw new Error('power cut');
  }), /power cut/);
  t.equal(await remoteOffset(target, m.clip), 2 * target.chunkBytes, 'the cloud holds two chunks');

  // After the restart: the queue is read from disk and the upload goes on from the cloud's offset.
  const queue = new EvidenceQueue(join(dir, 'queue'), log);
  const [again] = await queue.load();
  t.equal(again?.state, 'queued');
  const resumed: number[] = [];
  await uploadClip(target, again!, (offset) => resumed.push(offset));
  t.equal(resumed[0], 3 * target.chunkBytes, 'the first chunk sent after the restart is the third');
  t.equal(await remoteOffset(target, m.clip), 'complete');
  const row = await cloudRow(m.clip);
  t.match(row, { status: 'ready', sha256: f.sha256 });
  t.equal(createHash('sha256').update(await readFile(join(cloudDir, row!.storage_key))).digest('hex'), f.sha256, 'whole and unchanged');
});

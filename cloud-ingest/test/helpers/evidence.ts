/** A real ingest with a file evidence store in a temporary folder, and the calls an edge makes to upload a clip. */
import type { Test } from 'tap';
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIngestService, type IngestService } from '@safe-community/cloud-ingest';
import { createLogger } from '@safe-community/runtime';
import { MEDIA_DIR, checkStoreVariant, freshDatabase } from '@safe-community/testkit';
import { ADMIN_TOKEN } from '../api-harness.js';

export { ADMIN_TOKEN };

export interface EvidenceIngest {
  ingest: IngestService;
  dir: string;
  base: string;
}

export async function startEvidenceIngest(t: Test, name: string, extra: Record<string, unknown> = {}): Promise<EvidenceIngest> {
  const db = await freshDatabase(name);
  const dir = await mkdtemp(join(tmpdir(), 'evidence-'));
  const { evidence, ...rest } = extra as { evidence?: Record<string, unknown> };
  const ingest = createIngestService({
    port: 0, databaseUrl: db.url, maintenance: { enabled: false }, api: { adminToken: ADMIN_TOKEN }, evidence: { dir, ...evidence }, ...rest,
  }, { logger: createLogger({ level: 'silent' }) });
  await ingest.start();
  await checkStoreVariant(ingest.store.timescale);
  t.teardown(async () => {
    await ingest.stop();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });
  return { ingest, dir, base: `http://127.0.0.1:${ingest.address().port}` };
}

export const basic = (edge: string, secret: string): string => `Basic ${Buffer.from(`${edge}:${secret}`).toString('base64')}`;

export interface ClipToSend {
  clip: string;
  data: Buffer;
  sha256: string;
  trigger: string;
  camera: string;
  blurred: boolean;
  startAt: string;
  durationMs: number;
}

export function clipOf(data: Buffer, over: Partial<ClipToSend> = {}): ClipToSend {
  return {
    clip: randomUUID(), data, sha256: createHash('sha256').update(data).digest('hex'), trigger: randomUUID(), camera: 'cam-gate',
    blurred: true, startAt: new Date(Date.now() - 10_000).toISOString(), durationMs: 30_000, ...over,
  };
}

/** The contract's headers for bytes [start, end] of `c`. */
export function chunkHeaders(c: ClipToSend, start: number, end: number, auth?: string, over: Record<string, string> = {}): Record<string, string> {
  return {
    'content-type': 'application/octet-stream',
    'content-range': `bytes ${start}-${end}/${c.data.length}`,
    'evidence-camera': c.camera,
    'evidence-trigger': c.trigger,
    'evidence-trigger-kind': 'door.forced',
    'evidence-severity': 'major',
    'evidence-start': c.startAt,
    'evidence-duration-ms': String(c.durationMs),
    'evidence-blurred': c.blurred ? '1' : '0',
    'evidence-sha256': c.sha256,
    ...(auth ? { authorization: auth } : {}),
    ...over,
  };
}

export function putChunk(base: string, c: ClipToSend, start: number, end: number, auth?: string, over: Record<string, string> = {}, body?: Buffer): Promise<Response> {
  return fetch(`${base}/ingest/v1/evidence/${c.clip}`, {
    method: 'PUT', headers: chunkHeaders(c, start, end, auth, over), body: body ?? c.data.subarray(start, end + 1),
  });
}

export function headClip(base: string, clip: string, auth?: string, over: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/ingest/v1/evidence/${clip}`, { method: 'HEAD', headers: { ...(auth ? { authorization: auth } : {}), ...over } });
}

/** Sends the whole clip in chunks of `size`; returns the statuses. */
export async function uploadAll(base: string, c: ClipToSend, size: number, auth?: string): Promise<number[]> {
  const statuses: number[] = [];
  for (let start = 0; start < c.data.length; start += size) {
    const r = await putChunk(base, c, start, Math.min(start + size, c.data.length) - 1, auth);
    await r.arrayBuffer();
    statuses.push(r.status);
  }
  return statuses;
}

/** A real, small H.264 MP4 (4 s of the test video, stream copy, moov first), made with ffmpeg. */
export async function smallMp4(t: Test): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'evidence-mp4-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const out = join(dir, 'clip.mp4');
  await new Promise<void>((resolve, reject) => {
    execFile('ffmpeg', ['-v', 'error', '-y', '-i', join(MEDIA_DIR, 'vtest_20s_h264.mp4'), '-t', '4', '-c', 'copy', '-an', '-movflags', '+faststart', out],
      (err) => (err ? reject(err) : resolve()));
  });
  return readFile(out);
}

export interface ApiAnswer {
  status: number;
  body: any;
  headers: Headers;
}

export async function apiCall(base: string, method: string, path: string, token: string | null, body?: unknown, headers: Record<string, string> = {}): Promise<ApiAnswer> {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  let parsed: unknown = text;
  try { parsed = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, body: parsed, headers: r.headers };
}

export async function createUser(base: string, id: string, role: 'admin' | 'security' | 'installer' | 'viewer', sites: '*' | string[]): Promise<string> {
  const r = await apiCall(base, 'POST', '/api/v1/users', ADMIN_TOKEN, { id, role, sites });
  if (r.status !== 201) throw new Error(`user ${id} not created: ${r.status} ${JSON.stringify(r.body)}`);
  return String(r.body.token);
}

/**
 * An edge's door.forced event, its alarm, and the evidence.clip events announcing `clips` (as the edge's
 * outbox sends them), posted through the HTTP ingest under the edge's credentials. Returns the alarm id.
 */
export async function postAlarmWithClips(base: string, auth: string, edge: string, site: string, trigger: string, clips: ClipToSend[], firstSeq = 1): Promise<string> {
  const now = new Date().toISOString();
  const alarm = randomUUID();
  const messages = [
    { type: 'event', data: { id: trigger, site, edge, device: 'door-1', kind: 'door.forced', severity: 'major', edgeTime: now, payload: {} } },
    { type: 'alarm', data: { id: alarm, site, edge, device: 'door-1', type: 'door.forced', severity: 'major', state: 'open', raisedAt: now, count: 1, message: 'door forced', sourceEventId: trigger } },
    ...clips.map((c) => ({
      type: 'event',
      data: {
        id: randomUUID(), site, edge, device: c.camera, kind: 'evidence.clip', severity: 'major', edgeTime: now,
        payload: { clip: c.clip, camera: c.camera, triggerEventId: trigger, triggerKind: 'door.forced', startAt: c.startAt, endAt: new Date(Date.parse(c.startAt) + c.durationMs).toISOString() },
      },
    })),
  ].map((m, i) => ({ seq: firstSeq + i, ...m }));
  const r = await fetch(`${base}/ingest/v1/envelopes`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: auth },
    body: JSON.stringify({ v: 1, edge, site, sentAt: now, messages }),
  });
  const body = await r.json() as { upTo?: number; rejected?: unknown[] };
  if (r.status !== 200 || (body.rejected ?? []).length > 0) throw new Error(`envelope not taken: ${r.status} ${JSON.stringify(body)}`);
  return alarm;
}

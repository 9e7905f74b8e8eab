/** A real ingest with a file evidence store in a temporary folder, and the calls an edge makes to upload a clip. */
import type { Test } from 'tap';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIngestService, type IngestService } from '@safe-community/cloud-ingest';
import { createLogger } from '@safe-community/runtime';
import { freshDatabase } from '@safe-community/testkit';

export const ADMIN_TOKEN = 'evidence-admin-token-0123456789abcdef';

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

/**
 * Uploads one clip to the cloud ingest by the resumable protocol of issue #16: HEAD tells how many bytes
 * the cloud already has, PUT sends the rest in chunks with `content-range`, the last chunk makes the cloud
 * check the size and sha256 and store the clip. The edge authenticates as itself (Basic edge:secret, as
 * the HTTP envelope ingest does). A refusal that would repeat (unblurred refused, too large, bad headers)
 * is permanent; everything else (network, 5xx, auth, offset races, a hash mismatch) is retried by the
 * caller with backoff, and the next try starts from the offset HEAD reports.
 */
import { open } from 'node:fs/promises';
import { CodedError, passedOn, type ErrorCode, type PassedOnCode } from '@safe-community/runtime';
import type { ClipManifest } from './queue.js';

export interface UploadTarget {
  /** Cloud ingest base URL, e.g. http://127.0.0.1:8080. */
  baseUrl: string;
  edge: string;
  /** The edge's own credential (uplink.secret); unset on a development edge. */
  secret?: string;
  chunkBytes: number;
}

/** An upload that did not complete; `permanent` ones are not tried again. */
export class UploadError extends CodedError {
  constructor(code: ErrorCode | PassedOnCode, message: string, readonly permanent: boolean, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

const PERMANENT = new Set([400, 403, 413]);

function clipUrl(target: UploadTarget, clip: string): string {
  return `${target.baseUrl.replace(/\/+$/, '')}/ingest/v1/evidence/${encodeURIComponent(clip)}`;
}

function authHeader(target: UploadTarget): Record<string, string> {
  return target.secret ? { authorization: `Basic ${Buffer.from(`${target.edge}:${target.secret}`).toString('base64')}` } : {};
}

async function request(url: string, init: RequestInit, stop?: AbortSignal): Promise<Response> {
  const timeout = AbortSignal.timeout(60_000);
  try {
    return await fetch(url, { ...init, signal: stop ? AbortSignal.any([timeout, stop]) : timeout });
  } catch (err) {
    throw new UploadError('ERR_EVIDENCE_UPLOAD_NETWORK', `cloud not reachable: ${(err as Error).message}`, false, { cause: err });
  }
}

/** Bytes the cloud holds of this clip, or 'complete'. */
export async function remoteOffset(target: UploadTarget, clip: string, stop?: AbortSignal): Promise<number | 'complete'> {
  const res = await request(clipUrl(target, clip), { method: 'HEAD', headers: authHeader(target) }, stop);
  if (res.status === 404) return 0;
  if (res.status !== 200) throw new UploadError('ERR_EVIDENCE_UPLOAD_HTTP', `HEAD answered ${res.status}`, false);
  if (res.headers.get('upload-complete') === '1') return 'complete';
  return Number(res.headers.get('upload-offset') ?? 0);
}

/**
 * Sends what the cloud does not have yet. `onProgress` hears each accepted chunk's new offset; `stop`
 * aborts the request in flight (the agent is stopping). Resolves when the cloud has the whole clip.
 */
export async function uploadClip(target: UploadTarget, m: ClipManifest, onProgress?: (offset: number) => void, stop?: AbortSignal): Promise<void> {
  const up = m.upload;
  if (!up) throw new UploadError('ERR_EVIDENCE_NOT_READY', `clip ${m.clip} has no file to upload`, true);
  let offset = await remoteOffset(target, m.clip, stop);
  if (offset === 'complete') return;
  const meta: Record<string, string> = {
    'evidence-camera': m.camera,
    'evidence-trigger': m.triggerEventId,
    'evidence-trigger-kind': m.triggerKind,
    'evidence-severity': m.severity,
    'evidence-start': new Date(up.startMs).toISOString(),
    'evidence-duration-ms': String(Math.round(up.durationMs)),
    'evidence-blurred': up.blurred ? '1' : '0',
    'evidence-sha256': up.sha256,
  };
  const fh = await open(up.file, 'r');
  let conflicts = 0;
  try {
    for (;;) {
      const start: number = offset;
      if (start >= up.bytes) throw new UploadError('ERR_EVIDENCE_OFFSET', `cloud holds ${start} of ${up.bytes} bytes but not the whole clip`, false);
      const end = Math.min(start + target.chunkBytes, up.bytes) - 1;
      const body = Buffer.alloc(end - start + 1);
      await fh.read(body, 0, body.length, start);
      const res = await request(clipUrl(target, m.clip), {
        method: 'PUT',
        headers: { ...authHeader(target), ...meta, 'content-type': 'application/octet-stream', 'content-range': `bytes ${start}-${end}/${up.bytes}` },
        body,
      }, stop);
      const text = await res.text();
      // The cloud's own code is passed on as it came (it names the cloud's reason, not this edge's).
      const code = (() => { try { const c = (JSON.parse(text) as { code?: unknown }).code; return typeof c === 'string' ? passedOn(c) : undefined; } catch { return undefined; } })();
      if (res.status === 201 || (res.status === 200 && res.headers.get('upload-complete') === '1')) return;
      if (res.status === 200 || res.status === 202 || res.status === 409) {
        if (res.status === 409 && ++conflicts > 3) throw new UploadError('ERR_EVIDENCE_OFFSET', `cloud offset keeps moving (${text.slice(0, 200)})`, false);
        const next = Number(res.headers.get('upload-offset') ?? NaN);
        if (!Number.isFinite(next)) throw new UploadError('ERR_EVIDENCE_UPLOAD_HTTP', `PUT answered ${res.status} without upload-offset`, false);
        offset = next;
        onProgress?.(offset);
        continue;
      }
      const why = `PUT answered ${res.status}${code ? ` ${code}` : ''}: ${text.slice(0, 300)}`;
      // A hash mismatch discards the cloud's partial copy: the next try starts from 0 (HEAD says so).
      if (res.status === 422) throw new UploadError(code ?? 'ERR_EVIDENCE_HASH', why, false);
      if (res.status === 403 && code !== 'ERR_EVIDENCE_UNBLURRED') throw new UploadError(code ?? 'ERR_EVIDENCE_FORBIDDEN', why, false);
      throw new UploadError(code ?? 'ERR_EVIDENCE_UPLOAD_HTTP', why, PERMANENT.has(res.status));
    }
  } finally {
    await fh.close();
  }
}

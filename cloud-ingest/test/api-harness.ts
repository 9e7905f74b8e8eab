/**
 * Test harness for the API: a real store (PostgreSQL from freshDatabase(), or PGlite), the real alarm
 * service, and registerApi() on its own Fastify app listening on 127.0.0.1. Data reaches the tables the way
 * production data does: envelopes through prepareEnvelope() and Store.writeBatch().
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { createLogger } from '@safe-community/runtime';
import { checkStoreVariant, freshDatabase } from '@safe-community/testkit';
import {
  PgStore, PgliteStore, prepareEnvelope, createAlarmService, RuleEngine, registerApi,
  type Store, type AlarmLifecycle, type ApiDeps, type ApiHandle,
} from '@safe-community/cloud-ingest';
import type { DeviceKind, UplinkMessage } from '@safe-community/contracts';

export const ADMIN_TOKEN = 'admin-bootstrap-token-0123456789abcdef';
const silent = createLogger({ level: 'silent' });

export interface Harness {
  base: string;
  store: Store;
  alarms: AlarmLifecycle;
  rules: RuleEngine;
  api: ApiHandle;
  app: FastifyInstance;
  published: Array<{ topic: string; payload: string }>;
  /** When set, the next publish throws (a broker that is away). */
  failPublish: { on: boolean };
  /** Creates a user through the API as the bootstrap admin; returns its token. */
  user(id: string, role: 'admin' | 'security' | 'installer' | 'viewer', sites: '*' | string[]): Promise<string>;
  /** Writes uplink records of one edge through the ingest's own path; seqs continue per edge. */
  ingest(edge: string, site: string, messages: Array<Omit<UplinkMessage, 'seq'>>): Promise<void>;
  call(method: string, path: string, token: string | null, body?: unknown): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

export async function harness(opts: { backend?: 'pg' | 'pglite'; api?: Partial<ApiDeps> } = {}): Promise<Harness> {
  const db = opts.backend === 'pglite' ? null : await freshDatabase('api');
  const store: Store = db ? new PgStore({ url: db.url, logger: silent }) : new PgliteStore({ logger: silent });
  await store.start();
  if (db) await checkStoreVariant(store.timescale);
  const alarms = createAlarmService({ db: store, logger: silent, pollMs: 60_000 });
  await alarms.start();
  const rules = new RuleEngine({ alarms, logger: silent, pollMs: 60_000 });
  await rules.start();
  const published: Harness['published'] = [];
  const failPublish = { on: false };
  const app = Fastify({ logger: false });
  const api = await registerApi(app, {
    db: store, alarms, rules, logger: silent, adminToken: ADMIN_TOKEN,
    publish: async (topic, payload) => {
      if (failPublish.on) throw new Error('broker unreachable');
      published.push({ topic, payload });
    },
    ...opts.api,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const seqs = new Map<string, number>();

  const call: Harness['call'] = async (method, path, token, body) => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const r = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });
    const text = await r.text();
    let parsed: unknown = text;
    try { parsed = JSON.parse(text); } catch { /* not JSON (HTML page, script): kept as text */ }
    return { status: r.status, body: parsed, headers: r.headers };
  };

  return {
    base, store, alarms, rules, api, app, published, failPublish, call,
    async user(id, role, sites) {
      const r = await call('POST', '/api/v1/users', ADMIN_TOKEN, { id, role, sites });
      if (r.status !== 201) throw new Error(`user ${id} not created: ${r.status} ${JSON.stringify(r.body)}`);
      return (r.body as { token: string }).token;
    },
    async ingest(edge, site, messages) {
      let seq = seqs.get(edge) ?? 0;
      const withSeq = messages.map((m) => ({ ...m, seq: ++seq }));
      seqs.set(edge, seq);
      const prepared = prepareEnvelope(JSON.stringify({ v: 1, edge, site, sentAt: new Date().toISOString(), messages: withSeq }), 'test');
      if (prepared.kind === 'dead') throw new Error(`test envelope refused: ${prepared.record.reason}`);
      const r = await store.writeBatch(prepared.batch);
      if (r.gap || r.deadLettered > 0) throw new Error(`test envelope not fully written: ${JSON.stringify(r)}`);
    },
    async close() {
      await app.close();
      await rules.stop();
      await alarms.stop();
      await store.stop();
      await db?.drop();
    },
  };
}

export const iso = (offsetMs = 0): string => new Date(Date.now() + offsetMs).toISOString();

export function statusMsg(site: string, edge: string, device: string, kind?: DeviceKind, state?: Record<string, unknown>, online = true): Omit<UplinkMessage, 'seq'> {
  return { type: 'status', data: { site, edge, device, kind, online, at: iso(), state } } as Omit<UplinkMessage, 'seq'>;
}

export function eventMsg(site: string, edge: string, device: string, kind: string, time: string): Omit<UplinkMessage, 'seq'> {
  return { type: 'event', data: { id: randomUUID(), site, edge, device, kind, severity: 'major', edgeTime: time, payload: { n: 1 } } } as Omit<UplinkMessage, 'seq'>;
}

export function telemetryMsg(site: string, edge: string, device: string, metric: string, value: number, time: string): Omit<UplinkMessage, 'seq'> {
  return { type: 'telemetry', data: { site, edge, device, metric, value, unit: 'C', time } } as Omit<UplinkMessage, 'seq'>;
}

export function resultMsg(site: string, edge: string, device: string, commandId: string, action: string, status: 'confirmed' | 'rejected'): Omit<UplinkMessage, 'seq'> {
  return { type: 'command_result', data: { commandId, site, edge, device, action, status, attempts: 1, latencyMs: 35, at: iso() } } as Omit<UplinkMessage, 'seq'>;
}

/**
 * The one transaction per envelope, shared by both backends: lock the edge's cursor row, skip what is
 * already stored, refuse a gap, write the new records grouped by type with multi-row `unnest` inserts,
 * record rejected records in dead_letters, advance the cursor. The cursor row lock is what keeps two
 * ingest instances that receive the same edge's batches from writing anything twice.
 */
import type { UplinkMessage } from '@safe-community/contracts';
import { confine } from './confine.js';
import type { Tx } from './db.js';
import type { EdgeCursorRow } from './rows.js';
import { CodedError } from '@safe-community/runtime';
import { emptyWritten, type BatchItem, type IngestBatch, type WriteResult } from './types.js';
import { upsertAlarm } from '../alarms/upsert.js';

export type { Tx } from './db.js';

type Of<T extends UplinkMessage['type']> = Extract<UplinkMessage, { type: T }>;
export type TelemetryItem = Of<'telemetry'>;

export interface WriteOptions {
  /**
   * Write each record under its own savepoint and dead-letter the ones the database refuses. Used only
   * after a batch failed with a data error, so one unstorable record cannot block its edge forever.
   */
  isolate: boolean;
  /** Bulk path for telemetry (COPY on PostgreSQL); used when the batch has at least copyThreshold rows. */
  copyTelemetry?: (edge: string, rows: TelemetryItem[]) => Promise<void>;
  copyThreshold?: number;
}

/** SQLSTATE classes that mean "this record cannot be stored", as opposed to "the database is not there". */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || code.length !== 5) return false;
  // 23505 (unique violation) here is a race on the one-active-alarm index with a concurrent writer: a retry settles it.
  if (code === '23505') return false;
  return code.startsWith('22') || code.startsWith('23') || code.startsWith('54');
}

interface Cursor { last: number; epoch: string | null; offset: number }

async function lockCursor(tx: Tx, edge: string, site: string): Promise<Cursor> {
  const sel = 'SELECT last_seq, epoch, seq_offset FROM edge_cursor WHERE edge = $1 FOR UPDATE';
  type Locked = Pick<EdgeCursorRow, 'last_seq' | 'epoch' | 'seq_offset'>;
  let row = (await tx.query<Locked>(sel, [edge])).rows[0];
  if (!row) {
    await tx.query('INSERT INTO edge_cursor (edge, site) VALUES ($1, $2) ON CONFLICT (edge) DO NOTHING', [edge, site]);
    row = (await tx.query<Locked>(sel, [edge])).rows[0];
  }
  // The insert above makes the row exist (ours or a concurrent writer's, which the lock waited for).
  if (!row) throw new CodedError('ERR_STORE_UNAVAILABLE', `edge_cursor row of ${edge} vanished under its lock`);
  return { last: Number(row.last_seq), epoch: row.epoch ?? null, offset: Number(row.seq_offset) };
}

/**
 * Follows the edge's outbox epoch. The first epoch an edge names is adopted as it is (an edge upgraded to
 * send epochs continues its numbering). A different epoch whose batch starts at seq 1 is a new outbox: its
 * numbering restarts, stored after everything of the old one. A different epoch that does not start at 1
 * belongs to an outbox the edge has left (a late envelope, or two boxes sharing one edge id): refused whole.
 */
async function followEpoch(tx: Tx, batch: IngestBatch, cur: Cursor): Promise<Cursor | 'stale' | 'new-epoch'> {
  if (!batch.epoch || batch.epoch === cur.epoch) return cur;
  if (cur.epoch === null) {
    await tx.query('UPDATE edge_cursor SET epoch = $2 WHERE edge = $1', [batch.edge, batch.epoch]);
    return { ...cur, epoch: batch.epoch };
  }
  if (batch.items[0]?.seq !== 1) return 'stale';
  const offset = cur.offset + cur.last;
  await tx.query('UPDATE edge_cursor SET epoch = $2, seq_offset = $3, last_seq = 0 WHERE edge = $1', [batch.edge, batch.epoch, offset]);
  return 'new-epoch';
}

export async function writeBatchTx(tx: Tx, batch: IngestBatch, opts: WriteOptions): Promise<WriteResult> {
  const locked = await lockCursor(tx, batch.edge, batch.site);
  const followed = await followEpoch(tx, batch, locked);
  if (followed === 'stale') {
    await tx.query(
      // seq NULL: the records are numbered in an epoch this cursor no longer follows (their seqs are in the payload).
      `INSERT INTO dead_letters (source, edge, seq, code, reason, payload) VALUES ($1, $2, NULL, 'ERR_EPOCH_STALE', $3, $4)`,
      [batch.source, batch.edge,
        `envelope of outbox epoch ${batch.epoch} starting at seq ${batch.items[0]?.seq}, but the edge now sends epoch ${locked.epoch}: a late envelope of a replaced outbox, or two edges with one id`,
        JSON.stringify({ epoch: batch.epoch, seqs: batch.items.map((i) => i.seq) }).slice(0, 65_536)]);
    return { upTo: locked.last, gap: false, written: emptyWritten(), duplicates: 0, deadLettered: batch.items.length, deferred: 0, epoch: 'stale' };
  }
  const cur = followed === 'new-epoch' ? { last: 0, epoch: batch.epoch!, offset: locked.offset + locked.last } : followed;
  const last = cur.last;
  const result: WriteResult = { upTo: last, gap: false, written: emptyWritten(), duplicates: 0, deadLettered: 0, deferred: 0, ...(followed === 'new-epoch' ? { epoch: 'new' as const } : {}) };
  const fresh: BatchItem[] = [];
  for (const it of batch.items) {
    if (it.seq <= last) result.duplicates++;
    else fresh.push(it);
  }
  if (fresh.length === 0) return result;
  if (fresh[0]!.seq > last + 1) {
    result.gap = true;
    result.deferred = fresh.length;
    return result;
  }
  // Only the run that continues the cursor is taken; anything after a hole inside the batch is resent later.
  let upTo = last;
  const take: BatchItem[] = [];
  for (const it of fresh) {
    if (it.seq !== upTo + 1) break;
    take.push(it);
    upTo = it.seq;
  }
  result.deferred = fresh.length - take.length;

  // Stored in the edge's global numbering: the epoch's offset added (0 for an edge's first outbox).
  const stored = cur.offset === 0 ? take : take.map((i) => shift(i, cur.offset));
  const dead: Array<Extract<BatchItem, { ok: false }>> = stored.filter((i): i is Extract<BatchItem, { ok: false }> => !i.ok);
  // Records that reach beyond this edge's own devices, alarms or commands are refused in their place.
  const { good, refused } = await confine(tx, batch.edge, batch.site, stored.filter((i): i is Extract<BatchItem, { ok: true }> => i.ok));
  dead.push(...refused);
  if (refused.length > 0) result.refused = refused.map((r) => ({ seq: r.seq - cur.offset, code: r.code, reason: r.reason }));
  if (opts.isolate) {
    for (const it of good) {
      await tx.query('SAVEPOINT rec');
      try {
        await writeGroups(tx, batch.edge, [it], { isolate: true });
        await tx.query('RELEASE SAVEPOINT rec');
        result.written[it.msg.type]++;
      } catch (err) {
        if (!isDataError(err)) throw err;
        await tx.query('ROLLBACK TO SAVEPOINT rec');
        const e = err as { code?: string; message?: string };
        dead.push({ seq: it.seq, ok: false, code: 'ERR_STORE_REJECTED', reason: `database refused the record: ${e.code} ${e.message}`, payload: JSON.stringify(it) });
      }
    }
  } else {
    const counts = await writeGroups(tx, batch.edge, good, opts);
    for (const k of Object.keys(counts) as Array<keyof typeof counts>) result.written[k] += counts[k];
  }
  if (dead.length > 0) {
    await tx.query(
      `INSERT INTO dead_letters (source, edge, seq, code, reason, payload)
       SELECT $1, $2, s, c, r, p FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[]) AS u(s, c, r, p)`,
      [batch.source, batch.edge, dead.map((d) => d.seq), dead.map((d) => d.code), dead.map((d) => d.reason), dead.map((d) => d.payload)],
    );
    result.deadLettered = dead.length;
  }
  await tx.query('UPDATE edge_cursor SET last_seq = $2, site = $3, updated_at = now() WHERE edge = $1', [batch.edge, upTo, batch.site]);
  result.upTo = upTo;
  return result;
}

type Good = Extract<BatchItem, { ok: true }>;

function shift(it: BatchItem, offset: number): BatchItem {
  return it.ok ? { ...it, seq: it.seq + offset, msg: { ...it.msg, seq: it.msg.seq + offset } } : { ...it, seq: it.seq + offset };
}

async function writeGroups(tx: Tx, edge: string, items: Good[], opts: WriteOptions): Promise<Record<UplinkMessage['type'], number>> {
  const groups = { event: [] as Of<'event'>[], telemetry: [] as Of<'telemetry'>[], status: [] as Of<'status'>[],
    command_result: [] as Of<'command_result'>[], alarm: [] as Of<'alarm'>[], linkage: [] as Of<'linkage'>[] };
  for (const { msg } of items) (groups[msg.type] as UplinkMessage[]).push(msg);
  if (groups.event.length) await insertEvents(tx, edge, groups.event);
  if (groups.telemetry.length) {
    if (opts.copyTelemetry && groups.telemetry.length >= (opts.copyThreshold ?? Infinity)) await opts.copyTelemetry(edge, groups.telemetry);
    else await insertTelemetry(tx, edge, groups.telemetry);
  }
  if (groups.command_result.length) await insertCommandResults(tx, edge, groups.command_result);
  if (groups.linkage.length) await insertLinkage(tx, edge, groups.linkage);
  if (groups.status.length) await upsertStatus(tx, edge, groups.status);
  for (const a of groups.alarm) await writeEdgeAlarm(tx, edge, a);
  return { event: groups.event.length, telemetry: groups.telemetry.length, status: groups.status.length,
    command_result: groups.command_result.length, alarm: groups.alarm.length, linkage: groups.linkage.length };
}

const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));

async function insertEvents(tx: Tx, edge: string, ms: Of<'event'>[]): Promise<void> {
  await tx.query(
    `INSERT INTO events (edge, seq, id, site, device, kind, severity, device_time, time, tags, payload)
     SELECT $1::text, * FROM unnest($2::bigint[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[],
                              $8::timestamptz[], $9::timestamptz[], $10::jsonb[], $11::jsonb[])`,
    [edge, ms.map((m) => m.seq), ms.map((m) => m.data.id), ms.map((m) => m.data.site), ms.map((m) => m.data.device),
      ms.map((m) => m.data.kind), ms.map((m) => m.data.severity), ms.map((m) => m.data.deviceTime ?? null),
      ms.map((m) => m.data.edgeTime), ms.map((m) => json(m.data.tags)), ms.map((m) => JSON.stringify(m.data.payload))],
  );
}

export async function insertTelemetry(tx: Tx, edge: string, ms: TelemetryItem[]): Promise<void> {
  await tx.query(
    `INSERT INTO telemetry (edge, seq, site, device, metric, value, unit, time)
     SELECT $1::text, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::text[], $8::timestamptz[])`,
    [edge, ms.map((m) => m.seq), ms.map((m) => m.data.site), ms.map((m) => m.data.device), ms.map((m) => m.data.metric),
      ms.map((m) => m.data.value), ms.map((m) => m.data.unit ?? null), ms.map((m) => m.data.time)],
  );
}

async function insertCommandResults(tx: Tx, edge: string, ms: Of<'command_result'>[]): Promise<void> {
  await tx.query(
    `INSERT INTO command_results (edge, seq, command_id, site, device, action, status, attempts, latency_ms, time, detail)
     SELECT $1::text, * FROM unnest($2::bigint[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[],
                              $9::float8[], $10::timestamptz[], $11::text[])`,
    [edge, ms.map((m) => m.seq), ms.map((m) => m.data.commandId), ms.map((m) => m.data.site), ms.map((m) => m.data.device),
      ms.map((m) => m.data.action), ms.map((m) => m.data.status), ms.map((m) => m.data.attempts), ms.map((m) => m.data.latencyMs),
      ms.map((m) => m.data.at), ms.map((m) => m.data.detail ?? null)],
  );
}

async function insertLinkage(tx: Tx, edge: string, ms: Of<'linkage'>[]): Promise<void> {
  await tx.query(
    `INSERT INTO linkage_executions (edge, seq, id, site, rule, trigger_event_id, time, finished_at, status, actions)
     SELECT $1::text, * FROM unnest($2::bigint[], $3::uuid[], $4::text[], $5::text[], $6::uuid[], $7::timestamptz[],
                              $8::timestamptz[], $9::text[], $10::jsonb[])`,
    [edge, ms.map((m) => m.seq), ms.map((m) => m.data.id), ms.map((m) => m.data.site), ms.map((m) => m.data.rule),
      ms.map((m) => m.data.triggerEventId), ms.map((m) => m.data.startedAt), ms.map((m) => m.data.finishedAt),
      ms.map((m) => m.data.status), ms.map((m) => JSON.stringify(m.data.actions))],
  );
}

/**
 * Last known state per device; an older status (a replay after an outage) never overwrites a newer one, and an
 * online/offline change that carries no state keeps the state the device last reported.
 */
async function upsertStatus(tx: Tx, edge: string, ms: Of<'status'>[]): Promise<void> {
  // One row per device: a multi-row upsert may not touch the same row twice.
  const latest = new Map<string, Of<'status'>>();
  for (const m of ms) {
    const key = `${m.data.site}\u0000${m.data.device}`;
    const prev = latest.get(key);
    if (!prev || Date.parse(m.data.at) >= Date.parse(prev.data.at)) latest.set(key, m);
  }
  const rows = [...latest.values()];
  await tx.query(
    `INSERT INTO device_status (site, edge, device, kind, online, state, at)
     SELECT u.site, $1::text, u.device, u.kind, u.online, u.state, u.at
       FROM unnest($2::text[], $3::text[], $4::text[], $5::boolean[], $6::jsonb[], $7::timestamptz[]) AS u(site, device, kind, online, state, at)
     ON CONFLICT (site, device) DO UPDATE
       SET edge = EXCLUDED.edge, online = EXCLUDED.online, at = EXCLUDED.at,
           kind = COALESCE(EXCLUDED.kind, device_status.kind), state = COALESCE(EXCLUDED.state, device_status.state)
       WHERE device_status.at <= EXCLUDED.at`,
    [edge, rows.map((m) => m.data.site), rows.map((m) => m.data.device), rows.map((m) => m.data.kind ?? null),
      rows.map((m) => m.data.online), rows.map((m) => json(m.data.state)), rows.map((m) => m.data.at)],
  );
}


/**
 * An edge alarm: a repeat counts up on the active one of its (site, device, type), a new one is added for
 * the lifecycle to take in (not adopted yet). An alarm the edge reports as resolved closes the active one.
 */
async function writeEdgeAlarm(tx: Tx, edge: string, m: Of<'alarm'>): Promise<void> {
  const a = m.data;
  const closing = a.state === 'resolved' || a.state === 'false_alarm';
  if (closing) {
    const upd = await tx.query(
      // Only an alarm this edge raised (issue 12, item 4): never one of another edge or of the cloud's rules.
      `UPDATE alarms SET state = $5, resolved_at = $6, last_seen_at = GREATEST(last_seen_at, $6)
        WHERE edge = $7 AND (id = $1 OR (site = $2 AND device = $3 AND type = $4 AND state NOT IN ('resolved','false_alarm')))
        RETURNING id`,
      [a.id, a.site, a.device, a.type, a.state, a.raisedAt, edge],
    );
    if (upd.rows.length > 0) return;
  }
  await upsertAlarm(tx, {
    id: a.id, site: a.site, edge: a.edge ?? edge, device: a.device, type: a.type, severity: a.severity, state: a.state,
    at: a.raisedAt, count: a.count, message: a.message, sourceEventId: a.sourceEventId ?? null, tags: a.tags ?? null,
    origin: 'edge', rule: null, adopted: false, resolvedAt: closing ? a.raisedAt : null,
  });
}

/**
 * What an edge writes stays in its own site and its own devices (issue 12, item 4). Runs inside the
 * envelope's transaction, after the cursor lock, on records that passed their schema (their site is already
 * the edge's own: prepare.ts and edge-trust.ts). A record that reaches beyond the edge is refused with a
 * reason and goes to dead_letters in its place in the sequence, like any other rejected record:
 *
 * - a record about a device another edge owns (the first registered edge to report a device claims it; an
 *   admin moves it: PUT /api/v1/sites/:site/devices/:device/owner). Edges without a registered identity,
 *   which reach the store only under the development setting INGEST_EDGE_AUTH=0, neither claim devices
 *   nor are held to them;
 * - an update of an alarm another edge raised, or the cloud did (alarm updates are by id);
 * - a result for a command the cloud sent to another edge.
 */
import type { UplinkMessage } from '@safe-community/contracts';
import type { BatchItem } from './types.js';
import type { Tx } from './db.js';

type Good = Extract<BatchItem, { ok: true }>;
type Refused = Extract<BatchItem, { ok: false }>;

function deviceOf(m: UplinkMessage): string | null {
  return 'device' in m.data && typeof m.data.device === 'string' ? m.data.device : null;
}

const refuse = (it: Good, code: string, reason: string): Refused => ({ seq: it.seq, ok: false, code, reason, payload: JSON.stringify(it.msg) });

export async function confine(tx: Tx, edge: string, site: string, items: readonly Good[]): Promise<{ good: Good[]; refused: Refused[] }> {
  if (items.length === 0) return { good: [], refused: [] };
  const registered = (await tx.query('SELECT 1 FROM edge_credentials WHERE edge = $1 AND NOT disabled', [edge])).rows.length > 0;
  const devices = registered ? [...new Set(items.map((i) => deviceOf(i.msg)).filter((d): d is string => d !== null))] : [];
  const owners = new Map<string, string>();
  if (devices.length > 0) {
    await tx.query(
      `INSERT INTO device_owners (site, device, edge) SELECT $1, d, $2 FROM unnest($3::text[]) AS d ON CONFLICT (site, device) DO NOTHING`,
      [site, edge, devices],
    );
    const rows = (await tx.query<{ device: string; edge: string }>('SELECT device, edge FROM device_owners WHERE site = $1 AND device = ANY($2::text[])', [site, devices])).rows;
    for (const r of rows) owners.set(r.device, r.edge);
  }
  const alarmIds = items.filter((i) => i.msg.type === 'alarm').map((i) => (i.msg.data as { id: string }).id);
  const alarmEdges = new Map<string, string | null>();
  if (alarmIds.length > 0) {
    const rows = (await tx.query<{ id: string; edge: string | null }>('SELECT id::text AS id, edge FROM alarms WHERE id = ANY($1::uuid[])', [alarmIds])).rows;
    for (const r of rows) alarmEdges.set(r.id.toLowerCase(), r.edge);
  }
  const commandIds = items.filter((i) => i.msg.type === 'command_result').map((i) => (i.msg.data as { commandId: string }).commandId);
  const commandEdges = new Map<string, string>();
  if (commandIds.length > 0) {
    const rows = (await tx.query<{ id: string; edge: string }>('SELECT id::text AS id, edge FROM api_commands WHERE id = ANY($1::uuid[])', [commandIds])).rows;
    for (const r of rows) commandEdges.set(r.id.toLowerCase(), r.edge);
  }

  const good: Good[] = [];
  const refused: Refused[] = [];
  for (const it of items) {
    if (it.msg.type === 'alarm') {
      const id = it.msg.data.id.toLowerCase();
      if (alarmEdges.has(id) && alarmEdges.get(id) !== edge) {
        refused.push(refuse(it, 'ERR_ALARM_NOT_OWNED', `alarm ${id} was raised by ${alarmEdges.get(id) ?? 'the cloud'}, not edge ${edge}`));
        continue;
      }
    }
    if (it.msg.type === 'command_result') {
      const id = it.msg.data.commandId.toLowerCase();
      const sentTo = commandEdges.get(id);
      if (sentTo !== undefined && sentTo !== edge) {
        refused.push(refuse(it, 'ERR_COMMAND_NOT_SENT_HERE', `command ${id} was sent to edge ${sentTo}, not ${edge}`));
        continue;
      }
    }
    // Last, so the more telling reasons above are the ones recorded.
    const device = deviceOf(it.msg);
    const owner = device !== null && registered ? owners.get(device) : undefined;
    if (owner !== undefined && owner !== edge) {
      refused.push(refuse(it, 'ERR_DEVICE_NOT_OWNED', `device ${device} of site ${site} belongs to edge ${owner}, not ${edge}`));
      continue;
    }
    good.push(it);
  }
  return { good, refused };
}

/**
 * What a guard needs to act on an alarm, in words (issue 15: "what, where, who, what was done"): the kind in
 * words, the device and its kind, the resident by name, the place (site, building, floor, zone, unit) for
 * every staff member of the site, who was called and when, and what the linkage did with each device. The
 * exact position stays with location-scope.ts (the resident's team and admins only); nothing here is a
 * coordinate. Built from the alarm detail the caller may already see, so it widens no one's view.
 */
import type { Db } from '../auth/index.js';
import type { AlarmDetail } from '../alarms/types.js';

export const KIND_WORDS: Readonly<Record<string, string>> = Object.freeze({
  'fire.alarm': 'Fire alarm', 'fire.reset': 'Panel reset', 'fire.restore': 'Panel restored', 'fire.fault': 'Fire panel fault', 'fire.supervisory': 'Fire panel supervisory',
  'care.sos': 'SOS', 'care.fall': 'Fall', 'care.wandering': 'Left the safe area', 'care.inactivity': 'No activity',
  'care.vitals': 'Vital signs', 'care.low_battery': 'Wearable battery low', 'care.no_contact': 'Wearable not heard from',
  'door.forced': 'Door forced', 'door.held': 'Door held open', 'linkage.failed': 'Linkage did not confirm',
  'intrusion.zone': 'Intrusion', 'video.intrusion': 'Intrusion', 'video.loitering': 'Loitering', 'video.crowd': 'Crowd',
  'device.offline': 'Device offline', 'env.threshold': 'Air quality', 'wearable.sos': 'SOS', 'wearable.fall': 'Fall',
});

const DEVICE_KIND_WORDS: Readonly<Record<string, string>> = Object.freeze({
  fire_panel: 'fire panel', access_gate: 'gate', car_barrier: 'barrier', wearable: 'wearable', env_sensor: 'sensor',
  camera: 'camera', display: 'display',
});

/** "fire.alarm" → "Fire alarm"; unknown kinds read as their words ("report.medical" → "Report medical"). */
export function kindInWords(type: string): string {
  const known = KIND_WORDS[type];
  if (known) return known;
  const words = type.replace(/[._]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export interface LinkageStep {
  device: string;
  deviceKind: string | null;
  action: string;
  status: string;
  attempts: number;
  confirmedAfterMs: number | null;
  rule: string;
}

export interface AlarmContext {
  title: string;
  kind: string;
  device: { id: string; kind: string | null };
  resident: { id: string; name: string; building: string | null; unit: string | null } | null;
  place: { site: string; building: string | null; floor: string | null; zone: string | null; unit: string | null };
  calls: Array<{ at: string; level: number; channels: string[] }>;
  linkage: LinkageStep[];
  /** False for alarms that can never carry a picture (no camera near them): the page shows no picture panel. */
  picturesPossible: boolean;
  /** The device's own reset after the alarm (a fire panel reset), with what the linkage then released. */
  resets: Array<{ at: string; kind: string }>;
}

const text = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : typeof v === 'number' ? String(v) : null);

export async function alarmContext(db: Db, a: AlarmDetail): Promise<AlarmContext> {
  const [source] = a.sourceEventId
    ? await db.query<{ payload: Record<string, unknown> | null; tags: Record<string, string> | null }>('SELECT payload, tags FROM events WHERE id = $1 LIMIT 1', [a.sourceEventId])
    : [];
  // A reset of the alarm's device since it was raised, and the linkage it set off (holds released).
  const resets = await db.query<{ id: string; kind: string; time: Date | string }>(
    `SELECT id, kind, time FROM events WHERE site = $1 AND device = $2 AND kind LIKE '%.reset' AND time >= $3 ORDER BY time LIMIT 5`,
    [a.site, a.device, a.raisedAt]);
  const released = resets.length
    ? await db.query<{ rule: string; actions: unknown[] }>('SELECT rule, actions FROM linkage_executions WHERE trigger_event_id = ANY($1::uuid[]) ORDER BY time', [resets.map((r) => r.id)])
    : [];
  const executions = [...a.evidence.linkages, ...released];
  const linkDevices = [...new Set(executions.flatMap((l) => (l.actions as Array<{ device?: string }>).map((x) => x.device).filter((d): d is string => typeof d === 'string')))];
  const kinds = new Map<string, string>();
  for (const r of await db.query<{ device: string; kind: string | null }>('SELECT device, kind FROM device_status WHERE site = $1 AND device = ANY($2::text[])', [a.site, [a.device, ...linkDevices]])) {
    if (r.kind) kinds.set(r.device, r.kind);
  }
  const residentId = a.tags.resident;
  const [res] = residentId
    ? await db.query<{ id: string; name: string; building: string | null; unit: string | null }>('SELECT id, name, building, unit FROM care_residents WHERE site = $1 AND id = $2', [a.site, residentId])
    : [];
  const p = source?.payload ?? {};
  const t = { ...(source?.tags ?? {}), ...a.tags };
  const place = {
    site: a.site,
    building: text(t.building) ?? res?.building ?? null,
    floor: text(t.floor) ?? text(p.floor),
    zone: text(t.zone) ?? text(p.zone),
    unit: text(t.unit) ?? res?.unit ?? null,
  };
  const deviceKind = kinds.get(a.device) ?? null;
  const linkage: LinkageStep[] = executions.flatMap((l) => (l.actions as Array<Record<string, unknown>>).map((x) => ({
    device: String(x.device), deviceKind: kinds.get(String(x.device)) ?? null, action: String(x.action), status: String(x.status),
    attempts: Number(x.attempts ?? 1), confirmedAfterMs: typeof x.confirmedAfterMs === 'number' ? Math.round(x.confirmedAfterMs) : null, rule: l.rule,
  })));
  // The first call of an alarm outside elderly care is named in its 'raised' entry; later ones have their own.
  const calls = a.audit.filter((e) => e.action === 'notified' || e.action === 'escalated' || (e.action === 'raised' && typeof e.detail?.channel === 'string')).map((e) => {
    const d = e.detail ?? {};
    const channels = Array.isArray(d.channels) ? d.channels.map(String) : typeof d.channel === 'string' ? [d.channel] : [];
    return { at: e.at, level: Number(d.level ?? 0), channels };
  });
  const who = res ? res.name : `${a.device}${deviceKind ? ` (${DEVICE_KIND_WORDS[deviceKind] ?? deviceKind})` : ''}`;
  const where = [place.building && `building ${place.building}`, place.floor && `floor ${place.floor}`, place.zone && `zone ${place.zone}`, place.unit && `unit ${place.unit}`]
    .filter(Boolean).join(', ');
  const picturesPossible = a.evidence.snapshots.length > 0 || deviceKind === 'camera' || a.type.startsWith('video.') || a.type.startsWith('intrusion.')
    || linkage.some((s) => s.action === 'snapshot');
  return {
    title: `${kindInWords(a.type)} · ${who}${where ? ` · ${where}` : ''}`,
    kind: kindInWords(a.type),
    device: { id: a.device, kind: deviceKind },
    resident: res ? { id: res.id, name: res.name, building: res.building, unit: res.unit } : null,
    place, calls, linkage, picturesPossible,
    resets: resets.map((r) => ({ at: new Date(r.time).toISOString(), kind: kindInWords(r.kind) })),
  };
}

/**
 * The fire-drill dry run: evaluates the rules for a simulated trigger (by default a fire alarm in one
 * building) against the live device directory and reports what would be actuated and which devices are
 * missing or offline. It uses the same matching code as the engine and sends nothing.
 */
import { randomUUID } from 'node:crypto';
import type { Event } from '@safe-community/contracts';
import type { DeviceDirectory } from '../ports.js';
import type { Latch } from './holds.js';
import { checkConditions, describeSelector, fillTemplate, selectDevices, triggerContext, triggerMatches } from './match.js';
import type { Rule } from './schema.js';

export interface DrillOptions {
  building: string;
  /** Trigger kinds to simulate; default ['fire.alarm']. */
  kinds?: string[];
  zone?: string;
  site?: string;
  /** The device that raises the simulated trigger; default the first fire panel in the building. */
  device?: string;
}

export interface DrillRow {
  rule: string;
  priority: number;
  action: string;
  device: string;
  kind: string;
  online: boolean | undefined;
  /** Last known state, short, e.g. door=locked. */
  state: string;
  note: string;
}

export interface DrillReport {
  building: string;
  trigger: { kind: string; device: string }[];
  /** Rules that would run, and those the trigger matches but whose conditions would stop them. */
  rules: Array<{ id: string; priority: number; runs: boolean; reason?: string }>;
  actions: DrillRow[];
  missing: Array<{ rule: string; what: string }>;
  /** Actions that would fail whatever the devices' state, e.g. a preset the camera does not have. */
  errors: Array<{ rule: string; device: string; what: string }>;
  offline: string[];
  activeHolds: Array<{ latch: string; devices: string[] }>;
}

interface DrillDeps {
  rules: readonly Rule[];
  devices: DeviceDirectory;
  holds: readonly Latch[];
  timeZone: string;
  now: number;
  /** A camera's presets as read from it; undefined while unknown. */
  presets?: (camera: string) => ReadonlyArray<{ token: string; name: string }> | undefined;
}

export function drill(deps: DrillDeps, opts: DrillOptions): DrillReport {
  const { devices } = deps;
  const panel = opts.device ?? devices.list({ kind: 'fire_panel' }).find((d) => d.tags.building === opts.building)?.id ?? 'drill';
  const report: DrillReport = { building: opts.building, trigger: [], rules: [], actions: [], missing: [], errors: [], offline: [], activeHolds: deps.holds.map((l) => ({ latch: l.key, devices: Object.keys(l.holds) })) };
  for (const kind of opts.kinds ?? ['fire.alarm']) {
    const event: Event = {
      id: randomUUID(),
      site: opts.site ?? 'drill',
      edge: 'drill',
      device: panel,
      kind,
      severity: 'critical',
      edgeTime: new Date(deps.now).toISOString(),
      tags: { building: opts.building, ...(opts.zone ? { zone: opts.zone } : {}) },
      payload: opts.zone ? { zone: opts.zone } : {},
    };
    report.trigger.push({ kind, device: panel });
    const ctx = triggerContext(event, devices);
    for (const rule of deps.rules) {
      if (!triggerMatches(rule, ctx)) continue;
      const cond = checkConditions(rule.conditions, ctx, devices, deps.now, deps.timeZone);
      report.rules.push({ id: rule.id, priority: rule.priority, runs: cond.ok, ...(cond.reason ? { reason: cond.reason } : {}) });
      if (!cond.ok) continue;
      for (const action of rule.actions) {
        const row = (device: string, act: string, note = ''): void => {
          const info = devices.get(device);
          const online = info ? devices.online(device) : undefined;
          report.actions.push({ rule: rule.id, priority: rule.priority, action: act, device, kind: info?.kind ?? '-', online, state: info ? shortState(devices.state(device)) : '', note });
        };
        if ('command' in action) {
          const sel = selectDevices(action.command.select, ctx, devices);
          for (const m of sel.missing) report.missing.push({ rule: rule.id, what: m });
          if (!sel.devices.length && !sel.missing.length) report.missing.push({ rule: rule.id, what: `no device matches ${describeSelector(action.command.select, ctx)}` });
          for (const d of sel.devices) row(d.id, action.command.action, holdNote(deps.holds, d.id, action.command.action));
        } else if ('camera' in action) {
          const sel = selectDevices(action.camera.select, ctx, devices);
          for (const m of sel.missing) report.missing.push({ rule: rule.id, what: m });
          if (!sel.devices.length && !sel.missing.length) report.missing.push({ rule: rule.id, what: `no camera matches ${describeSelector(action.camera.select, ctx)}` });
          for (const d of sel.devices) {
            const preset = action.camera.preset ?? (action.camera.presetTag ? d.tags[action.camera.presetTag] : undefined);
            if (preset) {
              const check = presetCheck(deps.presets?.(d.id), preset);
              if (check.error) report.errors.push({ rule: rule.id, device: d.id, what: check.error });
              row(d.id, `goto_preset ${preset}`, check.error ? `ERROR: ${check.error}` : check.note);
            }
            if (action.camera.snapshot) row(d.id, 'snapshot');
            if (!preset && !action.camera.snapshot) row(d.id, 'none', 'no preset configured');
          }
        } else if ('alarm' in action) {
          row(panel, `alarm ${action.alarm.type} (${action.alarm.severity})`, fillTemplate(action.alarm.message, ctx));
        } else if ('notice' in action) {
          row(panel, 'notice', fillTemplate(action.notice.text, ctx));
        } else if ('release' in action) {
          row(panel, `release ${action.release.latch}`);
        }
      }
    }
  }
  report.offline = [...new Set(report.actions.filter((a) => a.online === false).map((a) => a.device))];
  return report;
}

/**
 * A typo'd preset used to show as "online yes" and fail only at alarm time (issue #14): the preset is
 * resolved against the camera's own list, by name or token, as goto does.
 */
function presetCheck(known: ReadonlyArray<{ token: string; name: string }> | undefined, preset: string): { error?: string; note: string } {
  if (!known) return { note: 'presets not read yet (camera not reached)' };
  if (known.some((p) => p.name === preset || p.token === preset)) return { note: '' };
  return { error: `camera has no preset "${preset}" (has ${known.map((p) => p.name).join(', ') || 'none'})`, note: '' };
}

/**
 * The presets the rules may send one camera to, without a trigger: a camera action whose selector could
 * pick this camera ($trigger values count as "any value of that tag") names `preset`, or the camera's own
 * `presetTag` tag. For doctor, which checks them against the camera before any alarm does.
 */
export function presetsNamedFor(rules: readonly Rule[], camera: { id: string; tags: Readonly<Record<string, string>> }): Array<{ rule: string; preset: string }> {
  const out: Array<{ rule: string; preset: string }> = [];
  const could = (want: string | undefined, have: string | undefined) => want === undefined || (want.startsWith('$') ? have !== undefined : want === have);
  for (const rule of rules) {
    for (const action of rule.actions) {
      if (!('camera' in action)) continue;
      const sel = action.camera.select;
      if (sel.kind !== undefined && sel.kind !== 'camera') continue;
      if (sel.ids && !sel.ids.some((id) => id === camera.id || id.startsWith('$'))) continue;
      if (!could(sel.group, camera.tags.group)) continue;
      if (!Object.entries(sel.tags ?? {}).every(([k, v]) => could(String(v), camera.tags[k]))) continue;
      const preset = action.camera.preset ?? (action.camera.presetTag ? camera.tags[action.camera.presetTag] : undefined);
      if (preset && !out.some((o) => o.preset === preset && o.rule === rule.id)) out.push({ rule: rule.id, preset });
    }
  }
  return out;
}

function holdNote(holds: readonly Latch[], device: string, action: string): string {
  for (const l of holds) {
    const h = l.holds[device];
    if (h?.refuse.includes(action)) return `would be refused: held by ${l.rule}`;
    if (h) return `already held (${h.action})`;
  }
  return '';
}

function shortState(state: Readonly<Record<string, unknown>>): string {
  return Object.entries(state)
    .slice(0, 3)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ')
    .slice(0, 40);
}

/** The report as a plain-text table for the CLI (`edge-agent drill --building B`). */
export function formatDrill(r: DrillReport): string {
  const lines: string[] = [];
  lines.push(`Fire drill (dry run, nothing sent) for building ${r.building}: ${r.trigger.map((t) => `${t.kind} from ${t.device}`).join(', ')}`);
  for (const rule of r.rules) lines.push(`  rule ${rule.id} (priority ${rule.priority}): ${rule.runs ? 'would run' : `would NOT run: ${rule.reason ?? ''}`}`);
  const head = ['rule', 'action', 'device', 'kind', 'online', 'state', 'note'];
  const body = r.actions.map((a) => [a.rule, a.action, a.device, a.kind, a.online === undefined ? '-' : a.online ? 'yes' : 'NO', a.state, a.note]);
  const widths = head.map((h, i) => Math.min(48, Math.max(h.length, ...body.map((row) => (row[i] ?? '').length))));
  const fmt = (row: string[]) => row.map((c, i) => c.slice(0, widths[i]).padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  lines.push('', fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...body.map(fmt));
  lines.push('', `missing: ${r.missing.length ? '' : 'none'}`);
  for (const m of r.missing) lines.push(`  ${m.rule}: ${m.what}`);
  lines.push(`errors: ${r.errors.length ? '' : 'none'}`);
  for (const e of r.errors) lines.push(`  ${e.rule}: ${e.device}: ${e.what}`);
  lines.push(`offline: ${r.offline.length ? r.offline.join(', ') : 'none'}`);
  if (r.activeHolds.length) lines.push(`active holds: ${r.activeHolds.map((h) => `${h.latch} → ${h.devices.join(',')}`).join('; ')}`);
  return lines.join('\n');
}

/**
 * A day in the life of five residents who live alone, scripted on a virtual clock (issue 8, item 5).
 * Every wearable reports every ten minutes (its heartbeat: heart rate, SpO2, steps, battery, position);
 * on top of that routine the day holds one of each thing the care rules must catch or must ignore:
 *
 * | resident | wearable (dialect)       | what happens                                                         |
 * | R1 Wang  | W-101 (carelink-json)    | fall cancelled by I'm OK 08:10; SOS 09:30 (pressed twice); battery runs low ~15:40 |
 * | R2 Li    | W-102 (anxin-delim)      | fall 14:00, no I'm OK, then SOS 14:03 from the floor (one episode); fall cancelled by I'm OK 19:00 |
 * | R3 Zhao  | W-103 (carelink-json)    | leaves home at night 02:10 and goes in and out until 03:00; daytime walk 09:00–09:40; one-reading spike 08:00; heart rate high 11:00–11:40; hovering at the limit 16:00–16:40 |
 * | R4 Chen  | W-104 (anxin-delim)      | no steps 13:00–18:00 while the band keeps reporting                   |
 * | R5 Sun   | W-105 (carelink-json)    | the band dies after its 15:00 report                                  |
 *
 * `dayResidents()` is the matching residents file for the edge (geofences around each home).
 */
import type { CareDialect, CareVitals, CareWearable, Position } from './care-wearable.js';

export const DAY_TIME_ZONE = 'Asia/Shanghai';
/** Local midnight of the scripted day. */
export const DAY_START = Date.parse('2026-11-30T00:00:00+08:00');
export const HEARTBEAT_S = 600;

const MIN = 60_000;
const H = 60 * MIN;

export interface DayResident {
  id: string;
  name: string;
  wearable: string;
  dialect: CareDialect;
  unit: string;
  home: Position;
  /** Minutes after each ten-minute mark at which this band reports, so bands do not all speak at once. */
  offsetMin: number;
}

export const DAY_RESIDENTS: readonly DayResident[] = Object.freeze([
  { id: 'R1', name: 'Wang Fang', wearable: 'W-101', dialect: 'carelink-json', unit: '101', home: { lat: 22.54310, lon: 114.05790 }, offsetMin: 1 },
  { id: 'R2', name: 'Li Ming', wearable: 'W-102', dialect: 'anxin-delim', unit: '102', home: { lat: 22.54410, lon: 114.05890 }, offsetMin: 2 },
  { id: 'R3', name: 'Zhao Lan', wearable: 'W-103', dialect: 'carelink-json', unit: '201', home: { lat: 22.54510, lon: 114.05990 }, offsetMin: 3 },
  { id: 'R4', name: 'Chen Wei', wearable: 'W-104', dialect: 'anxin-delim', unit: '202', home: { lat: 22.54610, lon: 114.06090 }, offsetMin: 4 },
  { id: 'R5', name: 'Sun Hua', wearable: 'W-105', dialect: 'carelink-json', unit: '301', home: { lat: 22.54710, lon: 114.06190 }, offsetMin: 5 },
]);

/** Half the side of each home's square geofence, in degrees (~110 m). */
const FENCE = 0.001;
/** Where a resident stands when out: ~330 m north of home. */
const away = (p: Position): Position => ({ lat: p.lat + 0.003, lon: p.lon });

export type DayAction =
  | { kind: 'vitals'; values: CareVitals }
  | { kind: 'sos'; at?: Position }
  | { kind: 'fall'; g: number; at?: Position }
  | { kind: 'ok' };

export interface DayStep {
  /** Milliseconds after DAY_START. */
  at: number;
  wearable: string;
  action: DayAction;
}

/** The residents file for the edge: consent, contacts, geofence, quiet hours and limits for each resident. */
export function dayResidents(): Record<string, unknown> {
  return {
    version: 1,
    timeZone: DAY_TIME_ZONE,
    episodeGapS: 1800,
    wandering: { crossings: 4, windowS: 3600 },
    residents: DAY_RESIDENTS.map((r) => ({
      id: r.id, name: r.name, wearable: r.wearable, building: 'B', unit: r.unit,
      consent: { givenAt: '2026-11-01T10:00:00+08:00', givenBy: `${r.name} (resident)`, scope: ['alerts', 'location', 'vitals', 'activity'] },
      contacts: [
        { name: `${r.name} family`, role: 'family', phone: '+86-755-0000-0000' },
        { name: 'Guard team B', role: 'guard_team', team: 'guards-b' },
      ],
      geofence: {
        polygon: [
          { lat: r.home.lat - FENCE, lon: r.home.lon - FENCE }, { lat: r.home.lat - FENCE, lon: r.home.lon + FENCE },
          { lat: r.home.lat + FENCE, lon: r.home.lon + FENCE }, { lat: r.home.lat + FENCE, lon: r.home.lon - FENCE },
        ],
      },
      quietHours: { start: '22:00', end: '07:00' },
      vitals: {
        heartRate: { low: 45, high: 120, hysteresis: 10, minDurationS: 300 },
        spo2: { low: 90, high: 101, hysteresis: 2, minDurationS: 300 },
      },
      inactivityHours: 3,
      heartbeatIntervalS: HEARTBEAT_S,
      missedHeartbeats: 3,
      fallCancelS: 60,
      batteryLowPct: 20,
    })),
  };
}

const hm = (h: number, m: number, s = 0): number => h * H + m * MIN + s * 1000;
const within = (t: number, from: number, to: number): boolean => t >= from && t < to;

/** The routine report of one resident at `t`, with the day's deviations applied. */
function report(r: DayResident, tick: number, t: number): CareVitals | null {
  if (r.id === 'R5' && t > hm(15, 5)) return null; // the band is dead
  let pos = r.home;
  let walking = within(t, hm(7, 0), hm(21, 0));
  let hr = 68 + (tick % 4);
  let bat = Math.max(40, 95 - Math.floor(tick / 4));
  switch (r.id) {
    case 'R1':
      // Runs down to 20 % by about 15:40, then hovers near the limit (20/22) before falling on.
      bat = Math.max(3, Math.round(62 - 0.45 * tick) + (tick % 2) * 2);
      break;
    case 'R2':
      if (within(t, hm(14, 0), hm(14, 40))) walking = false; // on the floor until help comes
      break;
    case 'R3': {
      const night = [hm(2, 13), hm(2, 33), hm(2, 53)];
      if (night.some((n) => within(t, n, n + 10 * MIN))) pos = away(r.home);
      if (within(t, hm(2, 0), hm(3, 10))) walking = true;
      if (within(t, hm(9, 0), hm(9, 40))) pos = away(r.home);
      if (within(t, hm(8, 0), hm(8, 10))) hr = 130;
      if (within(t, hm(11, 0), hm(11, 30))) hr = 135 + (tick % 3);
      if (within(t, hm(11, 30), hm(11, 40))) hr = 118;
      if (within(t, hm(11, 40), hm(11, 50))) hr = 122;
      if (within(t, hm(11, 50), hm(12, 0))) hr = 95;
      if (within(t, hm(16, 0), hm(16, 50))) hr = tick % 2 === 0 ? 119 : 123;
      break;
    }
    case 'R4':
      if (within(t, hm(13, 0), hm(18, 0))) walking = false;
      break;
  }
  return { hr, spo2: 97, steps: walking ? 1 : 0, bat, lat: pos.lat, lon: pos.lon };
}

/** Every step of the day, in time order. Steps carry step counts as running totals. */
export function dayScript(): DayStep[] {
  const steps: DayStep[] = [];
  for (const r of DAY_RESIDENTS) {
    let total = 0;
    for (let tick = 0; tick < 144; tick++) {
      const t = tick * 10 * MIN + r.offsetMin * MIN;
      const v = report(r, tick, t);
      if (!v) continue;
      total += (v.steps ?? 0) * 60;
      steps.push({ at: t, wearable: r.wearable, action: { kind: 'vitals', values: { ...v, steps: total } } });
    }
  }
  const [r1, r2] = DAY_RESIDENTS;
  steps.push(
    { at: hm(8, 10), wearable: 'W-101', action: { kind: 'fall', g: 2.4, at: r1!.home } },
    { at: hm(8, 10, 20), wearable: 'W-101', action: { kind: 'ok' } },
    { at: hm(9, 30), wearable: 'W-101', action: { kind: 'sos', at: r1!.home } },
    { at: hm(9, 30, 20), wearable: 'W-101', action: { kind: 'sos', at: r1!.home } },
    { at: hm(14, 0), wearable: 'W-102', action: { kind: 'fall', g: 3.2, at: r2!.home } },
    { at: hm(14, 3), wearable: 'W-102', action: { kind: 'sos', at: r2!.home } },
    { at: hm(19, 0), wearable: 'W-102', action: { kind: 'fall', g: 1.9, at: r2!.home } },
    { at: hm(19, 0, 30), wearable: 'W-102', action: { kind: 'ok' } },
  );
  // Stable sort: equal times keep their order (a routine report before an alert at the same instant).
  return steps.sort((a, b) => a.at - b.at);
}

/**
 * The clock a scripted day runs on: time that moves only when the script says so (the tests' fake clock),
 * firing the timers due on the way and awaiting `settle` after each.
 */
export interface ScriptClock {
  now(): number;
  advanceTo(target: number, settle?: () => Promise<void>): Promise<void>;
}

export interface RunDayOptions {
  clock: ScriptClock;
  wearables: ReadonlyMap<string, CareWearable>;
  steps: readonly DayStep[];
  /** Play steps with from <= at < until (ms after DAY_START); the clock ends at until. */
  from?: number;
  until?: number;
  /** Awaited after each step and each timer, so the system under test finishes its work at that instant. */
  settle?: () => Promise<void>;
}

/** Plays the script: moves the virtual clock to each step (firing timers on the way) and publishes it. */
export async function runDay(opts: RunDayOptions): Promise<{ published: number }> {
  const from = opts.from ?? 0;
  const until = opts.until ?? 24 * H;
  let published = 0;
  for (const step of opts.steps) {
    if (step.at < from || step.at >= until) continue;
    await opts.clock.advanceTo(DAY_START + step.at, opts.settle);
    const w = opts.wearables.get(step.wearable);
    if (!w) throw new Error(`no simulated wearable ${step.wearable}`);
    const a = step.action;
    if (a.kind === 'vitals') await w.vitals(a.values);
    else if (a.kind === 'sos') await w.sos(a.at);
    else if (a.kind === 'fall') await w.fall({ g: a.g, ...a.at });
    else await w.ok();
    published++;
    if (opts.settle) await opts.settle();
  }
  await opts.clock.advanceTo(DAY_START + until, opts.settle);
  return { published };
}

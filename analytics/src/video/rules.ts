import { CodedError } from '@safe-community/runtime';
import type { Severity } from '@safe-community/contracts';
import { anchorOf, pointInPolygon, type Anchor } from './geometry.js';
import { LineCrossing } from './line-crossing.js';
import type { Point, TrackView } from './types.js';

/** All geometry in rules is in normalised picture coordinates: (0,0) top-left, (1,1) bottom-right. */

export interface ZoneRule {
  id: string;
  polygon: Point[];
  /** Labels that count in this zone; default ['person']. */
  classes?: string[];
  /** Frames inside before an intrusion is reported (one detection is not enough). Default 3. */
  minFrames?: number;
  /** Report loitering after this many seconds inside; leave out for no loitering check. */
  loiterSeconds?: number;
  /** Report an intrusion at all (a zone may exist for loitering only). Default true. */
  intrusion?: boolean;
  /** A track may vanish or step out this long without ending its stay (tracker jitter, occlusion). */
  exitGraceMs?: number;
  severity?: Severity;
}

export interface LineRule {
  id: string;
  a: Point;
  b: Point;
  classes?: string[];
  /**
   * Names of the two directions: `rightward` is a crossing onto the right-hand side when looking from
   * a to b (in the image, y down). Defaults 'in' and 'out'.
   */
  directions?: { rightward: string; leftward: string };
  /**
   * Half-width of the band around the line in which a point is on neither side, as a fraction of the
   * track's box height (so it scales with distance from the camera). Default 0.15.
   */
  marginHeights?: number;
  /** Floor of that band in normalised picture height, for very small boxes. Default 0.01. */
  margin?: number;
  /** Frames a track must be beyond the band before its side counts (and a crossing with it). Default 2. */
  minFrames?: number;
}

export interface CrowdRule {
  id: string;
  /** Report when at least this many tracked objects are present. */
  threshold: number;
  classes?: string[];
  /** Only count inside this polygon; whole picture when left out. */
  region?: Point[];
  minFrames?: number;
  /** No repeat report within this time, even if the crowd thins and gathers again. Default 60 s. */
  cooldownMs?: number;
  severity?: Severity;
}

export interface RulesConfig {
  zones?: ZoneRule[];
  lines?: LineRule[];
  crowds?: CrowdRule[];
  /** The point of a box that stands for the object. Default 'bottom' (feet on the ground). */
  anchor?: Anchor;
}

export type VideoEventKind = 'video.zone_intrusion' | 'video.loitering' | 'video.line_crossing' | 'video.crowd';

/** A rule firing, before the pipeline attaches the camera, time and frame. */
export interface RuleHit {
  kind: VideoEventKind;
  severity: Severity;
  payload: Record<string, unknown>;
}

interface Stay {
  enteredAt: number;
  lastInAt: number;
  frames: number;
  intrusionSent: boolean;
  loiterSent: boolean;
}

const DEFAULT_CLASSES = ['person'];
/** Evaluations a track's side of a line is remembered after it was last seen off the line. */
const SIDE_MEMORY = 600;

/**
 * Zone, loitering, line and crowd rules over confirmed tracks. Keeps per-track state, so one instance
 * belongs to one camera. `evaluate` takes the time so media time can drive it when a file is analysed.
 */
export class RuleEngine {
  private readonly zones: ZoneRule[];
  private readonly lines: LineRule[];
  private readonly crowds: CrowdRule[];
  private readonly anchor: Anchor;
  private readonly stays = new Map<string, Map<number, Stay>>();
  private readonly crossings = new Map<string, LineCrossing>();
  private evaluations = 0;
  private readonly counts = new Map<string, Record<string, number>>();
  private readonly crowdState = new Map<string, { frames: number; active: boolean; lastAt: number }>();

  constructor(config: RulesConfig) {
    this.zones = config.zones ?? [];
    this.lines = config.lines ?? [];
    this.crowds = config.crowds ?? [];
    this.anchor = config.anchor ?? 'bottom';
    validate(config);
  }

  /** Crossing counts per line and direction since start. */
  lineCounts(): Record<string, Record<string, number>> {
    return Object.fromEntries([...this.counts].map(([k, v]) => [k, { ...v }]));
  }

  /** `aspect` is the picture's width / height, for line distances in true proportions. */
  evaluate(tracks: readonly TrackView[], nowMs: number, aspect = 1): RuleHit[] {
    const hits: RuleHit[] = [];
    this.evaluations++;
    for (const z of this.zones) this.zone(z, tracks, nowMs, hits);
    for (const l of this.lines) this.line(l, tracks, aspect, hits);
    for (const c of this.crowds) this.crowd(c, tracks, nowMs, hits);
    return hits;
  }

  private zone(z: ZoneRule, tracks: readonly TrackView[], now: number, hits: RuleHit[]): void {
    const classes = z.classes ?? DEFAULT_CLASSES;
    const minFrames = z.minFrames ?? 3;
    const grace = z.exitGraceMs ?? 1_000;
    let stays = this.stays.get(z.id);
    if (!stays) this.stays.set(z.id, (stays = new Map()));
    for (const t of tracks) {
      if (!classes.includes(t.label)) continue;
      if (!pointInPolygon(anchorOf(t.box, this.anchor), z.polygon)) continue;
      let s = stays.get(t.id);
      if (!s) stays.set(t.id, (s = { enteredAt: now, lastInAt: now, frames: 0, intrusionSent: false, loiterSent: false }));
      s.frames++;
      s.lastInAt = now;
      const base = { zone: z.id, track: t.id, label: t.label, score: round(t.score), box: t.box.map(round) };
      if ((z.intrusion ?? true) && !s.intrusionSent && s.frames >= minFrames) {
        s.intrusionSent = true;
        hits.push({ kind: 'video.zone_intrusion', severity: z.severity ?? 'major', payload: { ...base, frames: s.frames } });
      }
      if (z.loiterSeconds !== undefined && !s.loiterSent && now - s.enteredAt >= z.loiterSeconds * 1000) {
        s.loiterSent = true;
        hits.push({
          kind: 'video.loitering', severity: z.severity ?? 'minor',
          payload: { ...base, seconds: round((now - s.enteredAt) / 1000), thresholdSeconds: z.loiterSeconds },
        });
      }
    }
    // A stay ends once its track has been out (or gone) for longer than the grace time.
    for (const [id, s] of stays) if (now - s.lastInAt > grace) stays.delete(id);
  }

  private line(l: LineRule, tracks: readonly TrackView[], aspect: number, hits: RuleHit[]): void {
    const classes = l.classes ?? DEFAULT_CLASSES;
    const names = l.directions ?? { rightward: 'in', leftward: 'out' };
    let crossing = this.crossings.get(l.id);
    if (!crossing) {
      crossing = new LineCrossing({
        a: l.a, b: l.b, marginHeights: l.marginHeights ?? 0.15, marginMin: l.margin ?? 0.01, minFrames: l.minFrames ?? 2,
      }, this.anchor);
      this.crossings.set(l.id, crossing);
    }
    let counts = this.counts.get(l.id);
    if (!counts) this.counts.set(l.id, (counts = { [names.rightward]: 0, [names.leftward]: 0 }));
    for (const { track: t, side } of crossing.update(tracks.filter((t) => classes.includes(t.label)), aspect, this.evaluations)) {
      const direction = side > 0 ? names.rightward : names.leftward;
      counts[direction] = (counts[direction] ?? 0) + 1;
      hits.push({
        kind: 'video.line_crossing', severity: 'info',
        payload: { line: l.id, direction, counts: { ...counts }, track: t.id, label: t.label },
      });
    }
    if (this.evaluations % 64 === 0) crossing.prune(this.evaluations, SIDE_MEMORY);
  }

  private crowd(c: CrowdRule, tracks: readonly TrackView[], now: number, hits: RuleHit[]): void {
    const classes = c.classes ?? DEFAULT_CLASSES;
    const region = c.region;
    const count = tracks.filter((t) =>
      classes.includes(t.label) && (!region || pointInPolygon(anchorOf(t.box, this.anchor), region))).length;
    let s = this.crowdState.get(c.id);
    if (!s) this.crowdState.set(c.id, (s = { frames: 0, active: false, lastAt: -Infinity }));
    if (count < c.threshold) {
      s.frames = 0;
      s.active = false;
      return;
    }
    s.frames++;
    if (s.active || s.frames < (c.minFrames ?? 3) || now - s.lastAt < (c.cooldownMs ?? 60_000)) return;
    s.active = true;
    s.lastAt = now;
    hits.push({ kind: 'video.crowd', severity: c.severity ?? 'minor', payload: { rule: c.id, count, threshold: c.threshold } });
  }
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

function validate(config: RulesConfig): void {
  const ids = new Set<string>();
  const check = (kind: string, id: string) => {
    if (!id) throw new CodedError('ERR_RULES_CONFIG', `${kind} rule without id`);
    if (ids.has(`${kind}:${id}`)) throw new CodedError('ERR_RULES_CONFIG', `duplicate ${kind} rule "${id}"`);
    ids.add(`${kind}:${id}`);
  };
  const inUnit = (p: Point) => p.length === 2 && p.every((v) => Number.isFinite(v) && v >= 0 && v <= 1);
  for (const z of config.zones ?? []) {
    check('zone', z.id);
    if (z.polygon.length < 3 || !z.polygon.every(inUnit)) {
      throw new CodedError('ERR_RULES_CONFIG', `zone "${z.id}" needs 3+ points in normalised [0,1] coordinates`);
    }
    if (z.loiterSeconds !== undefined && !(z.loiterSeconds > 0)) {
      throw new CodedError('ERR_RULES_CONFIG', `zone "${z.id}": loiterSeconds must be > 0`);
    }
  }
  for (const l of config.lines ?? []) {
    check('line', l.id);
    if (!inUnit(l.a) || !inUnit(l.b) || (l.a[0] === l.b[0] && l.a[1] === l.b[1])) {
      throw new CodedError('ERR_RULES_CONFIG', `line "${l.id}" needs two distinct points in [0,1]`);
    }
    if (l.minFrames !== undefined && !(Number.isInteger(l.minFrames) && l.minFrames >= 1)) {
      throw new CodedError('ERR_RULES_CONFIG', `line "${l.id}": minFrames must be an integer ≥ 1`);
    }
    for (const key of ['margin', 'marginHeights'] as const) {
      const v = l[key];
      if (v !== undefined && !(Number.isFinite(v) && v >= 0 && v < 1)) {
        throw new CodedError('ERR_RULES_CONFIG', `line "${l.id}": ${key} must be in [0, 1)`);
      }
    }
  }
  for (const c of config.crowds ?? []) {
    check('crowd', c.id);
    if (!Number.isInteger(c.threshold) || c.threshold < 1) {
      throw new CodedError('ERR_RULES_CONFIG', `crowd "${c.id}": threshold must be a positive integer`);
    }
  }
}

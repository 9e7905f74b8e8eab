/**
 * Local time for care rules: a resident's quiet hours (their night) are wall-clock times in the site's
 * zone. Offsets come from Intl once per question and are then held for the span asked about (at most two
 * days), so a daylight-saving change inside that span can shift an answer by its size; China has none.
 */
const MIN = 60_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Milliseconds to add to a UTC instant to read the local wall clock. */
export function zoneOffsetMs(ms: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const local = Date.UTC(parts.year ?? 1970, (parts.month ?? 1) - 1, parts.day ?? 1, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0);
  return local - Math.floor(ms / 1000) * 1000;
}

export function parseHhMm(text: string): number {
  const [h, m] = text.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/** A daily local window [start, end) in minutes of the day; wraps midnight when end <= start. */
export class DailyWindow {
  private readonly start: number;
  private readonly end: number;

  constructor(start: string, end: string, private readonly timeZone: string) {
    this.start = parseHhMm(start);
    this.end = parseHhMm(end);
  }

  private minuteOfDay(ms: number, offset: number): number {
    const m = Math.floor((ms + offset) / MIN) % 1440;
    return m < 0 ? m + 1440 : m;
  }

  private containsMinute(m: number): boolean {
    if (this.start === this.end) return false;
    return this.start < this.end ? m >= this.start && m < this.end : m >= this.start || m < this.end;
  }

  contains(ms: number): boolean {
    return this.containsMinute(this.minuteOfDay(ms, zoneOffsetMs(ms, this.timeZone)));
  }

  /** The first whole minute at or after `ms` that lies inside the window (within two days), or undefined. */
  nextStart(ms: number): number | undefined {
    const offset = zoneOffsetMs(ms, this.timeZone);
    let t = Math.ceil(ms / MIN) * MIN;
    for (let i = 0; i < 2 * 1440; i++, t += MIN) if (this.containsMinute(this.minuteOfDay(t, offset))) return t;
    return undefined;
  }

  /**
   * The instant by which `outsideMs` of time outside this window has passed since `from` (the time
   * inside, e.g. the night, does not count); undefined when that takes more than two days.
   */
  afterOutside(from: number, outsideMs: number): number | undefined {
    const offset = zoneOffsetMs(from, this.timeZone);
    let left = outsideMs;
    let t = from;
    const limit = from + 2 * 1440 * MIN;
    while (t < limit) {
      // Walk minute by minute, but start from the exact instant so a short window is not rounded away.
      const next = Math.min(Math.floor(t / MIN) * MIN + MIN, limit);
      if (!this.containsMinute(this.minuteOfDay(t, offset))) {
        if (next - t >= left) return t + left;
        left -= next - t;
      }
      t = next;
    }
    return undefined;
  }
}

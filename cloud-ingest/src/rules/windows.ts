/**
 * The rules' windows in memory: every hit of a correlation rule (a knock, a forced door, a person) by
 * rule and by (site, group), so a new event is judged against its window with no database round trip.
 * `rule_hits` holds the same hits durably (written by the group commit) and refills this at start, so
 * a restart loses nothing that was committed.
 */

export type HitRole = 'knock' | 'door' | 'person';

export interface Hit {
  role: HitRole;
  member: string;
  eventId: string;
  /** The event's own time (edge time), ms: windows are judged on it, so replayed events still pair. */
  at: number;
}

/** More hits than this in one (rule, site, group) are a flood: the oldest go first. */
const MAX_HITS_PER_GROUP = 10_000;

export class RuleWindows {
  private readonly byRule = new Map<string, Map<string, Hit[]>>();

  private group(rule: string, site: string, group: string): Hit[] {
    let groups = this.byRule.get(rule);
    if (!groups) this.byRule.set(rule, (groups = new Map()));
    const key = `${site}\u0000${group}`;
    let hits = groups.get(key);
    if (!hits) groups.set(key, (hits = []));
    return hits;
  }

  add(rule: string, site: string, group: string, hit: Hit): Hit[] {
    const hits = this.group(rule, site, group);
    hits.push(hit);
    if (hits.length > MAX_HITS_PER_GROUP) hits.splice(0, hits.length - MAX_HITS_PER_GROUP);
    return hits;
  }

  /** Distinct members of the knocks in [from, to] and their events (as the rule's SQL counts them). */
  knocks(rule: string, site: string, group: string, from: number, to: number): { members: number; events: string[] } {
    const members = new Set<string>();
    const events: string[] = [];
    for (const h of this.group(rule, site, group)) {
      if (h.role !== 'knock' || h.at < from || h.at > to) continue;
      members.add(h.member);
      events.push(h.eventId);
    }
    return { members: members.size, events };
  }

  /** The hit of `role` in [from, to] nearest in time to `at`. */
  nearest(rule: string, site: string, group: string, role: HitRole, at: number, from: number, to: number): Hit | undefined {
    let best: Hit | undefined;
    for (const h of this.group(rule, site, group)) {
      if (h.role !== role || h.at < from || h.at > to) continue;
      if (!best || Math.abs(h.at - at) < Math.abs(best.at - at)) best = h;
    }
    return best;
  }

  /** Drops the rule's hits dated before `before` (ms), as the rule's prune does in `rule_hits`. */
  prune(rule: string, before: number): void {
    const groups = this.byRule.get(rule);
    if (!groups) return;
    for (const [key, hits] of groups) {
      const kept = hits.filter((h) => h.at >= before);
      if (kept.length === 0) groups.delete(key);
      else if (kept.length !== hits.length) groups.set(key, kept);
    }
  }

  clear(): void {
    this.byRule.clear();
  }

  get size(): number {
    let n = 0;
    for (const groups of this.byRule.values()) for (const hits of groups.values()) n += hits.length;
    return n;
  }
}

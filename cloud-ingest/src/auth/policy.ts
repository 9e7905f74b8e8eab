/**
 * The role policy, in one place (issue 6): viewers read; installers read and comment; security staff and
 * admins act on alarms and devices; only admins manage users and edge credentials.
 */
import { CodedError } from '@safe-community/runtime';
import type { Actor, Role } from './types.js';

export type Permission = 'read' | 'comment' | 'act' | 'admin';

const GRANTS: Readonly<Record<Role, readonly Permission[]>> = Object.freeze({
  admin: ['read', 'comment', 'act', 'admin'],
  security: ['read', 'comment', 'act'],
  installer: ['read', 'comment'],
  viewer: ['read'],
});

export function can(actor: Actor, permission: Permission): boolean {
  return GRANTS[actor.role].includes(permission);
}

/** Throws ERR_FORBIDDEN (403) when the role may not do this at all, whatever the target. */
export function requirePermission(actor: Actor, permission: Permission): void {
  if (!can(actor, permission)) {
    throw new CodedError('ERR_FORBIDDEN', `role ${actor.role} may not ${permission === 'act' ? 'act on alarms or devices' : permission}`);
  }
}

export function siteAllowed(actor: Actor, site: string): boolean {
  return actor.sites === '*' || actor.sites.includes(site);
}

/**
 * The sites a query may touch: the caller's sites, narrowed to `site` when one is asked for. An asked-for
 * site outside the caller's sites gives an empty list, so the answer is the same as for a site that does not
 * exist (no leak).
 */
export function scopeSites(actor: Actor, site?: string): readonly string[] | '*' {
  if (site === undefined) return actor.sites;
  return siteAllowed(actor, site) ? [site] : [];
}

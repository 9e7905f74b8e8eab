/**
 * The role policy, in one place (issue 6): viewers read; installers read and comment; security staff and
 * admins act on alarms and devices; only admins manage users and edge credentials. An admin on a list of
 * sites (a site admin) manages only what lies wholly inside those sites; an admin on every site ('*') is the
 * operator's global admin (issue 12, item 5).
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

/** True when the actor is an admin on every site: the operator's global admin. */
export function isGlobalAdmin(actor: Actor): boolean {
  return actor.role === 'admin' && actor.sites === '*';
}

/**
 * Whether an admin may manage a principal (user, edge) whose sites are `sites`: a global admin manages every
 * one; a site admin only those whose every site is one of its own (never an all-sites principal).
 */
export function managesSites(actor: Actor, sites: readonly string[] | '*'): boolean {
  if (actor.role !== 'admin') return false;
  if (actor.sites === '*') return true;
  if (sites === '*') return false;
  const own = actor.sites;
  return sites.every((s) => own.includes(s));
}

/** Throws ERR_FORBIDDEN unless the admin manages `sites` (see managesSites). */
export function requireManages(actor: Actor, sites: readonly string[] | '*', what: string): void {
  requirePermission(actor, 'admin');
  if (!managesSites(actor, sites)) {
    throw new CodedError('ERR_FORBIDDEN', `${what} lies outside the sites of admin ${actor.user}`);
  }
}

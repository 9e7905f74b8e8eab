/**
 * Who may do what, and which state changes are legal. Kept apart from the SQL so the rules read in one
 * place: viewer reads only; installer reads and comments; security and admin act.
 */
import { CodedError } from '@safe-community/runtime';
import type { Actor, AlarmState, Role } from './types.js';

export type Action = 'read' | 'comment' | 'acknowledge' | 'assign' | 'dispatch' | 'resolve' | 'raise';

const ALLOWED: Readonly<Record<Role, ReadonlySet<Action>>> = {
  viewer: new Set(['read']),
  installer: new Set(['read', 'comment']),
  security: new Set(['read', 'comment', 'acknowledge', 'assign', 'dispatch', 'resolve', 'raise']),
  admin: new Set(['read', 'comment', 'acknowledge', 'assign', 'dispatch', 'resolve', 'raise']),
};

export const ACTIVE: readonly AlarmState[] = ['open', 'acknowledged', 'dispatched'];
export const isActive = (s: AlarmState): boolean => ACTIVE.includes(s);

export function notFound(id: string): CodedError {
  return new CodedError('ERR_ALARM_NOT_FOUND', `no alarm ${id}`);
}

export function validation(message: string): CodedError {
  return new CodedError('ERR_VALIDATION', message);
}

/** True when the actor's sites include this site. Out-of-scope alarms answer "not found", never "forbidden". */
export function inScope(actor: { sites: readonly string[] | '*' }, site: string): boolean {
  return actor.sites === '*' || actor.sites.includes(site);
}

export function checkActor(actor: Actor): void {
  if (!actor || typeof actor.user !== 'string' || actor.user.length === 0 || !(actor.role in ALLOWED)) {
    throw validation('actor needs a user and a known role');
  }
}

export function requireRole(actor: Actor, action: Action): void {
  if (!ALLOWED[actor.role].has(action)) {
    throw new CodedError('ERR_FORBIDDEN', `role ${actor.role} may not ${action} alarms`);
  }
}

export interface TransitionPolicy {
  /** When true (default), resolve and false-alarm need the alarm acknowledged (or dispatched) first. */
  requireAckBeforeResolve: boolean;
}

/** The state an action leads to from `from`, or ERR_ALARM_STATE. */
export function transition(from: AlarmState, action: 'acknowledge' | 'dispatch' | 'resolve' | 'false_alarm' | 'assign', policy: TransitionPolicy): AlarmState {
  const illegal = (): CodedError => new CodedError('ERR_ALARM_STATE', `cannot ${action.replace('_', ' ')} an alarm that is ${from}`);
  switch (action) {
    case 'acknowledge':
      if (from !== 'open') throw illegal();
      return 'acknowledged';
    case 'assign':
      if (!isActive(from)) throw illegal();
      return from;
    case 'dispatch':
      // Dispatching an open alarm acknowledges it too: the dispatcher has seen it. More terminals may follow.
      if (!isActive(from)) throw illegal();
      return 'dispatched';
    case 'resolve':
    case 'false_alarm':
      if (!isActive(from)) throw illegal();
      if (from === 'open' && policy.requireAckBeforeResolve) throw illegal();
      return action === 'resolve' ? 'resolved' : 'false_alarm';
  }
}

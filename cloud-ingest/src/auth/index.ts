export type { Role, Actor, Db } from './types.js';
export { ROLES } from './types.js';
export { UserDirectory, type DirectoryOptions, type UserRecord } from './directory.js';
export { can, requirePermission, siteAllowed, scopeSites, isGlobalAdmin, managesSites, requireManages, type Permission } from './policy.js';
export { EdgeDirectory, RESERVED_EDGE_IDS, type EdgeIdentity, type EdgeRecord, type IssueOptions } from './edges.js';
export { newToken, hashToken, bearerToken } from './tokens.js';
export { userAuthHook, edgeAuthHook, actorOf } from './hooks.js';
export { SessionStore, type Session, type SignedIn, type SessionOptions } from './sessions.js';
export { sessionOrBearerHook, SESSION_COOKIE } from './session-hooks.js';

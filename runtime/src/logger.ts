import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** user:password@ in URLs (RTSP, MQTT, PostgreSQL) → user:***@ */
const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]+:)[^@\s]+@/gi;

export function redactUrl(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1***@');
}

/** Keys whose values never reach a log line. */
export const REDACT_PATHS = [
  'password', '*.password', 'token', '*.token', 'secret', '*.secret', 'authorization', '*.authorization',
  'req.headers.authorization', 'headers.authorization', '*.credentials', 'credentials',
];

/** Key names whose values are secrets at any depth (issue 13: 4 of 7 nested secrets were printed). */
const SECRET_KEY = /password|passwd|passphrase|^pass$|secret|token|authorization|credential|api[-_]?key|private[-_]?key/i;
/** Deeper than this a log object is cut: log lines stay bounded and cycles end. */
const MAX_DEPTH = 8;
const MAX_ITEMS = 200;

/**
 * A copy of a log object with secret-named keys masked at every depth and credentials cut out of URLs in
 * strings. Errors are kept as they are (pino's serializer turns them into message and stack) with their
 * message cleaned of URL credentials.
 */
export function redactDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactUrl(value);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    const message = redactUrl(value.message);
    if (message !== value.message) value.message = message;
    return value;
  }
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (Buffer.isBuffer(value) || value instanceof Date) return value;
  if (Array.isArray(value)) return value.slice(0, MAX_ITEMS).map((v) => redactDeep(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) && v !== null && v !== undefined ? '***' : redactDeep(v, depth + 1);
  return out;
}

/**
 * The one logger. Devices get child loggers (`log.child({ device })`). Credentials are redacted by key at
 * any depth, and by pattern inside URLs, since RTSP URLs carry passwords.
 */
export function createLogger(opts: { level?: string; name?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '***' },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? redactUrl(a) : a)) as Parameters<typeof method>);
      },
    },
    formatters: {
      // A copy: the caller's object is never changed by logging it.
      log: (obj) => redactDeep(obj) as Record<string, unknown>,
    },
  };
  if (opts.name) options.name = opts.name;
  return opts.destination ? pino(options, opts.destination as pino.DestinationStream) : pino(options);
}

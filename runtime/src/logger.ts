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

/**
 * The one logger. Devices get child loggers (`log.child({ device })`). Credentials are redacted by key,
 * and by pattern inside URLs, since RTSP URLs carry passwords.
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
      log(obj) {
        for (const [k, v] of Object.entries(obj)) if (typeof v === 'string') obj[k] = redactUrl(v);
        return obj;
      },
    },
  };
  if (opts.name) options.name = opts.name;
  return opts.destination ? pino(options, opts.destination as pino.DestinationStream) : pino(options);
}

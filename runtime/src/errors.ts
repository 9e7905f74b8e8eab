/**
 * The one error shape of the project: a stable `code` that callers, logs and HTTP answers match on,
 * a readable message, and the cause kept (after Fastify's lib/errors.js).
 */
export class CodedError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CodedError';
    this.code = code;
  }
}

/** The code of any thrown value, for counting and dead-letter records. */
export function errorCode(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return 'ERR_UNEXPECTED';
}

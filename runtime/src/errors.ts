import type { ErrorCode } from './error-codes.js';

/**
 * The one error shape of the project: a stable `code` that callers, logs and HTTP answers match on,
 * a readable message, and the cause kept (after Fastify's lib/errors.js). The code is one of the
 * catalogue's (error-codes.ts), so its HTTP status and meaning are known.
 */
export class CodedError extends Error {
  /** A catalogued code, or one passed on from elsewhere (see passedOn). */
  readonly code: string;
  constructor(code: ErrorCode | PassedOnCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CodedError';
    this.code = code;
  }
}

/** A code that came from outside the catalogue (a Node errno such as ECONNREFUSED, a device's own) and is passed on as it is. */
export type PassedOnCode = string & { readonly passedOn: true };

/** Marks a code read from another error as one to pass on unchanged, where it need not be a catalogued one. */
export const passedOn = (code: string): PassedOnCode => code as PassedOnCode;

/** The code of any thrown value, for counting and dead-letter records. */
export function errorCode(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return 'ERR_UNEXPECTED';
}

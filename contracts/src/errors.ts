/** Errors with a stable code that callers and logs can match on; the cause is kept. */
export class ContractError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ContractError';
    this.code = code;
  }
}

export interface Issue {
  /** JSON pointer into the message, '' for the root. */
  path: string;
  reason: string;
}

/** A message failed its schema; `issues` says where and why, for dead-letter records and 400 answers. */
export class ValidationError extends ContractError {
  readonly schema: string;
  readonly issues: readonly Issue[];
  constructor(schema: string, issues: readonly Issue[]) {
    const first = issues[0];
    super('ERR_VALIDATION', `invalid ${schema}: ${first ? `${first.path || '/'} ${first.reason}` : 'unknown reason'}` +
      (issues.length > 1 ? ` (+${issues.length - 1} more)` : ''));
    this.name = 'ValidationError';
    this.schema = schema;
    this.issues = issues;
  }
}

/**
 * Request validation with TypeBox's compiler instead of Fastify's default Ajv setup. Fastify's Ajv is set to
 * strip unknown properties silently; the API refuses them instead, so a misspelt field is an error the
 * caller sees (400 ERR_VALIDATION with path + reason), not a field quietly ignored. Query strings and path
 * parameters arrive as text and are converted to the schema's types first.
 */
import type { FastifySchemaCompiler } from 'fastify';
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { CodedError } from '@safe-community/runtime';
import { decodeIssues } from '@safe-community/contracts';

export interface Issue { path: string; reason: string }

/** A 400 with the issues found, in the shape every API error has. */
export class RequestValidationError extends CodedError {
  readonly statusCode = 400;
  constructor(readonly part: string, readonly issues: Issue[]) {
    const first = issues[0];
    super('ERR_VALIDATION', `invalid ${part}: ${first ? `${first.path || '/'} ${first.reason}` : 'unknown reason'}`);
  }
}

export const typeboxCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = TypeCompiler.Compile(schema);
  const convert = httpPart === 'querystring' || httpPart === 'params';
  return (data: unknown) => {
    // A POST without a body validates as {}: required fields are then named, and all-optional bodies pass.
    const input = httpPart === 'body' && (data === null || data === undefined) ? {} : data;
    // NUL in any text field (PostgreSQL text cannot hold it: it used to answer 500) and absurd nesting are
    // refused before the schema (issue 13).
    const limits = decodeIssues(input);
    if (limits.length > 0) return { error: new RequestValidationError(httpPart ?? 'request', limits) };
    const value = convert ? Value.Convert(schema, input) : input;
    if (check.Check(value)) return { value };
    const issues: Issue[] = [];
    for (const e of check.Errors(value)) {
      issues.push({ path: e.path, reason: e.message });
      if (issues.length >= 10) break;
    }
    return { error: new RequestValidationError(httpPart ?? 'request', issues) };
  };
};

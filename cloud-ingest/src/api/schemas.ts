/** Request schemas of the API, built from the contracts' types so ids and times mean the same everywhere. */
import { Type } from '@sinclair/typebox';
import { Id, Uuid, Timestamp, Severity } from '@safe-community/contracts';

export const ErrorBody = Type.Object({
  code: Type.String({ description: 'stable error code, e.g. ERR_ALARM_STATE' }),
  message: Type.String(),
  requestId: Type.Optional(Type.String()),
  issues: Type.Optional(Type.Array(Type.Object({ path: Type.String(), reason: Type.String() }))),
}, { $id: 'ApiError' });

export const Limit = Type.Integer({ minimum: 1, maximum: 1000, default: 100 });

export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false });

/** Comma-separated list of lower-case words in a query string, e.g. state=open,acknowledged. */
export const CsvList = (description: string) => Type.String({ pattern: '^[a-z_]+(,[a-z_]+)*$', maxLength: 256, description: `${description} (comma-separated)` });

export const SeriesQuery = {
  site: Type.Optional(Id),
  device: Type.Optional(Id),
  from: Type.Optional(Timestamp),
  to: Type.Optional(Timestamp),
  limit: Type.Optional(Limit),
  cursor: Type.Optional(Type.String({ maxLength: 512, description: 'nextCursor of the previous page' })),
};

export { Id, Uuid, Timestamp, Severity };

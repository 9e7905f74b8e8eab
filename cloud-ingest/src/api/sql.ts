/** A small WHERE builder with numbered parameters, and the keyset cursor the list endpoints page with. */
import { CodedError } from '@safe-community/runtime';

export class Where {
  readonly params: unknown[] = [];
  private readonly parts: string[] = [];

  /** `clause` uses `?` for the one value; it becomes the next $n. */
  add(clause: string, value: unknown): this {
    this.params.push(value);
    this.parts.push(clause.replace('?', `$${this.params.length}`));
    return this;
  }

  /** Site scoping: '*' adds nothing; a list (possibly empty, which matches nothing) adds `site = ANY(...)`. */
  sites(column: string, sites: readonly string[] | '*'): this {
    if (sites === '*') return this;
    return this.add(`${column} = ANY(?::text[])`, [...sites]);
  }

  raw(clause: string): this {
    this.parts.push(clause);
    return this;
  }

  next(): string {
    return `$${this.params.length + 1}`;
  }

  toString(): string {
    return this.parts.length > 0 ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}

/** Keyset cursor over (time, edge, seq): stable under inserts, unlike OFFSET. Opaque to callers. */
export interface SeriesCursor { time: string; edge: string; seq: number }

export function encodeCursor(c: SeriesCursor): string {
  return Buffer.from(JSON.stringify([c.time, c.edge, c.seq]), 'utf8').toString('base64url');
}

export function decodeCursor(text: string): SeriesCursor {
  try {
    const v = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && typeof v[0] === 'string' && !Number.isNaN(Date.parse(v[0])) && typeof v[1] === 'string' && Number.isInteger(v[2])) {
      return { time: v[0], edge: v[1], seq: v[2] as number };
    }
  } catch (err) {
    throw new CodedError('ERR_BAD_CURSOR', 'the cursor is not one this API issued', { cause: err });
  }
  throw new CodedError('ERR_BAD_CURSOR', 'the cursor is not one this API issued');
}

export const iso = (v: unknown): string | null => (v === null || v === undefined ? null : new Date(v as string | Date).toISOString());

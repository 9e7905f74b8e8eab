/**
 * HTTP Range for clips (RFC 9110 §14): one `bytes=` range, which is what video elements send. A header that
 * names another unit, or several ranges, is ignored and the whole clip is answered, as the RFC allows; a
 * bytes range that cannot be satisfied is a 416.
 */
import type { ByteRange } from './store.js';

export type RangeAnswer = { kind: 'whole' } | { kind: 'part'; range: ByteRange } | { kind: 'unsatisfiable' };

export function parseRange(header: string | undefined, size: number): RangeAnswer {
  if (header === undefined || !/^\s*bytes=/i.test(header) || header.includes(',')) return { kind: 'whole' };
  const m = /^\s*bytes=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'unsatisfiable' };
  if (m[1] === '') {
    // A suffix: the last N bytes.
    const n = Number(m[2]);
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'part', range: { start: Math.max(0, size - n), end: size - 1 } };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return { kind: 'unsatisfiable' };
  return { kind: 'part', range: { start, end } };
}

/**
 * The on-disk record of the outbox. Each record is self-checking so recovery can tell a complete record
 * from a torn one (a write cut short by kill -9 or a power cut):
 *
 *   offset 0  u32  body length (bytes)
 *   offset 4  u32  CRC-32 over bytes 8..end (rest of the header + body)
 *   offset 8  f64  seq (integers are exact up to 2^53)
 *   offset 16 f64  appendedAt, ms since the epoch (for oldest-age and uplink-lag metrics)
 *   offset 24 u8   message type code, then 3 reserved bytes
 *   offset 28      body: the UplinkMessage as UTF-8 JSON, `seq` included, ready to splice into an Envelope
 */
import { crc32 } from 'node:zlib';
import type { UplinkType } from '@safe-community/contracts';

export const HEADER_BYTES = 28;
/** A record larger than this is refused at append and treated as corruption at recovery. */
export const MAX_BODY_BYTES = 1024 * 1024;

const TYPE_CODES: Readonly<Record<UplinkType, number>> = Object.freeze({
  event: 1, telemetry: 2, status: 3, command_result: 4, alarm: 5, linkage: 6,
});
const TYPES_BY_CODE: readonly (UplinkType | undefined)[] = (() => {
  const out: (UplinkType | undefined)[] = [];
  for (const [name, code] of Object.entries(TYPE_CODES)) out[code] = name as UplinkType;
  return out;
})();

/** One record read back from the outbox. `json` is the full UplinkMessage (with seq) as JSON text. */
export interface OutboxRecord {
  seq: number;
  appendedAt: number;
  type: UplinkType;
  json: string;
}

/** Writes one record at `offset` of `buf` (which must have room for HEADER_BYTES + bodyLen). */
export function encodeRecordInto(
  buf: Buffer, offset: number, seq: number, appendedAt: number, type: UplinkType, json: string, bodyLen: number,
): number {
  const size = HEADER_BYTES + bodyLen;
  buf.writeUInt32LE(bodyLen, offset);
  buf.writeDoubleLE(seq, offset + 8);
  buf.writeDoubleLE(appendedAt, offset + 16);
  buf.writeUInt32LE(TYPE_CODES[type], offset + 24);
  buf.write(json, offset + HEADER_BYTES, bodyLen, 'utf8');
  buf.writeUInt32LE(crc32(buf.subarray(offset + 8, offset + size)), offset + 4);
  return size;
}

export type DecodeResult =
  | { kind: 'record'; seq: number; appendedAt: number; typeCode: number; size: number }
  | { kind: 'short' }
  | { kind: 'bad'; reason: string };

/**
 * Checks the record at `offset` in `buf`. 'short' means the buffer ends inside the record (read more, or,
 * at the end of a file, a torn tail); 'bad' means the bytes are not a valid record.
 */
export function decodeHeader(buf: Buffer, offset: number, verifyCrc: boolean): DecodeResult {
  if (buf.length - offset < HEADER_BYTES) return { kind: 'short' };
  const bodyLen = buf.readUInt32LE(offset);
  if (bodyLen > MAX_BODY_BYTES) return { kind: 'bad', reason: `length ${bodyLen} over the record limit` };
  const size = HEADER_BYTES + bodyLen;
  if (buf.length - offset < size) return { kind: 'short' };
  if (verifyCrc && crc32(buf.subarray(offset + 8, offset + size)) !== buf.readUInt32LE(offset + 4)) {
    return { kind: 'bad', reason: 'CRC mismatch' };
  }
  const typeCode = buf.readUInt32LE(offset + 24);
  if (TYPES_BY_CODE[typeCode] === undefined) return { kind: 'bad', reason: `unknown type code ${typeCode}` };
  return { kind: 'record', seq: buf.readDoubleLE(offset + 8), appendedAt: buf.readDoubleLE(offset + 16), typeCode, size };
}

export function typeOfCode(code: number): UplinkType {
  const t = TYPES_BY_CODE[code];
  if (t === undefined) throw new RangeError(`unknown type code ${code}`);
  return t;
}

export function bodyOf(buf: Buffer, offset: number, size: number): string {
  return buf.toString('utf8', offset + HEADER_BYTES, offset + size);
}

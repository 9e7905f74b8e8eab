/**
 * Payload codecs: vendor bytes ⇄ a flat record of named fields. Three wire styles cover the profiles in
 * firmware-configs: JSON objects, delimited ASCII records, and binary records sent as hex text. Every
 * failure is a DecodeError/EncodeError with a stable code; nothing here throws anything else.
 */
import type { Codec, CommandTemplate, HexField } from '@safe-community/firmware-configs';
import { CodedError, type ErrorCode } from '@safe-community/runtime';
import { decodeIssues } from '@safe-community/contracts';

export type Fields = Record<string, unknown>;

export class DecodeError extends CodedError {
  declare readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'DecodeError';
  }
}

const HEX_RE = /^(?:[0-9a-fA-F]{2})+$/;
const UUID_HEX_RE = /^[0-9a-f]{32}$/i;

export function decodeFields(codec: Codec, payload: Buffer): Fields {
  switch (codec.type) {
    case 'json':
      return decodeJson(payload);
    case 'delimited':
      return decodeDelimited(codec.separator, codec.records, payload);
    case 'hex':
      return decodeHex(codec.records, payload);
  }
}

function decodeJson(payload: Buffer): Fields {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    throw new DecodeError('ERR_DECODE_PAYLOAD', `not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DecodeError('ERR_DECODE_PAYLOAD', 'JSON payload is not an object');
  }
  // A device payload that would become unstorable upstream (deep nesting, NUL) is refused here, at the edge.
  const issues = decodeIssues(value);
  if (issues.length > 0) throw new DecodeError('ERR_DECODE_PAYLOAD', `payload past the decode limits: ${issues[0]!.path || '/'} ${issues[0]!.reason}`);
  return value as Fields;
}

function decodeDelimited(separator: string, records: Record<string, string[]>, payload: Buffer): Fields {
  const text = payload.toString('utf8').replace(/\r?\n$/, '');
  const parts = text.split(separator);
  const tag = parts[0] ?? '';
  // Own-property lookup: a record tag such as "__proto__" must not reach Object.prototype.
  const names = Object.hasOwn(records, tag) ? records[tag] : undefined;
  if (!names) throw new DecodeError('ERR_DECODE_RECORD', `unknown record type "${tag.slice(0, 16)}"`);
  if (parts.length !== names.length) {
    throw new DecodeError('ERR_DECODE_PAYLOAD', `record "${tag}" has ${parts.length} fields, expected ${names.length}`);
  }
  const out: Fields = {};
  names.forEach((name, i) => {
    const v = parts[i];
    // An empty field is a missing field: Number('') would otherwise read as 0.
    if (v !== undefined && v !== '') out[name] = v;
  });
  return out;
}

function decodeHex(records: Record<string, HexField[]>, payload: Buffer): Fields {
  const text = payload.toString('latin1').replace(/\s+/g, '');
  if (!HEX_RE.test(text)) throw new DecodeError('ERR_DECODE_PAYLOAD', 'payload is not hex text');
  const bytes = Buffer.from(text, 'hex');
  const tag = text.slice(0, 2).toLowerCase();
  const layout = Object.hasOwn(records, tag) ? records[tag] : undefined;
  if (!layout) throw new DecodeError('ERR_DECODE_RECORD', `unknown record type 0x${tag}`);
  const expected = layout.reduce((n, f) => n + f.bytes, 0);
  if (bytes.length !== expected) throw new DecodeError('ERR_DECODE_PAYLOAD', `record 0x${tag} is ${bytes.length} bytes, expected ${expected}`);
  const out: Fields = {};
  let at = 0;
  for (const f of layout) {
    const slice = bytes.subarray(at, at + f.bytes);
    at += f.bytes;
    out[f.name] = readHexField(f, slice);
  }
  return out;
}

function readHexField(f: HexField, slice: Buffer): unknown {
  switch (f.as ?? 'uint') {
    case 'uuid': {
      if (slice.length !== 16) throw new DecodeError('ERR_DECODE_PAYLOAD', `${f.name}: a uuid needs 16 bytes`);
      const h = slice.toString('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }
    case 'ascii':
      return slice.toString('latin1').replace(/\0+$/, '');
    default: {
      // Up to 6 bytes stays an exact JS number; longer fields are kept as hex text.
      if (slice.length > 6) return slice.toString('hex');
      return slice.length === 0 ? 0 : slice.readUIntBE(0, slice.length);
    }
  }
}

export interface TemplateContext {
  id: string;
  action: string;
  params: Record<string, unknown>;
  now: Date;
}

export class EncodeError extends CodedError {
  constructor(code: ErrorCode, message: string) {
    super(code, message);
    this.name = 'EncodeError';
  }
}

function fill(template: string | number | boolean, ctx: TemplateContext): unknown {
  if (typeof template !== 'string' || !template.startsWith('$')) return template;
  if (template === '$id') return ctx.id;
  if (template === '$action') return ctx.action;
  if (template === '$time') return ctx.now.toISOString();
  if (template === '$epoch') return Math.floor(ctx.now.getTime() / 1000);
  if (template.startsWith('$param.')) {
    const name = template.slice('$param.'.length);
    if (!Object.hasOwn(ctx.params, name)) throw new EncodeError('ERR_COMMAND_PARAM', `command ${ctx.action} needs param "${name}"`);
    return ctx.params[name];
  }
  throw new EncodeError('ERR_COMMAND_TEMPLATE', `unknown placeholder ${template}`);
}

/** Builds the vendor payload for one command from the profile's template. */
export function encodePayload(codec: Codec, tpl: CommandTemplate, ctx: TemplateContext): Buffer {
  if ('json' in tpl) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(tpl.json)) out[k] = fill(v, ctx);
    return Buffer.from(JSON.stringify(out));
  }
  if ('fields' in tpl) {
    if (codec.type !== 'delimited') throw new EncodeError('ERR_COMMAND_TEMPLATE', 'delimited template on a non-delimited codec');
    const values = tpl.fields.map((f) => String(fill(f, ctx)));
    if (values.some((v) => v.includes(codec.separator) || /[\r\n]/.test(v))) {
      throw new EncodeError('ERR_COMMAND_PARAM', `a ${ctx.action} field contains the separator`);
    }
    return Buffer.from(values.join(codec.separator));
  }
  const chunks = tpl.bytes.map((b) => writeHexField(b.as ?? 'uint', b.bytes, fill(b.value, ctx), ctx.action));
  return Buffer.from(Buffer.concat(chunks).toString('hex'));
}

function writeHexField(as: 'uint' | 'uuid' | 'ascii', size: number, value: unknown, action: string): Buffer {
  const buf = Buffer.alloc(size);
  if (as === 'uuid') {
    const hex = String(value).replace(/-/g, '');
    if (size !== 16 || !UUID_HEX_RE.test(hex)) throw new EncodeError('ERR_COMMAND_PARAM', `${action}: not a uuid`);
    Buffer.from(hex, 'hex').copy(buf);
    return buf;
  }
  if (as === 'ascii') {
    const b = Buffer.from(String(value), 'latin1');
    if (b.length > size) throw new EncodeError('ERR_COMMAND_PARAM', `${action}: text longer than ${size} bytes`);
    b.copy(buf);
    return buf;
  }
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || size > 6 || n >= 2 ** (8 * size)) {
    throw new EncodeError('ERR_COMMAND_PARAM', `${action}: ${String(value)} does not fit ${size} byte(s)`);
  }
  buf.writeUIntBE(n, 0, size);
  return buf;
}

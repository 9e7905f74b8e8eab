import t from 'tap';
import { Writable } from 'node:stream';
import { Backoff, CodedError, errorCode, createLogger, redactUrl } from '@safe-community/runtime';

t.test('backoff grows, caps, jitters and resets', async (t) => {
  const b = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0, random: () => 0.5 });
  t.same([b.next(), b.next(), b.next(), b.next(), b.next()], [100, 200, 400, 800, 1000]);
  b.reset();
  t.equal(b.next(), 100);
  const j = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 1, random: () => 0 });
  t.equal(j.next(), 0, 'full jitter can go to zero');
  t.throws(() => new Backoff({ initialMs: 0, maxMs: 1 }), { code: 'ERR_BACKOFF_OPTIONS' });
});

t.test('errors keep code and cause', async (t) => {
  const cause = new Error('root');
  const e = new CodedError('ERR_CONFIG', 'outer', { cause });
  t.equal(errorCode(e), 'ERR_CONFIG');
  t.equal(e.cause, cause);
  t.equal(errorCode(new Error('plain')), 'ERR_UNEXPECTED');
});

t.test('logger redacts credentials in keys and URLs', async (t) => {
  t.equal(redactUrl('rtsp://admin:s3cret@10.0.0.5/stream'), 'rtsp://admin:***@10.0.0.5/stream');
  let out = '';
  const dest = new Writable({ write(chunk, _e, cb) { out += chunk.toString(); cb(); } });
  const log = createLogger({ destination: dest, level: 'info' });
  log.info({ url: 'rtsp://admin:s3cret@cam/1', password: 'hunter2' }, 'camera at mqtt://u:pw@host');
  t.notMatch(out, /s3cret|hunter2|:pw@/);
  t.match(out, /admin:\*\*\*@cam/);
});

t.test('config validation names the key and the allowed values', async (t) => {
  const { Type } = await import('@sinclair/typebox');
  const { validateConfig } = await import('@safe-community/runtime');
  const schema = Type.Object({
    mode: Type.Union([Type.Literal('a'), Type.Literal('b')], { default: 'a' }),
    port: Type.Integer({ minimum: 0, default: 8080 }),
    nested: Type.Object({ x: Type.Number({ default: 1 }) }, { additionalProperties: false, default: {} }),
  }, { additionalProperties: false });
  const ok = validateConfig('demo', schema, {});
  t.same(ok, { mode: 'a', port: 8080, nested: { x: 1 } }, 'defaults filled');
  t.ok(Object.isFrozen(ok.nested), 'frozen deep');
  t.throws(() => validateConfig('demo', schema, { mode: 'c' }), { code: 'ERR_CONFIG', message: /mode: "c" is not allowed \(allowed: "a", "b"\)/ });
  t.throws(() => validateConfig('demo', schema, { nested: { y: 2 } }), { message: /unknown key nested\.y/ });
  t.throws(() => validateConfig('demo', schema, { port: -1 }), { message: /port: .*got -1/ });
});

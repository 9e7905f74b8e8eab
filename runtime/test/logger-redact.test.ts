/** Issue 13: the logger masks secrets at any depth (4 of 7 nested secrets were printed), and leaves the caller's object as it was. */
import t from 'tap';
import { Writable } from 'node:stream';
import { createLogger } from '@safe-community/runtime';

t.test('secrets nested at any depth never reach the line', async (t) => {
  let out = '';
  const destination = new Writable({ write(chunk, _enc, cb) { out += chunk.toString(); cb(); } });
  const log = createLogger({ destination, level: 'info' });
  const secrets = ['s3cret-one', 's3cret-two', 's3cret-three', 's3cret-four', 's3cret-five', 's3cret-six', 's3cret-seven'];
  const obj = {
    password: secrets[0],
    device: { password: secrets[1], id: 'G1' },
    uplink: { auth: { token: secrets[2] } },
    cameras: [{ id: 'C1', onvif: { credentials: { user: 'admin', pass: secrets[3] } } }],
    headers: { Authorization: `Bearer ${secrets[4]}` },
    config: { notify: { webhook: { webhookToken: secrets[5] } } },
    stream: `rtsp://admin:${secrets[6]}@10.0.0.5/stream1`,
  };
  log.info(obj, 'configured');
  for (const s of secrets) t.notOk(out.includes(s), `${s} not printed`);
  t.match(out, /"id":"G1"/, 'the rest is kept');
  t.match(out, /rtsp:\/\/admin:\*\*\*@10\.0\.0\.5/);
  t.equal(obj.device.password, secrets[1], 'the caller\'s object is unchanged');
});

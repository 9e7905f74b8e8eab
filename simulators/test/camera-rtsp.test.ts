/**
 * The RTSP source serves the looping video to real pull clients: ffprobe reads the stream description and
 * ffmpeg decodes frames over RTP/AVP/TCP and over UDP, two clients at once, and the source cleans up.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { MEDIA_DIR, waitFor } from '@safe-community/testkit';
import { RtspLoopSource, rewriteSdp } from '@safe-community/simulators/camera';

const VIDEO = join(MEDIA_DIR, 'vtest_20s_h264.mp4');

function run(cmd: string, args: string[], timeout = 20_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Decodes `frames` frames from the URL and returns how many ffmpeg reports it wrote. */
async function pullFrames(url: string, transport: 'tcp' | 'udp', frames: number): Promise<number> {
  const r = await run('ffmpeg', ['-hide_banner', '-nostats', '-rtsp_transport', transport, '-i', url, '-frames:v', String(frames), '-f', 'null', '-']);
  const m = /frame=\s*(\d+)/g;
  let last = 0;
  for (const hit of r.stderr.matchAll(m)) last = Number(hit[1]);
  return r.code === 0 ? last : -1;
}

t.test('serves the looping H.264 video to pull clients', async (t) => {
  const errors: string[] = [];
  const src = new RtspLoopSource({ file: VIDEO, onError: (e) => errors.push(e.message) });
  await src.start();
  t.teardown(() => src.stop());
  t.match(src.baseUrl, /^rtsp:\/\/127\.0\.0\.1:\d+$/);

  const probe = await run('ffprobe', ['-v', 'error', '-rtsp_transport', 'tcp', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', `${src.baseUrl}/main`]);
  t.equal(probe.code, 0, probe.stderr);
  const streams = (JSON.parse(probe.stdout) as { streams: Array<Record<string, unknown>> }).streams;
  t.same(streams, [{ codec_name: 'h264', width: 768, height: 576 }]);

  const [tcp, udp] = await Promise.all([pullFrames(`${src.baseUrl}/main`, 'tcp', 10), pullFrames(`${src.baseUrl}/sub`, 'udp', 10)]);
  t.equal(tcp, 10, 'ten frames decoded over RTP/AVP/TCP');
  t.equal(udp, 10, 'ten frames decoded over UDP, at the same time');
  t.ok(src.packetCount > 100, 'ffmpeg keeps feeding RTP');
  await waitFor(() => src.playingClients === 0, { what: 'clients gone after teardown' });
  t.same(errors, [], 'no ffmpeg failures');
});

t.test('answers RTSP methods and rejects what it does not support', async (t) => {
  const src = new RtspLoopSource({ file: VIDEO });
  await src.start();
  t.teardown(() => src.stop());
  const sock = connect(src.port, '127.0.0.1');
  t.teardown(() => sock.destroy());
  let buf = '';
  sock.on('data', (d: Buffer) => (buf += d.toString('latin1')));
  const ask = async (req: string, expect: RegExp) => {
    buf = '';
    sock.write(req);
    await waitFor(() => expect.test(buf), { what: `answer to ${req.split(' ')[0]}` });
    return buf;
  };
  const url = `${src.baseUrl}/main`;
  t.match(await ask(`OPTIONS ${url} RTSP/1.0\r\nCSeq: 1\r\n\r\n`, /\r\n\r\n/), /RTSP\/1\.0 200 OK[\s\S]*Public: OPTIONS, DESCRIBE, SETUP/);
  const describe = await ask(`DESCRIBE ${url} RTSP/1.0\r\nCSeq: 2\r\nAccept: application/sdp\r\n\r\n`, /a=control:trackID=0/);
  t.match(describe, /CSeq: 2/);
  t.match(describe, /m=video 0 RTP\/AVP 96/);
  t.match(describe, /sprop-parameter-sets=/, 'SPS/PPS in the SDP so late joiners can decode');
  t.match(await ask(`PLAY ${url} RTSP/1.0\r\nCSeq: 3\r\n\r\n`, /\r\n\r\n/), /455 Method Not Valid/, 'PLAY before SETUP');
  t.match(await ask(`SETUP ${url}/trackID=0 RTSP/1.0\r\nCSeq: 4\r\nTransport: RTP/AVP;multicast\r\n\r\n`, /\r\n\r\n/), /461 Unsupported Transport/);
  t.match(await ask(`RECORD ${url} RTSP/1.0\r\nCSeq: 5\r\n\r\n`, /\r\n\r\n/), /501 Not Implemented/);
  const setup = await ask(`SETUP ${url}/trackID=0 RTSP/1.0\r\nCSeq: 6\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n`, /\r\n\r\n/);
  t.match(setup, /Transport: RTP\/AVP\/TCP;unicast;interleaved=0-1/);
  const session = /Session: ([0-9a-f]+)/.exec(setup)?.[1];
  t.ok(session, 'session id given');
  sock.write(`PLAY ${url} RTSP/1.0\r\nCSeq: 7\r\nSession: ${session}\r\n\r\n`);
  await waitFor(() => src.playingClients === 1, { what: 'playing' });
  // Interleaved RTP arrives as '$' frames on the control connection.
  await waitFor(() => buf.includes('$\u0000'), { what: 'interleaved RTP' });
  sock.write(`TEARDOWN ${url} RTSP/1.0\r\nCSeq: 8\r\nSession: ${session}\r\n\r\n`);
  await waitFor(() => src.playingClients === 0, { what: 'teardown' });
});

t.test('rewriteSdp turns ffmpeg output into a session description with control URLs', async (t) => {
  const sdp = rewriteSdp('v=0\no=- 0 0 IN IP4 127.0.0.1\ns=No Name\nc=IN IP4 127.0.0.1\nt=0 0\na=tool:libavformat\nm=video 45000 RTP/AVP 96\na=rtpmap:96 H264/90000\n');
  t.match(sdp, /c=IN IP4 0\.0\.0\.0\r\n/);
  t.match(sdp, /t=0 0\r\na=control:\*\r\n/);
  t.match(sdp, /m=video 0 RTP\/AVP 96/);
  t.notMatch(sdp, /a=tool/);
  t.match(sdp, /a=control:trackID=0\r\n$/);
});

t.test('a missing video file fails start with a coded error and leaves nothing running', async (t) => {
  const src = new RtspLoopSource({ file: join(MEDIA_DIR, 'no-such-video.mp4'), restartBudget: 0 });
  await t.rejects(src.start(), { code: 'SIM_RTSP_SDP' });
  await src.stop();
  t.equal(src.port, 0);
});

t.test('ffmpeg dying is restarted with backoff and the stream resumes', async (t) => {
  const errors: string[] = [];
  const src = new RtspLoopSource({ file: VIDEO, onError: (e) => errors.push(e.code) });
  await src.start();
  t.teardown(() => src.stop());
  const first = src.ffmpegPid;
  t.ok(first, 'ffmpeg running');
  process.kill(first!, 'SIGKILL');
  await waitFor(() => src.restartCount === 1 && src.ffmpegPid !== undefined && src.ffmpegPid !== first, { what: 'ffmpeg restarted' });
  t.same(errors, ['SIM_RTSP_FFMPEG_EXIT'], 'the exit was reported');
  t.equal(await pullFrames(`${src.baseUrl}/main`, 'tcp', 5), 5, 'frames flow again after the restart');
});

t.test('with credentials the stream refuses anonymous clients and plays for Digest and Basic', async (t) => {
  const credentials = { username: 'viewer', password: 'rtsp-Pa55' };
  for (const auth of ['digest', 'basic'] as const) {
    const src = new RtspLoopSource({ file: VIDEO, credentials, auth });
    await src.start();
    t.teardown(() => src.stop());
    const anon = await run('ffprobe', ['-v', 'error', '-rtsp_transport', 'tcp', `${src.baseUrl}/main`]);
    t.not(anon.code, 0, `${auth}: anonymous client refused`);
    t.match(anon.stderr, /401|Unauthorized/i);
    const wrong = await run('ffprobe', ['-v', 'error', '-rtsp_transport', 'tcp', `rtsp://viewer:nope@127.0.0.1:${src.port}/main`]);
    t.not(wrong.code, 0, `${auth}: wrong password refused`);
    const url = `rtsp://viewer:rtsp-Pa55@127.0.0.1:${src.port}/main`;
    t.equal(await pullFrames(url, 'tcp', 5), 5, `${auth}: frames with the right credentials`);
    t.ok(src.refusedCount >= 2, 'refusals counted');
  }
});

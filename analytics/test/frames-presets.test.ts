import t from 'tap';
import { buildArgs, presetFor, videoFilter, PRESET_INFO, SOCKET_TIMEOUT_US, contentRect } from '@safe-community/analytics/video';

const yolox = { fps: 5, scale: 'letterbox' as const, width: 416, height: 416 };

function valueAfter(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

t.test('letterbox filter drops frames before scaling and pads top-left with 114 grey', async (t) => {
  t.equal(videoFilter(yolox),
    'fps=5,scale=416:416:force_original_aspect_ratio=decrease:flags=bilinear,pad=416:416:0:0:color=0x727272');
  t.equal(videoFilter({ fps: 10, scale: 'stretch', width: 352, height: 352 }), 'fps=10,scale=352:352:flags=bilinear');
});

t.test('rtsp-tcp preset: transport, socket timeout, corrupt frames discarded, raw RGB out', async (t) => {
  const a = buildArgs('rtsp-tcp', 'rtsp://cam:secret@127.0.0.1:8554/live', yolox);
  t.equal(a.input, 'rtsp://cam:secret@127.0.0.1:8554/live');
  t.equal(valueAfter(a.inputOptions, '-rtsp_transport'), 'tcp');
  t.equal(valueAfter(a.inputOptions, '-timeout'), String(SOCKET_TIMEOUT_US));
  t.match(valueAfter(a.inputOptions, '-fflags'), /\+discardcorrupt/);
  t.equal(valueAfter(a.inputOptions, '-threads'), '1');
  t.notOk(a.inputOptions.includes('-re'), 'a live source is never throttled by -re');
  t.same(a.outputOptions, [
    '-an', '-sn', '-dn', '-vf', videoFilter(yolox), '-fps_mode', 'passthrough', '-pix_fmt', 'rgb24', '-f', 'rawvideo',
  ]);
  t.equal(valueAfter(buildArgs('rtsp-udp', 'rtsp://h/x', yolox).inputOptions, '-rtsp_transport'), 'udp');
});

t.test('file presets: plain, real-time (-re) and looping', async (t) => {
  t.notOk(buildArgs('file', '/v.avi', yolox).inputOptions.includes('-re'));
  t.ok(buildArgs('file-realtime', '/v.avi', yolox).inputOptions.includes('-re'));
  const loop = buildArgs('file-loop', '/v.avi', yolox).inputOptions;
  t.ok(loop.includes('-re'));
  t.equal(valueAfter(loop, '-stream_loop'), '-1');
  t.equal(PRESET_INFO.file.endsAtEof, true);
  t.equal(PRESET_INFO['file-loop'].endsAtEof, false);
  t.equal(PRESET_INFO['rtsp-tcp'].endsAtEof, false);
  t.equal(valueAfter(buildArgs('http', 'http://127.0.0.1/x', yolox).inputOptions, '-rw_timeout'), String(SOCKET_TIMEOUT_US));
});

t.test('presetFor picks by scheme', async (t) => {
  t.equal(presetFor('rtsp://a/b'), 'rtsp-tcp');
  t.equal(presetFor('RTSPS://a/b', { udp: true }), 'rtsp-udp');
  t.equal(presetFor('http://a/b.mjpg'), 'http');
  t.equal(presetFor('/media/v.avi'), 'file');
  t.equal(presetFor('/media/v.avi', { realtime: true }), 'file-realtime');
  t.equal(presetFor('/media/v.avi', { loop: true }), 'file-loop');
});

t.test('bad settings are refused with a stable code', async (t) => {
  t.throws(() => buildArgs('file', '/v.avi', { ...yolox, fps: 0 }), { code: 'ERR_FFMPEG_PRESET' });
  t.throws(() => buildArgs('file', '/v.avi', { ...yolox, width: 8 }), { code: 'ERR_FFMPEG_PRESET' });
  t.throws(() => buildArgs('file', '', yolox), { code: 'ERR_FFMPEG_PRESET' });
  t.throws(() => buildArgs('nope' as never, '/v.avi', yolox), { code: 'ERR_FFMPEG_PRESET' });
});

t.test('content rectangle of a letterboxed 768x576 camera in 416x416', async (t) => {
  t.same(contentRect(yolox, 768, 576), { width: 416, height: 312, sourceWidth: 768, sourceHeight: 576 });
  t.same(contentRect({ ...yolox, scale: 'stretch' }, 768, 576), { width: 416, height: 416, sourceWidth: 768, sourceHeight: 576 });
});

/**
 * Event mapping and signal state in isolation: vendor topic variants, the motion-stop timeout on a manual
 * clock, and error classification.
 */
import t from 'tap';
import { FakeClock } from '@safe-community/testkit';
import { authorization, parseChallenge } from '../src/camera/http-auth.js';
import { mapNotification, SignalState, classifyCameraError, parseProbeMatch, type SignalChange, type CameraSignal } from '../src/camera/index.js';

const note = (topic: string, data: Array<[string, string | boolean]>, source: Array<[string, string]> = [['Source', 'vs1']]) => ({
  topic: { _: topic, $: { Dialect: 'http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet' } },
  message: {
    message: {
      $: { UtcTime: new Date('2026-11-29T10:00:00Z'), PropertyOperation: 'Changed' },
      source: { simpleItem: source.length === 1 ? { $: { Name: source[0]![0], Value: source[0]![1] } } : source.map(([Name, Value]) => ({ $: { Name, Value } })) },
      data: { simpleItem: data.length === 1 ? { $: { Name: data[0]![0], Value: data[0]![1] } } : data.map(([Name, Value]) => ({ $: { Name, Value } })) },
    },
  },
});

t.test('maps vendor topic variants to motion, tamper and analytics', async (t) => {
  t.match(mapNotification(note('tns1:VideoSource/MotionAlarm', [['State', true]])), { kind: 'motion', active: true, source: { Source: 'vs1' } });
  t.equal(mapNotification(note('tns1:VideoSource/MotionAlarm', [['State', true]]))?.deviceTime?.toISOString(), '2026-11-29T10:00:00.000Z');
  t.match(mapNotification(note('tns1:RuleEngine/CellMotionDetector/Motion', [['IsMotion', 'false']])), { kind: 'motion', active: false });
  t.match(mapNotification(note('tns1:RuleEngine/TamperDetector/Tamper', [['IsTamper', true]])), { kind: 'tamper', active: true });
  t.match(mapNotification(note('tns1:VideoSource/GlobalSceneChange/ImagingService', [['State', true]])), { kind: 'tamper', active: true });
  t.match(
    mapNotification(note('tns1:RuleEngine/FieldDetector/ObjectsInside', [['IsInside', true]], [['VideoSourceConfigurationToken', 'vsc'], ['Rule', 'yard']])),
    { kind: 'analytics', active: true, source: { Rule: 'yard', VideoSourceConfigurationToken: 'vsc' } },
  );
  t.match(mapNotification(note('tns1:RuleEngine/CountAggregation/Counter', [['Count', '3']])), { kind: 'analytics', active: true });
  t.equal(mapNotification(note('tns1:Device/Trigger/DigitalInput', [['LogicalState', true]])), undefined, 'topics the agent does not use are dropped');
  t.equal(mapNotification(note('tns1:VideoSource/MotionAlarm', [['Other', true]])), undefined, 'no state item, no signal');
  t.equal(mapNotification({ topic: 42 }), undefined);
  t.equal(mapNotification(null), undefined);
});

t.test('motion without a camera stop ends after the timeout; re-triggers keep it on', async (t) => {
  const clock = new FakeClock(0);
  const changes: SignalChange[] = [];
  const state = new SignalState(clock, 1000, (c) => changes.push(c));
  const motion = (active: boolean): CameraSignal => ({ kind: 'motion', active, topic: 'tns1:VideoSource/MotionAlarm', source: { Source: 'vs1' } });

  state.apply(motion(true));
  t.equal(changes.length, 1);
  clock.advance(800);
  state.apply(motion(true)); // camera repeats the start: timer re-armed, no new event
  clock.advance(800);
  t.equal(changes.length, 1, 'still on 1.6 s after the first start');
  t.ok(state.isActive('motion'));
  clock.advance(300);
  t.equal(changes.length, 2);
  t.match(changes[1], { reason: 'timeout', signal: { kind: 'motion', active: false } });
  state.apply(motion(false)); // a late stop from the camera changes nothing
  t.equal(changes.length, 2, 'late camera stop after a forced stop is ignored');

  state.apply(motion(true));
  state.apply(motion(false));
  t.match(changes[3], { reason: 'camera', signal: { active: false } });
  clock.advance(5000);
  t.equal(changes.length, 4, 'a camera stop cancels the timer');

  state.apply({ kind: 'tamper', active: true, topic: 'x', source: {} });
  clock.advance(60_000);
  t.equal(changes.length, 5, 'tamper has no timeout');
  state.clear();
  t.notOk(state.isActive('tamper'));
});

t.test('classifies failures into stable codes and keeps the cause', async (t) => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  const e1 = classifyCameraError('cam-1', 'connect', refused);
  t.equal(e1.code, 'CAMERA_OFFLINE');
  t.equal(e1.cause, refused);
  t.equal(classifyCameraError('cam-1', 'x', new Error('ONVIF SOAP Fault: Sender not Authorized')).code, 'CAMERA_AUTH_FAILED');
  t.equal(classifyCameraError('cam-1', 'x', new Error('Network timeout')).code, 'CAMERA_TIMEOUT');
  t.equal(classifyCameraError('cam-1', 'x', new Error('Wrong ONVIF SOAP response')).code, 'CAMERA_PROTOCOL');
});

t.test('parses ProbeMatch answers and ignores answers to other probes', async (t) => {
  const xml = (relates: string) =>
    `<s:Envelope><s:Header><a:RelatesTo>${relates}</a:RelatesTo></s:Header><s:Body><d:ProbeMatches><d:ProbeMatch>` +
    '<a:EndpointReference><a:Address>urn:uuid:cam</a:Address></a:EndpointReference><d:Types>dn:NetworkVideoTransmitter</d:Types>' +
    '<d:Scopes>onvif://www.onvif.org/name/Lobby%20Cam onvif://www.onvif.org/hardware/X1</d:Scopes>' +
    '<d:XAddrs>http://10.0.0.5/onvif/device_service http://[fe80::1]/onvif/device_service</d:XAddrs></d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>';
  t.match(parseProbeMatch(xml('urn:uuid:me'), 'urn:uuid:me', '10.0.0.5'), {
    urn: 'urn:uuid:cam',
    name: 'Lobby Cam',
    hardware: 'X1',
    xaddrs: ['http://10.0.0.5/onvif/device_service', 'http://[fe80::1]/onvif/device_service'],
  });
  t.equal(parseProbeMatch(xml('urn:uuid:other'), 'urn:uuid:me', '10.0.0.5'), undefined);
  t.equal(parseProbeMatch('<Hello/>', 'urn:uuid:me', '10.0.0.5'), undefined);
});

t.test('HTTP auth: Digest preferred over Basic, RFC 7616 response', async (t) => {
  const c = parseChallenge('Basic realm="x", Digest realm="cam", qop="auth,auth-int", nonce="abc", opaque="op"');
  t.match(c, { scheme: 'digest', params: { realm: 'cam', nonce: 'abc', qop: 'auth,auth-int', opaque: 'op' } });
  const h = authorization(c!, 'u', 'p', 'GET', '/snap.jpg');
  t.match(h, /^Digest username="u", realm="cam", nonce="abc", uri="\/snap\.jpg", algorithm=MD5, qop=auth, nc=00000001, cnonce="[0-9a-f]{16}", response="[0-9a-f]{32}", opaque="op"$/);
  // RFC 2617 §3.5 example credentials in the RFC 2069 form (no qop); expected value computed separately with Python hashlib.
  const old = authorization({ scheme: 'digest', params: { realm: 'testrealm@host.com', nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093' } }, 'Mufasa', 'Circle Of Life', 'GET', '/dir/index.html');
  t.match(old, /response="670fd8c2df070c60b045671b8b24ff02"/);
  t.equal(authorization(parseChallenge('Basic realm="cam"')!, 'u', 'p', 'GET', '/'), 'Basic dTpw');
  t.equal(parseChallenge(null), undefined);
  t.equal(parseChallenge('Bearer x'), undefined);
});

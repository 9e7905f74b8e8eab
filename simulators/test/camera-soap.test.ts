/**
 * The simulated camera at the wire level: raw SOAP 1.2 over HTTP with hand-made WS-Security headers, so the
 * simulator's own behaviour (auth, faults, PullPoint long-poll, discovery answers) is pinned independently
 * of any ONVIF client library.
 */
import t, { type Test } from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { MEDIA_DIR, waitFor } from '@safe-community/testkit';
import { SimulatedOnvifCamera, DiscoveryResponder, UsernameTokenVerifier, durationMs } from '@safe-community/simulators/camera';

const CREDS = { username: 'admin', password: 'pa55word' };

function security(user: string, password: string, created = new Date().toISOString(), nonce = randomBytes(16)): string {
  const digest = createHash('sha1').update(Buffer.concat([nonce, Buffer.from(created), Buffer.from(password)])).digest('base64');
  return (
    '<Security xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><UsernameToken>' +
    `<Username>${user}</Username><Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">${digest}</Password>` +
    `<Nonce>${nonce.toString('base64')}</Nonce><Created xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">${created}</Created>` +
    '</UsernameToken></Security>'
  );
}

function soap(header: string, body: string): string {
  return `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header>${header}</s:Header><s:Body>${body}</s:Body></s:Envelope>`;
}

async function post(url: string, xml: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/soap+xml' }, body: xml });
  return { status: res.status, text: await res.text() };
}

async function started(t: Test, extra: Partial<ConstructorParameters<typeof SimulatedOnvifCamera>[0]> = {}) {
  const cam = new SimulatedOnvifCamera({ credentials: CREDS, snapshotFile: join(MEDIA_DIR, 'person.jpg'), rtspBase: 'rtsp://127.0.0.1:8554', ...extra });
  await cam.start();
  t.teardown(() => cam.stop());
  return { cam, device: cam.deviceServiceUrl };
}

t.test('clock without auth; everything else needs a valid UsernameToken', async (t) => {
  const { cam, device } = await started(t);
  const clock = await post(device, soap('', '<GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/>'));
  t.equal(clock.status, 200);
  t.match(clock.text, /<tt:UTCDateTime><tt:Time><tt:Hour>\d+<\/tt:Hour>/);

  const info = '<GetDeviceInformation xmlns="http://www.onvif.org/ver10/device/wsdl"/>';
  const anon = await post(device, soap('', info));
  t.equal(anon.status, 400);
  t.match(anon.text, /ter:NotAuthorized/);
  t.match(anon.text, /Sender not Authorized/);

  t.equal((await post(device, soap(security('admin', 'wrong'), info))).status, 400, 'wrong password refused');
  t.equal((await post(device, soap(security('root', CREDS.password), info))).status, 400, 'wrong user refused');
  const stale = new Date(Date.now() - 10 * 60_000).toISOString();
  t.equal((await post(device, soap(security('admin', CREDS.password, stale), info))).status, 400, 'stale Created refused');

  const nonce = randomBytes(16);
  const created = new Date().toISOString();
  const ok = await post(device, soap(security('admin', CREDS.password, created, nonce), info));
  t.equal(ok.status, 200);
  t.match(ok.text, /<tds:Model>SimCam-100<\/tds:Model>/);
  t.equal((await post(device, soap(security('admin', CREDS.password, created, nonce), info))).status, 400, 'replayed nonce refused');
  t.equal(cam.refusedCount, 5);
});

t.test('faults for unknown operations, presets and subscriptions', async (t) => {
  const { cam, device } = await started(t);
  const call = (body: string, url = device) => post(url, soap(security(CREDS.username, CREDS.password), body));
  const unknown = await call('<SystemReboot xmlns="http://www.onvif.org/ver10/device/wsdl"/>');
  t.equal(unknown.status, 400);
  t.match(unknown.text, /ter:ActionNotSupported/);
  const noPreset = await call('<GotoPreset xmlns="http://www.onvif.org/ver20/ptz/wsdl"><ProfileToken>profile_main</ProfileToken><PresetToken>nope</PresetToken></GotoPreset>');
  t.match(noPreset.text, /ter:NoToken/);
  t.equal(cam.currentPreset, undefined);
  const goto = await call('<GotoPreset xmlns="http://www.onvif.org/ver20/ptz/wsdl"><ProfileToken>profile_main</ProfileToken><PresetToken>preset_gate</PresetToken></GotoPreset>');
  t.equal(goto.status, 200);
  t.equal(cam.currentPreset, 'preset_gate');
  const badProfile = await call('<GetStreamUri xmlns="http://www.onvif.org/ver10/media/wsdl"><ProfileToken>nope</ProfileToken></GetStreamUri>');
  t.match(badProfile.text, /ter:NoProfile/);
  const pull = await call('<PullMessages xmlns="http://www.onvif.org/ver10/events/wsdl"><Timeout>PT1S</Timeout><MessageLimit>5</MessageLimit></PullMessages>', `http://127.0.0.1:${cam.port}/onvif/subscription/unknown`);
  t.match(pull.text, /unknown or expired subscription/);
  const get = await fetch(device);
  t.equal(get.status, 405, 'SOAP is POST only');
  const snapAnon = await fetch(`http://127.0.0.1:${cam.port}/onvif/snapshot.jpg`);
  t.equal(snapAnon.status, 401, 'snapshot needs credentials');
});

t.test('PullPoint: held until an event arrives, bounded wait, renew and unsubscribe', async (t) => {
  const { cam, device } = await started(t, { maxPullWaitMs: 300 });
  const call = (body: string, url = device) => post(url, soap(security(CREDS.username, CREDS.password), body));
  const created = await call('<CreatePullPointSubscription xmlns="http://www.onvif.org/ver10/events/wsdl"><InitialTerminationTime>PT10S</InitialTerminationTime></CreatePullPointSubscription>');
  const address = /<wsa5:Address>([^<]+)<\/wsa5:Address>/.exec(created.text)?.[1];
  t.ok(address, 'subscription address');
  const pullBody = '<PullMessages xmlns="http://www.onvif.org/ver10/events/wsdl"><Timeout>PT1M</Timeout><MessageLimit>10</MessageLimit></PullMessages>';

  const t0 = Date.now();
  const empty = await call(pullBody, address);
  t.ok(Date.now() - t0 >= 250, 'an idle pull is held for the bounded wait');
  t.notMatch(empty.text, /NotificationMessage/);

  const held = call(pullBody, address);
  setTimeout(() => cam.setMotion(true), 50);
  const got = await held;
  t.match(got.text, /tns1:VideoSource\/MotionAlarm/);
  t.match(got.text, /Name="State" Value="true"/);

  const renewed = await call('<Renew xmlns="http://docs.oasis-open.org/wsn/b-2"><TerminationTime>PT60S</TerminationTime></Renew>', address);
  const term = Date.parse(/<wsnt:TerminationTime>([^<]+)</.exec(renewed.text)?.[1] ?? '');
  t.ok(term - Date.now() > 50_000, 'renew extends the subscription');
  t.equal((await call('<Unsubscribe xmlns="http://docs.oasis-open.org/wsn/b-2"/>', address)).status, 200);
  t.equal(cam.subscriptionCount, 0);
});

t.test('"never" mode swallows motion stop but still sends starts', async (t) => {
  const { cam, device } = await started(t, { motionStop: 'never', maxPullWaitMs: 200 });
  const call = (body: string, url = device) => post(url, soap(security(CREDS.username, CREDS.password), body));
  const created = await call('<CreatePullPointSubscription xmlns="http://www.onvif.org/ver10/events/wsdl"/>');
  const address = /<wsa5:Address>([^<]+)<\/wsa5:Address>/.exec(created.text)?.[1];
  cam.setMotion(true);
  cam.setMotion(false);
  cam.setTamper(true);
  const got = await call('<PullMessages xmlns="http://www.onvif.org/ver10/events/wsdl"><Timeout>PT1S</Timeout><MessageLimit>10</MessageLimit></PullMessages>', address);
  t.equal(got.text.match(/MotionAlarm/g)?.length, 1, 'only the start');
  t.notMatch(got.text, /Name="State" Value="false"/);
  t.match(got.text, /GlobalSceneChange/);
});

t.test('discovery responder answers a unicast probe on 127.0.0.1 and ignores other types', async (t) => {
  const responder = new DiscoveryResponder({ address: '127.0.0.1', port: 0, xaddrs: () => ['http://127.0.0.1:1/onvif/device_service'] });
  await responder.start();
  t.teardown(() => responder.stop());
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  t.teardown(() => sock.close());
  const replies: string[] = [];
  sock.on('message', (m) => replies.push(m.toString()));
  const probeMsg = (types: string) =>
    `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"><s:Header><a:MessageID>urn:uuid:1234</a:MessageID></s:Header><s:Body><Probe xmlns="http://schemas.xmlsoap.org/ws/2005/04/discovery"><Types>${types}</Types></Probe></s:Body></s:Envelope>`;
  sock.send(probeMsg('dn:Printer'), responder.port, '127.0.0.1');
  sock.send(probeMsg('dn:NetworkVideoTransmitter'), responder.port, '127.0.0.1');
  await waitFor(() => replies.length > 0, { what: 'an answer to the video probe', timeoutMs: 2000 });
  // A short fixed wait: what follows proves the printer probe got no answer.
  await new Promise((r) => setTimeout(r, 100));
  t.equal(replies.length, 1, 'one answer, to the video probe only');
  t.match(replies[0], /<a:RelatesTo>urn:uuid:1234<\/a:RelatesTo>/);
  t.match(replies[0], /<d:XAddrs>http:\/\/127\.0\.0\.1:1\/onvif\/device_service<\/d:XAddrs>/);
  t.equal(responder.probeCount, 1);
});

t.test('UsernameToken and duration helpers', async (t) => {
  let now = Date.parse('2026-01-01T00:00:00Z');
  const v = new UsernameTokenVerifier(CREDS, () => now);
  const created = new Date(now).toISOString();
  t.same(v.verify(security('admin', CREDS.password, created)), { ok: true, user: 'admin' });
  now += 6 * 60_000;
  t.match(v.verify(security('admin', CREDS.password, created)), { ok: false, reason: /skew/ });
  t.match(v.verify('<Envelope/>'), { ok: false, reason: 'no UsernameToken' });
  t.equal(durationMs('PT1M', 0), 60_000);
  t.equal(durationMs('PT10.5S', 0), 10_500);
  t.equal(durationMs('P1DT1H', 0), 25 * 3_600_000);
  t.equal(durationMs('garbage', 7), 7);
});

t.test('quirks at the wire: no events service, refused WS-Security, padded URIs, Renew refusals, Initialized state', async (t) => {
  const noEvents = await started(t, { quirks: { events: 'none' } });
  const caps = await post(noEvents.device, soap(security('admin', CREDS.password), '<GetCapabilities xmlns="http://www.onvif.org/ver10/device/wsdl"/>'));
  t.notMatch(caps.text, /<tt:Events>/, 'no events service announced');
  const sub = await post(noEvents.device, soap(security('admin', CREDS.password), '<CreatePullPointSubscription xmlns="http://www.onvif.org/ver10/events/wsdl"/>'));
  t.match(sub.text, /ter:ActionNotSupported/);

  const open = await started(t, { quirks: { wsSecurity: 'refused', uriWhitespace: true } });
  const refused = await post(open.device, soap(security('admin', CREDS.password), '<GetDeviceInformation xmlns="http://www.onvif.org/ver10/device/wsdl"/>'));
  t.equal(refused.status, 500);
  t.match(refused.text, /s:MustUnderstand/, 'a Security header is a fault that never mentions credentials, as the field firmware did');
  t.equal((await post(open.device, soap('', '<GetDeviceInformation xmlns="http://www.onvif.org/ver10/device/wsdl"/>'))).status, 200, 'no header: served');
  const uri = await post(open.device, soap('', '<GetStreamUri xmlns="http://www.onvif.org/ver10/media/wsdl"/>'));
  t.match(uri.text, /<tt:Uri>\n\s+rtsp:\/\/127\.0\.0\.1:8554\/main\n\s+<\/tt:Uri>/, 'URI wrapped in newlines and indentation');

  const renewing = await started(t, { quirks: { renew: 'needs-addressing' } });
  renewing.cam.setMotion(true);
  const created = await post(renewing.device, soap(security('admin', CREDS.password), '<CreatePullPointSubscription xmlns="http://www.onvif.org/ver10/events/wsdl"/>'));
  const address = /<wsa5:Address>([^<]+)<\/wsa5:Address>/.exec(created.text)![1]!;
  const pulled = await post(address, soap(security('admin', CREDS.password), '<PullMessages xmlns="http://www.onvif.org/ver10/events/wsdl"><Timeout>PT1S</Timeout><MessageLimit>5</MessageLimit></PullMessages>'));
  t.match(pulled.text, /PropertyOperation="Initialized"[\s\S]*MotionAlarm|MotionAlarm[\s\S]*Initialized/, 'a new subscription starts with the current motion state');
  const renew = '<Renew xmlns="http://docs.oasis-open.org/wsn/b-2"><TerminationTime>PT1M</TerminationTime></Renew>';
  t.match((await post(address, soap(security('admin', CREDS.password), renew))).text, /s:Fault/, 'Renew without WS-Addressing refused');
  const addressing = `<a:Action xmlns:a="http://www.w3.org/2005/08/addressing">http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/RenewRequest</a:Action><a:To xmlns:a="http://www.w3.org/2005/08/addressing">${address}</a:To>`;
  t.match((await post(address, soap(security('admin', CREDS.password) + addressing, renew))).text, /RenewResponse/, 'with Action and To: renewed');
  t.same(renewing.cam.eventStats, { subscriptions: 1, renewals: 1, renewalsRefused: 1, unsubscribes: 0 });
});

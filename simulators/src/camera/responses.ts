/**
 * Body XML of the simulated camera's answers, one function per ONVIF operation. Element names and nesting
 * follow the ONVIF WSDLs (devicemgmt, media, ptz, events) so any ONVIF client can read them.
 */
import { escapeXml as x } from './soap.js';
import type { CameraNotification } from './pull-point.js';

export interface DeviceIdentity {
  manufacturer: string;
  model: string;
  firmwareVersion: string;
  serialNumber: string;
  hardwareId: string;
}

export interface SimProfile {
  token: string;
  name: string;
  width: number;
  height: number;
  fps: number;
  /** Path on the RTSP source, e.g. /main. */
  streamPath: string;
  /** Codec announced for the profile; default H264 (the RTSP source plays what its file holds). */
  encoding?: 'H264' | 'H265';
}

export interface SimPreset {
  token: string;
  name: string;
}

export const VIDEO_SOURCE_TOKEN = 'video_src_1';

export function systemDateAndTime(now: Date): string {
  return (
    '<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType>' +
    '<tt:DaylightSavings>false</tt:DaylightSavings><tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone><tt:UTCDateTime>' +
    `<tt:Time><tt:Hour>${now.getUTCHours()}</tt:Hour><tt:Minute>${now.getUTCMinutes()}</tt:Minute><tt:Second>${now.getUTCSeconds()}</tt:Second></tt:Time>` +
    `<tt:Date><tt:Year>${now.getUTCFullYear()}</tt:Year><tt:Month>${now.getUTCMonth() + 1}</tt:Month><tt:Day>${now.getUTCDate()}</tt:Day></tt:Date>` +
    '</tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>'
  );
}

export function deviceInformation(d: DeviceIdentity): string {
  return (
    `<tds:GetDeviceInformationResponse><tds:Manufacturer>${x(d.manufacturer)}</tds:Manufacturer><tds:Model>${x(d.model)}</tds:Model>` +
    `<tds:FirmwareVersion>${x(d.firmwareVersion)}</tds:FirmwareVersion><tds:SerialNumber>${x(d.serialNumber)}</tds:SerialNumber>` +
    `<tds:HardwareId>${x(d.hardwareId)}</tds:HardwareId></tds:GetDeviceInformationResponse>`
  );
}

/** Service addresses by name; one HTTP server answers them all on different paths. */
export interface ServiceAddrs {
  device: string;
  media: string;
  ptz: string;
  /** Absent: the camera has no events service. */
  events?: string;
}

export function capabilities(a: ServiceAddrs): string {
  return (
    '<tds:GetCapabilitiesResponse><tds:Capabilities>' +
    `<tt:Device><tt:XAddr>${a.device}</tt:XAddr></tt:Device>` +
    (a.events ? `<tt:Events><tt:XAddr>${a.events}</tt:XAddr><tt:WSSubscriptionPolicySupport>false</tt:WSSubscriptionPolicySupport>` +
    '<tt:WSPullPointSupport>true</tt:WSPullPointSupport><tt:WSPausableSubscriptionManagerInterfaceSupport>false</tt:WSPausableSubscriptionManagerInterfaceSupport></tt:Events>' : '') +
    `<tt:Media><tt:XAddr>${a.media}</tt:XAddr><tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast>` +
    '<tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>' +
    `<tt:PTZ><tt:XAddr>${a.ptz}</tt:XAddr></tt:PTZ>` +
    '</tds:Capabilities></tds:GetCapabilitiesResponse>'
  );
}

export function services(a: ServiceAddrs): string {
  const svc = (ns: string, addr: string, major: number, minor: number) =>
    `<tds:Service><tds:Namespace>${ns}</tds:Namespace><tds:XAddr>${addr}</tds:XAddr>` +
    `<tds:Version><tt:Major>${major}</tt:Major><tt:Minor>${minor}</tt:Minor></tds:Version></tds:Service>`;
  return (
    '<tds:GetServicesResponse>' +
    svc('http://www.onvif.org/ver10/device/wsdl', a.device, 2, 60) +
    svc('http://www.onvif.org/ver10/media/wsdl', a.media, 2, 60) +
    svc('http://www.onvif.org/ver20/ptz/wsdl', a.ptz, 2, 60) +
    (a.events ? svc('http://www.onvif.org/ver10/events/wsdl', a.events, 2, 60) : '') +
    '</tds:GetServicesResponse>'
  );
}

function profileXml(p: SimProfile, withPtz: boolean): string {
  return (
    `<trt:Profiles token="${x(p.token)}" fixed="true"><tt:Name>${x(p.name)}</tt:Name>` +
    `<tt:VideoSourceConfiguration token="vsc_${x(p.token)}"><tt:Name>source</tt:Name><tt:UseCount>1</tt:UseCount>` +
    `<tt:SourceToken>${VIDEO_SOURCE_TOKEN}</tt:SourceToken><tt:Bounds x="0" y="0" width="${p.width}" height="${p.height}"/></tt:VideoSourceConfiguration>` +
    `<tt:VideoEncoderConfiguration token="vec_${x(p.token)}"><tt:Name>${x(p.name)}</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>${p.encoding ?? 'H264'}</tt:Encoding>` +
    `<tt:Resolution><tt:Width>${p.width}</tt:Width><tt:Height>${p.height}</tt:Height></tt:Resolution><tt:Quality>5</tt:Quality>` +
    `<tt:RateControl><tt:FrameRateLimit>${p.fps}</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>1024</tt:BitrateLimit></tt:RateControl>` +
    ((p.encoding ?? 'H264') === 'H264' ? `<tt:H264><tt:GovLength>${p.fps * 2}</tt:GovLength><tt:H264Profile>High</tt:H264Profile></tt:H264>` : '') +
    '<tt:SessionTimeout>PT60S</tt:SessionTimeout></tt:VideoEncoderConfiguration>' +
    (withPtz ? '<tt:PTZConfiguration token="ptz_cfg_1"><tt:Name>ptz</tt:Name><tt:UseCount>1</tt:UseCount><tt:NodeToken>ptz_node_1</tt:NodeToken></tt:PTZConfiguration>' : '') +
    '</trt:Profiles>'
  );
}

export function profiles(list: readonly SimProfile[], withPtz: boolean): string {
  return `<trt:GetProfilesResponse>${list.map((p) => profileXml(p, withPtz)).join('')}</trt:GetProfilesResponse>`;
}

export function videoSources(p: SimProfile): string {
  return (
    `<trt:GetVideoSourcesResponse><trt:VideoSources token="${VIDEO_SOURCE_TOKEN}"><tt:Framerate>${p.fps}</tt:Framerate>` +
    `<tt:Resolution><tt:Width>${p.width}</tt:Width><tt:Height>${p.height}</tt:Height></tt:Resolution></trt:VideoSources></trt:GetVideoSourcesResponse>`
  );
}

function mediaUri(uri: string, padded = false): string {
  // Some firmwares pretty-print the answer, so the URI arrives wrapped in newlines and indentation.
  const text = padded ? `\n        ${x(uri)}\n      ` : x(uri);
  return (
    `<trt:MediaUri><tt:Uri>${text}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>` +
    '<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri>'
  );
}

export function streamUri(uri: string, padded = false): string {
  return `<trt:GetStreamUriResponse>${mediaUri(uri, padded)}</trt:GetStreamUriResponse>`;
}

export function snapshotUri(uri: string, padded = false): string {
  return `<trt:GetSnapshotUriResponse>${mediaUri(uri, padded)}</trt:GetSnapshotUriResponse>`;
}

export interface PtzPosition {
  x: number;
  y: number;
  zoom: number;
}

/** Where the camera's i-th preset points (generic position space, −1..1). */
export function presetPosition(i: number): PtzPosition {
  return { x: Number((i * 0.25 - 0.5).toFixed(2)), y: 0, zoom: 0 };
}

function positionXml(p: PtzPosition): string {
  return `<tt:PanTilt x="${p.x}" y="${p.y}" space="http://www.onvif.org/ver10/tptz/PanTiltSpaces/PositionGenericSpace"/>` +
    `<tt:Zoom x="${p.zoom}" space="http://www.onvif.org/ver10/tptz/ZoomSpaces/PositionGenericSpace"/>`;
}

export function presets(list: readonly SimPreset[]): string {
  const one = (p: SimPreset, i: number) =>
    `<tptz:Preset token="${x(p.token)}"><tt:Name>${x(p.name)}</tt:Name><tt:PTZPosition>${positionXml(presetPosition(i))}</tt:PTZPosition></tptz:Preset>`;
  return `<tptz:GetPresetsResponse>${list.map(one).join('')}</tptz:GetPresetsResponse>`;
}

/** PTZ GetStatus (ONVIF PTZ §5.3.1): position and whether pan/tilt and zoom are moving. */
export function ptzStatus(p: PtzPosition, moving: boolean, now: Date): string {
  const state = moving ? 'MOVING' : 'IDLE';
  return `<tptz:GetStatusResponse><tptz:PTZStatus><tt:Position>${positionXml(p)}</tt:Position>` +
    `<tt:MoveStatus><tt:PanTilt>${state}</tt:PanTilt><tt:Zoom>${state}</tt:Zoom></tt:MoveStatus><tt:UtcTime>${now.toISOString()}</tt:UtcTime>` +
    '</tptz:PTZStatus></tptz:GetStatusResponse>';
}

export function createPullPoint(address: string, now: Date, termination: Date): string {
  return (
    `<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference><wsa5:Address>${x(address)}</wsa5:Address></tev:SubscriptionReference>` +
    `<wsnt:CurrentTime>${now.toISOString()}</wsnt:CurrentTime><wsnt:TerminationTime>${termination.toISOString()}</wsnt:TerminationTime>` +
    '</tev:CreatePullPointSubscriptionResponse>'
  );
}

function simpleItems(items: Record<string, string>): string {
  return Object.entries(items).map(([k, v]) => `<tt:SimpleItem Name="${x(k)}" Value="${x(v)}"/>`).join('');
}

export function pullMessages(now: Date, termination: Date, msgs: readonly CameraNotification[]): string {
  const body = msgs
    .map(
      (m) =>
        '<wsnt:NotificationMessage><wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">' +
        `${x(m.topic)}</wsnt:Topic><wsnt:Message><tt:Message UtcTime="${m.utcTime}" PropertyOperation="${m.operation}">` +
        `<tt:Source>${simpleItems(m.source)}</tt:Source><tt:Data>${simpleItems(m.data)}</tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>`,
    )
    .join('');
  return (
    `<tev:PullMessagesResponse><tev:CurrentTime>${now.toISOString()}</tev:CurrentTime>` +
    `<tev:TerminationTime>${termination.toISOString()}</tev:TerminationTime>${body}</tev:PullMessagesResponse>`
  );
}

export function renew(now: Date, termination: Date): string {
  return (
    `<wsnt:RenewResponse><wsnt:TerminationTime>${termination.toISOString()}</wsnt:TerminationTime>` +
    `<wsnt:CurrentTime>${now.toISOString()}</wsnt:CurrentTime></wsnt:RenewResponse>`
  );
}

/**
 * Turns ONVIF notification messages (as the onvif package flattens them) into camera signals: motion,
 * tamper and the camera's own analytics rules, each with an on/off state. Vendors name the same thing
 * differently, so each signal lists the topics and data items seen in the field.
 */

export type SignalKind = 'motion' | 'tamper' | 'analytics';

export interface CameraSignal {
  kind: SignalKind;
  active: boolean;
  /** The ONVIF topic, e.g. tns1:VideoSource/MotionAlarm. */
  topic: string;
  /** Camera's time of the notification, when it gave one. */
  deviceTime?: Date;
  /** Source items (video source token, rule name…). */
  source: Record<string, string>;
}

interface TopicRule {
  kind: SignalKind;
  topic: RegExp;
  /** Data items that carry the state, first found wins. */
  items: string[];
}

const RULES: readonly TopicRule[] = [
  // ONVIF Profile S VideoSource alarm, and the Analytics-service cell motion detector (ONVIF Analytics §5.2).
  { kind: 'motion', topic: /VideoSource\/MotionAlarm$/, items: ['State'] },
  { kind: 'motion', topic: /RuleEngine\/(CellMotionDetector|MotionDetector|MotionRegionDetector)\/Motion$/, items: ['IsMotion', 'State'] },
  { kind: 'tamper', topic: /VideoSource\/GlobalSceneChange\//, items: ['State'] },
  { kind: 'tamper', topic: /RuleEngine\/TamperDetector\/Tamper$/, items: ['IsTamper', 'State'] },
  { kind: 'analytics', topic: /RuleEngine\//, items: ['IsInside', 'State', 'IsMotion', 'Count'] },
];

type Raw = Record<string, unknown>;

/** Maps one flattened NotificationMessage; undefined when the topic is not one the agent acts on. */
export function mapNotification(msg: unknown): CameraSignal | undefined {
  const m = asObj(msg);
  const topic = topicText(m?.topic);
  if (!topic) return undefined;
  const rule = RULES.find((r) => r.topic.test(topic));
  if (!rule) return undefined;
  // NotificationMessage/Message/tt:Message: the inner element carries UtcTime, Source and Data.
  const inner = asObj(asObj(m?.message)?.message) ?? asObj(m?.message);
  const attrs = asObj(inner?.$);
  const source = items(asObj(inner?.source)?.simpleItem);
  const data = items(asObj(inner?.data)?.simpleItem);
  const key = rule.items.find((k) => k in data);
  if (key === undefined) return undefined;
  const value = data[key] ?? '';
  const active = key === 'Count' ? Number(value) > 0 : value === 'true' || value === '1';
  const time = attrs?.UtcTime;
  const deviceTime = time instanceof Date ? time : typeof time === 'string' && !Number.isNaN(Date.parse(time)) ? new Date(time) : undefined;
  return { kind: rule.kind, active, topic, source, ...(deviceTime ? { deviceTime } : {}) };
}

function topicText(t: unknown): string | undefined {
  if (typeof t === 'string') return t.trim();
  const o = asObj(t);
  return typeof o?._ === 'string' ? o._.trim() : undefined;
}

/** SimpleItem list (one item is flattened to an object, several to an array) → Name → Value as text. */
function items(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const list = Array.isArray(v) ? v : v === undefined ? [] : [v];
  for (const it of list) {
    const a = asObj(asObj(it)?.$);
    if (a && typeof a.Name === 'string' && a.Value !== undefined) {
      out[a.Name] = a.Value instanceof Date ? a.Value.toISOString() : String(a.Value);
    }
  }
  return out;
}

function asObj(v: unknown): Raw | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Raw) : undefined;
}

/**
 * Cloud rules as data: a versioned rule set (YAML or JSON) checked against one TypeBox schema, unknown
 * keys refused, each problem reported with its path. Four rule types (issue 6 item 3): double-knock fire
 * confirmation, linkage-failure escalation, door forced + person, and device offline beyond a threshold.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { CodedError } from '@safe-community/runtime';
import { parse as parseYaml } from 'yaml';
import { Severity } from '@safe-community/contracts';

const RuleId = Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,63}$', description: 'stable id; appears in alarm.rule and the audit trail' });
const Kind = Type.String({ pattern: '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$', maxLength: 64, description: 'an event kind, e.g. fire.alarm' });
const Seconds = Type.Integer({ minimum: 1, maximum: 7 * 86400 });
const SiteList = Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { description: 'only these sites (default all)' }));

export const AlarmSpec = Type.Object(
  {
    type: Type.String({ pattern: '^[a-z][a-z0-9_.]*$', maxLength: 64 }),
    severity: Severity,
    message: Type.String({ minLength: 1, maxLength: 512 }),
  },
  { additionalProperties: false },
);

const common = { id: RuleId, enabled: Type.Optional(Type.Boolean({ default: true })), sites: SiteList, alarm: AlarmSpec };

/** Two different detectors (or zones) of one building within windowSec → a confirmed alarm for the building. */
export const DoubleKnockRule = Type.Object(
  {
    ...common,
    type: Type.Literal('double_knock'),
    kinds: Type.Array(Kind, { minItems: 1 }),
    windowSec: Seconds,
    distinct: Type.Union([Type.Literal('device'), Type.Literal('zone')], { description: 'what must differ between knocks' }),
    knocks: Type.Optional(Type.Integer({ minimum: 2, maximum: 10, description: 'distinct detectors needed (default 2)' })),
  },
  { additionalProperties: false },
);

/** A linkage execution that did not confirm every action, or an edge alarm of these types → a critical alarm. */
export const LinkageFailureRule = Type.Object(
  {
    ...common,
    type: Type.Literal('linkage_failure'),
    alarmTypes: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { description: 'edge alarm types that mean a failed linkage (default linkage.failed)' })),
  },
  { additionalProperties: false },
);

/** A door forced and a person seen in the same building within windowSec, in either order. */
export const DoorForcedPersonRule = Type.Object(
  {
    ...common,
    type: Type.Literal('door_forced_person'),
    doorKinds: Type.Array(Kind, { minItems: 1 }),
    personKinds: Type.Array(Kind, { minItems: 1 }),
    windowSec: Seconds,
  },
  { additionalProperties: false },
);

/** A device reported offline and not back online within thresholdSec. */
export const DeviceOfflineRule = Type.Object(
  {
    ...common,
    type: Type.Literal('device_offline'),
    thresholdSec: Seconds,
    devicePattern: Type.Optional(Type.String({ maxLength: 128, description: 'a regular expression on the device id (default every device)' })),
  },
  { additionalProperties: false },
);

export const Rule = Type.Union([DoubleKnockRule, LinkageFailureRule, DoorForcedPersonRule, DeviceOfflineRule]);
export type Rule = Static<typeof Rule>;
export type DoubleKnock = Static<typeof DoubleKnockRule>;
export type LinkageFailure = Static<typeof LinkageFailureRule>;
export type DoorForcedPerson = Static<typeof DoorForcedPersonRule>;
export type DeviceOffline = Static<typeof DeviceOfflineRule>;

export const RuleSet = Type.Object(
  {
    version: Type.Integer({ minimum: 1, description: 'must grow with every change; the highest stored version is active' }),
    rules: Type.Array(Rule),
  },
  { additionalProperties: false, $id: 'RuleSet' },
);
export type RuleSet = Static<typeof RuleSet>;

const RULE_BY_TYPE = { double_knock: DoubleKnockRule, linkage_failure: LinkageFailureRule, door_forced_person: DoorForcedPersonRule, device_offline: DeviceOfflineRule };

/** Validates a parsed rule set; throws ERR_RULES_INVALID listing `path: reason` for each problem. */
export function validateRuleSet(input: unknown): RuleSet {
  const problems: string[] = [];
  if (!input || typeof input !== 'object' || !Array.isArray((input as { rules?: unknown }).rules)) {
    for (const e of Value.Errors(RuleSet, input)) problems.push(`${e.path || '/'}: ${e.message}`);
  } else {
    const top = input as { version?: unknown; rules: unknown[] };
    const { rules: _rules, ...head } = top;
    for (const e of Value.Errors(Type.Omit(RuleSet, ['rules']), head)) problems.push(`${e.path || '/'}: ${e.message}`);
    // Each rule is checked against its own type's schema, so the errors name the real problem, not the union.
    top.rules.forEach((r, i) => {
      const t = (r as { type?: unknown } | null)?.type;
      const schema = typeof t === 'string' ? RULE_BY_TYPE[t as keyof typeof RULE_BY_TYPE] : undefined;
      if (!schema) {
        problems.push(`/rules/${i}/type: must be one of ${Object.keys(RULE_BY_TYPE).join(', ')}`);
        return;
      }
      for (const e of Value.Errors(schema, r)) problems.push(`/rules/${i}${e.path}: ${e.message}`);
    });
  }
  if (problems.length === 0) {
    const set = input as RuleSet;
    const seen = new Set<string>();
    set.rules.forEach((r, i) => {
      if (seen.has(r.id)) problems.push(`/rules/${i}/id: duplicate rule id ${r.id}`);
      seen.add(r.id);
      if (r.type === 'device_offline' && r.devicePattern !== undefined) {
        try {
          new RegExp(r.devicePattern);
        } catch (err) {
          problems.push(`/rules/${i}/devicePattern: not a regular expression (${(err as Error).message})`);
        }
      }
    });
  }
  if (problems.length) throw new CodedError('ERR_RULES_INVALID', `rule set refused: ${problems.slice(0, 20).join('; ')}`);
  return structuredClone(input as RuleSet);
}

/** Parses YAML or JSON text (JSON is YAML too) and validates it. */
export function parseRuleSet(text: string): RuleSet {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new CodedError('ERR_RULES_INVALID', `rule set is not YAML/JSON: ${(err as Error).message}`, { cause: err });
  }
  return validateRuleSet(doc);
}

/**
 * The rule language of the local linkage engine, as TypeBox schemas: one schema is both the validator of
 * the editable rule files and the static type the engine works with. Unknown keys are rejected so a typo
 * in a rule file is an error, not a silently ignored line.
 */
import { Type, type Static } from '@sinclair/typebox';
import { DeviceKind, Id, Severity } from '@safe-community/contracts';

/**
 * Rules at or above this priority are life safety: they never wait in the queue, never wait for a
 * concurrency slot, and supersede lower-priority actions still retrying on the same device.
 */
export const LIFE_SAFETY_PRIORITY = 90;

const Text = (max: number, description?: string) =>
  Type.String({ minLength: 1, maxLength: max, ...(description ? { description } : {}) });

/**
 * A tag value in a filter or selector: a literal, a list of literals (any of), or `$trigger.<name>`,
 * which takes the trigger's value (its tags merged over its device's tags, plus site/device/kind).
 */
const TagValue = Type.Union([Text(128), Type.Array(Text(128), { minItems: 1, maxItems: 64 })]);
const TagMap = Type.Record(Type.String({ minLength: 1, maxLength: 64 }), TagValue);

export const Trigger = Type.Object(
  {
    kind: Type.Union([Text(64), Type.Array(Text(64), { minItems: 1, maxItems: 32 })], {
      description: 'event kind(s), exact or a prefix ending in .* (e.g. fire.*)',
    }),
    where: Type.Optional(TagMap),
    minSeverity: Type.Optional(Severity),
  },
  { additionalProperties: false },
);

const Clock24 = Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: 'HH:MM, 24 h' });
const Weekday = Type.Union(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => Type.Literal(d)));

/** Local time window; `from` later than `to` wraps midnight (22:00–06:00). */
export const TimeWindow = Type.Object(
  { from: Clock24, to: Clock24, days: Type.Optional(Type.Array(Weekday, { minItems: 1, maxItems: 7 })) },
  { additionalProperties: false },
);

/** A check on a device's last known state (from the directory). */
export const StateCondition = Type.Object(
  {
    device: Type.Union([Id, Type.Literal('$trigger.device')]),
    field: Text(64, 'state field, e.g. door'),
    equals: Type.Optional(Type.Unknown()),
    notEquals: Type.Optional(Type.Unknown()),
    in: Type.Optional(Type.Array(Type.Unknown(), { minItems: 1, maxItems: 64 })),
    online: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const Conditions = Type.Object(
  {
    timeWindows: Type.Optional(Type.Array(TimeWindow, { minItems: 1, maxItems: 16, description: 'any of' })),
    state: Type.Optional(Type.Array(StateCondition, { minItems: 1, maxItems: 16, description: 'all of' })),
  },
  { additionalProperties: false },
);

/** Which devices an action addresses. Every given field must match (AND). */
export const Selector = Type.Object(
  {
    kind: Type.Optional(DeviceKind),
    ids: Type.Optional(Type.Array(Type.Union([Id, Type.Literal('$trigger.device')]), { minItems: 1, maxItems: 1000, description: 'device ids; $trigger.device = the device that raised the trigger' })),
    group: Type.Optional(Text(128, 'shorthand for tags.group')),
    tags: Type.Optional(TagMap),
    min: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000, description: 'fewer matches are reported as missing' })),
    ifUnresolved: Type.Optional(
      Type.Union([Type.Literal('widen'), Type.Literal('none')], {
        description: 'a $trigger value the trigger lacks: widen = drop that filter (fail open), none = select nothing',
      }),
    ),
  },
  { additionalProperties: false },
);
export type Selector = Static<typeof Selector>;

/** Makes a command a hold that lasts while the rule's latch is active (e.g. until the fire panel reset). */
const Hold = Type.Object(
  {
    release: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9_]*$', maxLength: 32, description: 'sent on release; default release' })),
    refuse: Type.Optional(
      Type.Array(Type.String({ pattern: '^[a-z][a-z0-9_]*$', maxLength: 32 }), {
        maxItems: 32,
        description: 'actions refused on a held device; default lock, close, lower, release',
      }),
    ),
  },
  { additionalProperties: false },
);

const Retry = Type.Object(
  {
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 600_000, description: 'wait for read-back per attempt' })),
    attempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })),
    backoffMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 60_000, description: 'first delay between attempts' })),
    maxBackoffMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 600_000 })),
  },
  { additionalProperties: false },
);

export const CommandAction = Type.Object(
  {
    command: Type.Object(
      {
        action: Type.String({ pattern: '^[a-z][a-z0-9_]*$', maxLength: 32, description: 'e.g. hold_open, hold_raised' }),
        params: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
        select: Selector,
        hold: Type.Optional(Hold),
        retry: Type.Optional(Retry),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const CameraAction = Type.Object(
  {
    camera: Type.Object(
      {
        select: Selector,
        preset: Type.Optional(Text(64, 'preset name to go to before the snapshot')),
        presetTag: Type.Optional(Text(64, 'or: the camera tag that names its preset (e.g. fire_preset); no preset, no goto')),
        snapshot: Type.Optional(Type.Boolean()),
        clip: Type.Optional(Type.Boolean({ description: 'a video clip of each selected camera around the trigger (issue #16): a linkage.clip event the evidence recorder acts on' })),
        retry: Type.Optional(Retry),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const AlarmAction = Type.Object(
  {
    alarm: Type.Object(
      {
        type: Type.String({ pattern: '^[a-z][a-z0-9_.]*$', maxLength: 64 }),
        severity: Severity,
        message: Text(400, 'may use {tag} placeholders from the trigger, e.g. {building} {zone}'),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const NoticeAction = Type.Object(
  { notice: Type.Object({ text: Text(400), severity: Type.Optional(Severity) }, { additionalProperties: false }) },
  { additionalProperties: false },
);

/** Ends the holds of another rule's latch for the trigger's scope (e.g. fire.reset ends fire-evacuation). */
export const ReleaseAction = Type.Object(
  { release: Type.Object({ latch: Id, retry: Type.Optional(Retry) }, { additionalProperties: false }) },
  { additionalProperties: false },
);

export const Action = Type.Union([CommandAction, CameraAction, AlarmAction, NoticeAction, ReleaseAction]);
export type Action = Static<typeof Action>;

export const Rule = Type.Object(
  {
    id: Id,
    description: Type.Optional(Type.String({ maxLength: 400 })),
    enabled: Type.Optional(Type.Boolean()),
    priority: Type.Integer({ minimum: 0, maximum: 100, description: `>= ${LIFE_SAFETY_PRIORITY} is life safety` }),
    trigger: Trigger,
    conditions: Type.Optional(Conditions),
    /** Trigger fields that make two triggers "the same" for debounce, cooldown and latches. */
    scope: Type.Optional(Type.Array(Text(64), { maxItems: 8, description: 'default [device]' })),
    debounceMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400_000 })),
    cooldownMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400_000 })),
    latch: Type.Optional(Type.Boolean({ description: 'holds of this rule stay until a release action ends them' })),
    unlessHandledBy: Type.Optional(Type.Literal('care', { description: 'skip triggers from devices that part of the agent handles itself (care: wearables of enrolled residents)' })),
    actions: Type.Array(Action, { minItems: 1, maxItems: 64 }),
  },
  { additionalProperties: false },
);
export type Rule = Static<typeof Rule>;

export const RuleFile = Type.Object(
  { version: Type.Literal(1), rules: Type.Array(Type.Unknown(), { maxItems: 1000 }) },
  { additionalProperties: false },
);

export type Retry = Static<typeof Retry>;
export type TagMap = Static<typeof TagMap>;
export type Conditions = Static<typeof Conditions>;
export type TimeWindow = Static<typeof TimeWindow>;

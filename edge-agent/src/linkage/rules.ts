/**
 * Loading rule files: YAML or JSON text → validated, frozen rules. Every error names the file, the rule
 * (by id, or by index when the id itself is bad) and the JSON path inside that rule, so an installer who
 * edits the rule pack sees exactly which line to fix.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { validator } from '@safe-community/contracts';
import { CodedError } from '@safe-community/runtime';
import { AlarmAction, CameraAction, CommandAction, NoticeAction, ReleaseAction, Rule, RuleFile, type Selector } from './schema.js';

export const ERR_RULE = 'ERR_LINKAGE_RULE';
export const ERR_RULE_SYNTAX = 'ERR_LINKAGE_RULE_SYNTAX';

/** The built-in rule pack shipped with the agent (editable; on by default). */
export const BUILTIN_RULES_FILE = fileURLToPath(new URL('../../rules/builtin.yaml', import.meta.url));

const ruleFileCheck = validator('RuleFile', RuleFile);
const ruleCheck = validator('LinkageRule', Rule);
const actionChecks = {
  command: validator('command', CommandAction),
  camera: validator('camera', CameraAction),
  alarm: validator('alarm', AlarmAction),
  notice: validator('notice', NoticeAction),
  release: validator('release', ReleaseAction),
};
const UNION_HINTS: Array<[RegExp, string]> = [
  [/\/kind$/, 'one of access_gate, car_barrier, fire_panel, wearable, env_sensor, camera, display'],
  [/\/severity$|\/minSeverity$/, 'one of info, minor, major, critical'],
];

/** A rule file or rule failed validation; `rule` and `path` say where. */
export class RuleError extends CodedError {
  constructor(
    readonly source: string,
    readonly rule: string | undefined,
    readonly path: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(ERR_RULE, `${source}: ${rule ? `rule "${rule}" ` : ''}${path || '/'}: ${reason}`, options);
    this.name = 'RuleError';
  }
}

const TRIGGER_REF = /^\$trigger\.([A-Za-z0-9_.-]+)$/;

/** Parses and validates rule text. `source` names the file in errors. */
export function parseRules(text: string, source = 'rules'): Rule[] {
  let doc: unknown;
  try {
    doc = source.endsWith('.json') ? JSON.parse(text) : parseYaml(text, { prettyErrors: true });
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}` : '';
    throw new CodedError(ERR_RULE_SYNTAX, `${source}: not valid ${source.endsWith('.json') ? 'JSON' : 'YAML'}${where}: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  const fileIssue = ruleFileCheck.issues(doc)[0];
  if (fileIssue) throw new RuleError(source, undefined, fileIssue.path, fileIssue.reason);
  const raw = (doc as { rules: unknown[] }).rules;
  const rules: Rule[] = [];
  raw.forEach((candidate, index) => {
    const id = typeof (candidate as { id?: unknown })?.id === 'string' ? (candidate as { id: string }).id : `#${index}`;
    const issue = ruleCheck.issues(candidate)[0];
    if (issue) {
      const precise = refine(candidate, issue);
      throw new RuleError(source, id, precise.path, precise.reason);
    }
    rules.push(candidate as Rule);
  });
  checkRules(rules, source);
  return deepFreeze(rules);
}

/** Reads one rule file (YAML, or JSON when the name ends in .json). */
export async function loadRuleFile(path: string): Promise<Rule[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new CodedError('ERR_LINKAGE_RULE_FILE', `cannot read rule file ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseRules(text, path);
}

/** Reads several rule files as one pack; ids must be unique across the pack. */
export async function loadRulePack(paths: readonly string[]): Promise<Rule[]> {
  const all: Rule[] = [];
  for (const p of paths) all.push(...(await loadRuleFile(p)));
  checkRules(all, paths.join(', '));
  return all;
}

/** Checks that span fields or rules: unique ids, releases that name a latching rule, well-formed references. */
export function checkRules(rules: readonly Rule[], source = 'rules'): void {
  const byId = new Map<string, Rule>();
  for (const r of rules) {
    if (byId.has(r.id)) throw new RuleError(source, r.id, '/id', 'duplicate rule id');
    byId.set(r.id, r);
  }
  for (const r of rules) {
    checkRefs(source, r.id, '/trigger/where', r.trigger.where);
    r.actions.forEach((a, i) => {
      if ('command' in a) {
        checkSelector(source, r.id, `/actions/${i}/command/select`, a.command.select);
        if (a.command.hold && !r.latch) throw new RuleError(source, r.id, `/actions/${i}/command/hold`, 'a hold needs `latch: true` on its rule, or it could never be released');
      }
      if ('camera' in a) checkSelector(source, r.id, `/actions/${i}/camera/select`, a.camera.select);
      if ('release' in a) {
        const target = byId.get(a.release.latch);
        if (!target) throw new RuleError(source, r.id, `/actions/${i}/release/latch`, `no rule "${a.release.latch}" in the pack`);
        if (!target.latch) throw new RuleError(source, r.id, `/actions/${i}/release/latch`, `rule "${a.release.latch}" has no latch`);
      }
    });
    for (const [i, c] of (r.conditions?.state ?? []).entries()) {
      if (c.equals === undefined && c.notEquals === undefined && c.in === undefined && c.online === undefined) {
        throw new RuleError(source, r.id, `/conditions/state/${i}`, 'needs one of equals, notEquals, in, online');
      }
    }
  }
}

/**
 * TypeBox reports a bad union member as "Expected union value" at the union itself; an installer needs
 * the field inside the action that is wrong, so validate against the variant the action's key names.
 */
function refine(candidate: unknown, issue: { path: string; reason: string }): { path: string; reason: string } {
  const m = /^\/actions\/(\d+)/.exec(issue.path);
  if (m) {
    const action = (candidate as { actions?: unknown[] }).actions?.[Number(m[1])];
    const keys = action && typeof action === 'object' ? Object.keys(action) : [];
    const key = keys.find((k): k is keyof typeof actionChecks => k in actionChecks);
    if (!key) return { path: m[0], reason: `unknown action ${keys.join(',') || '(empty)'}; expected one of ${Object.keys(actionChecks).join(', ')}` };
    const sub = actionChecks[key].issues(action)[0];
    if (sub) return hint({ path: m[0] + sub.path, reason: sub.reason });
  }
  return hint(issue);
}

function hint(issue: { path: string; reason: string }): { path: string; reason: string } {
  if (issue.reason !== 'Expected union value') return issue;
  const found = UNION_HINTS.find(([re]) => re.test(issue.path));
  return found ? { path: issue.path, reason: `expected ${found[1]}` } : issue;
}

function checkSelector(source: string, rule: string, path: string, sel: Selector): void {
  if (!sel.kind && !sel.ids && !sel.group && !sel.tags) throw new RuleError(source, rule, path, 'an empty selector would address every device; give kind, ids, group or tags');
  checkRefs(source, rule, `${path}/tags`, sel.tags);
}

function checkRefs(source: string, rule: string, path: string, map: Record<string, string | string[]> | undefined): void {
  for (const [k, v] of Object.entries(map ?? {})) {
    for (const item of Array.isArray(v) ? v : [v]) {
      if (item.startsWith('$') && !TRIGGER_REF.test(item)) {
        throw new RuleError(source, rule, `${path}/${k}`, `"${item}" is not a reference; use $trigger.<tag>`);
      }
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}

/**
 * Rule files: the built-in pack validates, and bad rules fail with errors that name the rule and the path.
 */
import t from 'tap';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILTIN_RULES_FILE, ERR_RULE, ERR_RULE_SYNTAX, loadRuleFile, loadRulePack, parseRules, LIFE_SAFETY_PRIORITY } from '../src/linkage/index.js';
import { inWindow } from '../src/linkage/match.js';

const head = 'version: 1\nrules:\n';
const ok = `  - id: ok-rule
    priority: 10
    trigger: { kind: door.forced }
    actions: [{ alarm: { type: door.forced, severity: major, message: forced } }]
`;

t.test('the built-in pack loads, is frozen, and puts fire first', async (t) => {
  const rules = await loadRuleFile(BUILTIN_RULES_FILE);
  t.same(rules.map((r) => r.id).sort(), ['door-forced', 'fire-evacuation', 'fire-reset-release', 'wearable-sos']);
  const fire = rules.find((r) => r.id === 'fire-evacuation');
  t.ok(fire && fire.priority >= LIFE_SAFETY_PRIORITY && fire.latch === true);
  t.ok(Object.isFrozen(fire), 'validated rules cannot be changed at run time');
  t.ok(rules.find((r) => r.id === 'wearable-sos')!.priority >= LIFE_SAFETY_PRIORITY, 'SOS is life safety');
});

t.test('errors name the rule and the path', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['missing priority', `${head}  - id: no-prio\n    trigger: { kind: fire.alarm }\n    actions: [{ notice: { text: x } }]\n`, /rule "no-prio" \/priority: /],
    ['bad action', `${head}${ok}  - id: bad-action\n    priority: 5\n    trigger: { kind: fire.alarm }\n    actions: [{ explode: { now: true } }]\n`, /rule "bad-action" \/actions\/0: unknown action explode; expected one of command, camera/],
    ['bad device kind', `${head}  - id: kind\n    priority: 5\n    trigger: { kind: fire.alarm }\n    actions: [{ command: { action: open, select: { kind: gate } } }]\n`, /rule "kind" \/actions\/0\/command\/select\/kind: expected one of access_gate, car_barrier/],
    ['bad field deep in an action', `${head}  - id: deep\n    priority: 5\n    trigger: { kind: fire.alarm }\n    actions: [{ command: { action: Open, select: { kind: access_gate } } }]\n`, /rule "deep" \/actions\/0\/command\/action: /],
    ['priority out of range', `${head}  - id: too-high\n    priority: 500\n    trigger: { kind: fire.alarm }\n    actions: [{ notice: { text: x } }]\n`, /rule "too-high" \/priority: Expected integer to be less or equal to 100/],
    ['unknown key', `${head}  - id: typo\n    priorty: 5\n    priority: 5\n    trigger: { kind: fire.alarm }\n    actions: [{ notice: { text: x } }]\n`, /rule "typo" \/priorty/],
    ['bad id', `${head}  - id: "has space"\n    priority: 5\n    trigger: { kind: fire.alarm }\n    actions: [{ notice: { text: x } }]\n`, /rule "has space" \/id/],
    ['rule without id', `${head}${ok}  - priority: 5\n    trigger: { kind: fire.alarm }\n    actions: [{ notice: { text: x } }]\n`, /rule "#1" \/id/],
    ['duplicate id', `${head}${ok}${ok}`, /rule "ok-rule" \/id: duplicate rule id/],
    ['hold without latch', `${head}  - id: holder\n    priority: 5\n    trigger: { kind: fire.alarm }\n    actions: [{ command: { action: hold_open, select: { kind: access_gate }, hold: {} } }]\n`, /rule "holder" \/actions\/0\/command\/hold: a hold needs `latch: true`/],
    ['release of unknown latch', `${head}  - id: rel\n    priority: 5\n    trigger: { kind: fire.reset }\n    actions: [{ release: { latch: nope } }]\n`, /rule "rel" \/actions\/0\/release\/latch: no rule "nope"/],
    ['bad reference', `${head}  - id: ref\n    priority: 5\n    trigger: { kind: fire.alarm }\n    actions: [{ command: { action: open, select: { tags: { building: $event.building } } } }]\n`, /rule "ref" \/actions\/0\/command\/select\/tags\/building: "\$event.building" is not a reference/],
    ['empty selector', `${head}  - id: all\n    priority: 5\n    trigger: { kind: fire.alarm }\n    actions: [{ command: { action: open, select: {} } }]\n`, /rule "all" \/actions\/0\/command\/select: an empty selector/],
    ['bad time', `${head}  - id: tw\n    priority: 5\n    trigger: { kind: x.y }\n    conditions: { timeWindows: [{ from: "25:00", to: "06:00" }] }\n    actions: [{ notice: { text: x } }]\n`, /rule "tw" \/conditions\/timeWindows\/0\/from/],
    ['state condition without a test', `${head}  - id: st\n    priority: 5\n    trigger: { kind: x.y }\n    conditions: { state: [{ device: G1, field: door }] }\n    actions: [{ notice: { text: x } }]\n`, /rule "st" \/conditions\/state\/0: needs one of/],
    ['wrong version', 'version: 2\nrules: []\n', /pack.yaml: \/version/],
  ];
  for (const [name, text, want] of cases) {
    const err = t.throws(() => parseRules(text, 'pack.yaml'), { code: ERR_RULE }, name) as Error;
    t.match(err?.message, want, name);
  }
});

t.test('syntax errors say where, for YAML and JSON', async (t) => {
  t.throws(() => parseRules(`${head}  - id: x\n    priority: [1\n`, 'pack.yaml'), { code: ERR_RULE_SYNTAX, message: /pack.yaml: not valid YAML at line \d+/ });
  t.throws(() => parseRules('{"version": 1, "rules": [', 'pack.json'), { code: ERR_RULE_SYNTAX, message: /pack.json: not valid JSON/ });
  const fromJson = parseRules(JSON.stringify({ version: 1, rules: [{ id: 'j', priority: 1, trigger: { kind: 'a.b' }, actions: [{ notice: { text: 'n' } }] }] }), 'pack.json');
  t.equal(fromJson[0]?.id, 'j');
});

t.test('a pack of several files rejects ids repeated across files; a missing file is a coded error', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rules-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const a = join(dir, 'a.yaml');
  const b = join(dir, 'b.yaml');
  await writeFile(a, head + ok);
  await writeFile(b, head + ok);
  await t.rejects(loadRulePack([a, b]), { code: ERR_RULE, message: /duplicate rule id/ });
  await t.rejects(loadRuleFile(join(dir, 'none.yaml')), { code: 'ERR_LINKAGE_RULE_FILE' });
  t.equal((await loadRulePack([a])).length, 1);
});

t.test('time windows wrap midnight and attribute the small hours to the evening before', async (t) => {
  const w = { from: '22:00', to: '06:00', days: ['fri' as const] };
  t.ok(inWindow(w, Date.parse('2026-11-27T23:00:00Z'), 'UTC'), 'Friday 23:00');
  t.ok(inWindow(w, Date.parse('2026-11-28T03:00:00Z'), 'UTC'), 'Saturday 03:00 is Friday night');
  t.notOk(inWindow(w, Date.parse('2026-11-28T23:00:00Z'), 'UTC'), 'Saturday 23:00');
  t.notOk(inWindow(w, Date.parse('2026-11-27T12:00:00Z'), 'UTC'), 'Friday noon');
  t.ok(inWindow({ from: '08:00', to: '18:00' }, Date.parse('2026-11-27T01:00:00Z'), 'Asia/Shanghai'), '09:00 in Shanghai');
});

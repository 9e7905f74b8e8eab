/**
 * The hold state file: atomic writes, a corrupt file does not stop the engine, and a latch whose rule was
 * removed from the pack is dropped rather than held forever.
 */
import t from 'tap';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HoldStore, LinkageEngine, parseRules, writeAtomic } from '../src/linkage/index.js';
import { community, FakeEvents, MemorySink, silentLog } from './linkage-fakes.js';

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'holds-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const latch = { key: 'fire-evacuation|s1|building=B', rule: 'fire-evacuation', site: 's1', edge: 'e1', scope: { building: 'B' }, triggerEventId: '6b1d3c1e-6a7f-4a43-9d1b-7f1d2c3b4a5e', since: '2026-11-29T10:00:00.000Z' };
const hold = (action: string) => ({ action, params: {}, release: 'release', refuse: ['lock', 'close', 'lower', 'release'] });

t.test('save and load round-trip; the write leaves no temp file; shared devices release with the last latch', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'sub', 'state.json');
  const a = new HoldStore(file, silentLog);
  const l1 = a.activate(latch);
  a.addHold(l1, 'G1', hold('hold_open'));
  a.addHold(l1, 'CB1', hold('hold_raised'));
  const l2 = a.activate({ ...latch, key: 'fire-evacuation|s1|building=A', scope: { building: 'A' } });
  a.addHold(l2, 'CB1', hold('hold_raised'));
  await a.save();
  t.same(await readdir(join(dir, 'sub')), ['state.json'], 'only the final file remains');
  const b = new HoldStore(file, silentLog);
  t.equal((await b.load()).length, 2);
  t.equal(b.refusal('G1', 'lock')?.latch.rule, 'fire-evacuation');
  t.equal(b.refusal('G1', 'hold_open'), undefined, 're-asserting a hold is not refused');
  const first = b.release('fire-evacuation', 's1', { building: 'B' });
  t.same([...first.toRelease.keys()], ['G1'], 'CB1 is still held for building A');
  const second = b.release('fire-evacuation', 's1', {});
  t.same([...second.toRelease.keys()], ['CB1'], 'a site-wide reset ends the rest');
  t.equal(b.list().length, 0);
});

t.test('writeAtomic replaces the whole file', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'x.json');
  await writeAtomic(file, 'a'.repeat(1000));
  await writeAtomic(file, 'b');
  t.equal(await readFile(file, 'utf8'), 'b');
});

t.test('a corrupt state file is moved aside and the engine still starts and acts', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'state.json');
  await writeFile(file, '{"version": 1, "latches": [ {"key": ');
  const devices = community();
  const events = new FakeEvents();
  const engine = new LinkageEngine({ events, devices, commands: devices, sink: new MemorySink(), log: silentLog, stateFile: file });
  await engine.start();
  t.teardown(async () => {
    await engine.stop();
    devices.close();
  });
  t.equal(engine.activeHolds().length, 0);
  t.ok((await readdir(dir)).some((f) => f.startsWith('state.json.corrupt-')), 'kept for inspection');
  t.ok(engine.ruleList().some((r) => r.id === 'fire-evacuation'), 'the built-in pack loaded by default');
});

t.test('a latch whose rule is gone from the pack is dropped, not re-asserted', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'state.json');
  const store = new HoldStore(file, silentLog);
  store.addHold(store.activate({ ...latch, rule: 'old-rule', key: 'old-rule|s1|building=B' }), 'G1', hold('hold_open'));
  await store.save();
  const devices = community();
  const rules = parseRules('version: 1\nrules:\n  - id: r\n    priority: 1\n    trigger: { kind: a.b }\n    actions: [{ notice: { text: n } }]\n', 'x.yaml');
  const engine = new LinkageEngine({ events: new FakeEvents(), devices, commands: devices, sink: new MemorySink(), log: silentLog, stateFile: file, rules });
  await engine.start();
  t.teardown(async () => {
    await engine.stop();
    devices.close();
  });
  await engine.idle();
  t.equal(devices.sent.length, 0);
  t.equal(engine.activeHolds().length, 0);
  t.same((JSON.parse(await readFile(file, 'utf8')) as { latches: unknown[] }).latches, []);
});

/** Plates at barriers: allow-listed plates raise the barrier that read them; block-listed ones raise an alarm. */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { waitFor } from '@safe-community/testkit';
import { LinkageEngine, parseRules, type ExecutionReport } from '../src/linkage/index.js';
import { community, event, FakeEvents, MemorySink, silentLog } from './linkage-fakes.js';

t.test('allow list raises the reporting barrier; block list alarms; others do nothing', async (t) => {
  const devices = community();
  const events = new FakeEvents();
  const sink = new MemorySink();
  const rules = parseRules(await readFile(new URL('../rules/plates.example.yaml', import.meta.url), 'utf8'), 'plates.example.yaml');
  const engine = new LinkageEngine({ events, devices, commands: devices, sink, log: silentLog, rules });
  const reports: ExecutionReport[] = [];
  engine.onExecution((r) => reports.push(r));
  await engine.start();
  t.teardown(async () => {
    await engine.stop();
    devices.close();
  });

  // Written with a separator on the wire, without one in the list: the same plate.
  events.emit(event('vehicle.arrived', 'CB3', { severity: 'info', payload: { plate: '京A·12345', confidence: 0.99 } }));
  const allow = await waitFor(() => reports.find((r) => r.execution.rule === 'plate-allow'), { what: 'allow execution' });
  t.same(allow.execution.actions.map((a) => `${a.device}:${a.action}:${a.status}`), ['CB3:raise:confirmed'], 'only the barrier that read the plate is raised');

  events.emit(event('vehicle.arrived', 'CB1', { severity: 'info', payload: { plate: '粤BD12345' } }));
  await waitFor(() => sink.of('alarm').some((a) => a.type === 'vehicle.blocked_plate'), { what: 'blocked plate alarm' });
  const alarm = sink.of('alarm').find((a) => a.type === 'vehicle.blocked_plate')!;
  t.equal(alarm.device, 'CB1');
  t.match(alarm.message, /粤BD12345.*CB1/);
  t.equal(devices.sentTo('CB1').length, 0, 'a blocked vehicle does not get the barrier raised');

  events.emit(event('vehicle.arrived', 'CB2', { severity: 'info', payload: { plate: '苏E00000' } }));
  events.emit(event('vehicle.arrived', 'CB2', { severity: 'info', payload: {} }));
  await engine.idle();
  t.equal(devices.sentTo('CB2').length, 0, 'unknown plates and unread plates raise nothing');
  t.equal(reports.filter((r) => r.execution.rule === 'plate-allow').length, 1);
});

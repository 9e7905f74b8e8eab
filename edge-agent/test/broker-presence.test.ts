import t from 'tap';
import { createLogger } from '@safe-community/runtime';
import { DevicePresence } from '../src/broker/presence.js';

const log = createLogger({ level: 'fatal' });

t.test('the newest connection counts: a taken-over connection closing leaves the device online', async (t) => {
  const presence = new DevicePresence<object>(log);
  const heard: string[] = [];
  presence.onChange((id, online) => heard.push(`${id} ${online ? 'online' : 'offline'}`));
  const first = {}, second = {};
  presence.connected('G1', first);
  presence.connected('G1', second);
  t.equal(presence.closed('G1', first), false, 'the old connection closing is not the device going');
  t.ok(presence.isOnline('G1'));
  t.equal(presence.size, 1);
  t.equal(presence.closed('G1', second), true, 'the newest connection closing is');
  t.notOk(presence.isOnline('G1'));
  t.same(heard, ['G1 online', 'G1 online', 'G1 offline']);
});

t.test('listeners in order; one that throws does not stop the rest; clear tells no one', async (t) => {
  const presence = new DevicePresence<object>(log);
  const heard: string[] = [];
  presence.onChange(() => heard.push('first'));
  const off = presence.onChange(() => { throw new Error('listener bug'); });
  presence.onChange(() => heard.push('third'));
  presence.connected('G1', {});
  t.same(heard, ['first', 'third']);
  off();
  presence.clear();
  t.notOk(presence.isOnline('G1'));
  t.same(heard, ['first', 'third'], 'clearing is not going offline');
});

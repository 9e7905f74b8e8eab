/**
 * The seam between the agent's outbox and the evidence planner: every record the parts send up (device
 * events, camera and video events, linkage and care alarms) is handed to the listener once it is durable.
 * A listener that throws is logged and never fails the append: evidence must not stand in the way of an
 * alarm reaching the cloud.
 */
import type { Logger } from '@safe-community/runtime';
import type { OutboxInput, UplinkSink } from '../ports.js';

export class SinkTap implements UplinkSink {
  private listener: ((msg: OutboxInput) => void) | null = null;

  constructor(private readonly inner: UplinkSink, private readonly log: Logger) {}

  listen(listener: (msg: OutboxInput) => void): void {
    this.listener = listener;
  }

  async append(msg: OutboxInput): Promise<number> {
    const seq = await this.inner.append(msg);
    try {
      this.listener?.(msg);
    } catch (err) {
      this.log.error({ err, type: msg.type }, 'outbox listener threw');
    }
    return seq;
  }
}

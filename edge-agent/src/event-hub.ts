/**
 * One stream of canonical events for the linkage engine, from every source the edge has: the devices'
 * adapters, the cameras' own ONVIF events, and the video analytics. A listener that throws is logged and
 * skipped, so one bad consumer never starves the others.
 */
import type { Event } from '@safe-community/contracts';
import type { Logger } from '@safe-community/runtime';
import type { EventSource } from './ports.js';

export class EventHub implements EventSource {
  private readonly listeners = new Set<(e: Event) => void>();
  private readonly detach: Array<() => void> = [];

  constructor(private readonly log: Logger) {}

  /** Forwards every event of `source` to this hub's listeners. */
  add(source: EventSource): void {
    this.detach.push(source.onEvent((e) => this.emit(e)));
  }

  emit(event: Event): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.log.error({ err, kind: event.kind }, 'event listener threw');
      }
    }
  }

  onEvent(listener: (event: Event) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    for (const d of this.detach.splice(0)) d();
  }
}

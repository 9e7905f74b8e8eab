/**
 * Lifecycle set-up the tests repeat: a temporary folder removed at the end, and parts (simulated devices,
 * clients, services) started in order and stopped in reverse when the test ends. Teardowns run last in,
 * first out, so what is set up later is gone before what it stands on.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What a test offers for cleaning up (a tap test). */
export interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Something with an asynchronous start and stop. */
export interface Part {
  start(): Promise<unknown>;
  stop(): Promise<unknown>;
}

/** A fresh folder under the OS temp dir, removed with its contents at the end of the test. */
export async function tempDir(t: Teardown, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts the parts in the order given; they are stopped in reverse at the end of the test. */
export async function startParts<P extends Part[]>(t: Teardown, ...parts: P): Promise<P> {
  for (const part of parts) {
    await part.start();
    t.teardown(() => part.stop());
  }
  return parts;
}

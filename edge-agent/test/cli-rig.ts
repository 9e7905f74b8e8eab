/** What the CLI tests share: captured output lines, and a temporary folder holding the edge.yaml under test. */
import { join } from 'node:path';
import { tempDir, type Teardown } from '@safe-community/testkit';
import type { CliIo } from '@safe-community/edge-agent';

/** An io for runCli that keeps what the command printed, with an empty environment. */
export function capture(extra: Partial<CliIo> = {}): { out: string[]; err: string[]; io: CliIo } {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env: {}, interactive: false, ...extra };
  return { out, err, io };
}

/** A fresh folder (removed at the end of the test) and the path of the edge.yaml to write in it. */
export async function configDir(t: Teardown, prefix: string): Promise<{ dir: string; config: string }> {
  const dir = await tempDir(t, prefix);
  return { dir, config: join(dir, 'edge.yaml') };
}

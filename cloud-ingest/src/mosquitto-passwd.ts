/**
 * Mosquitto 2's password file, written without its `mosquitto_passwd` tool (the ingest's host need not have
 * it): one `user:$7$<iterations>$<salt>$<hash>` line per login, PBKDF2-SHA512 with a 12-byte salt and a
 * 64-byte hash, base64, the format `mosquitto_passwd` 2.0 writes. Mosquitto re-reads the file on SIGHUP.
 */
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { CodedError } from '@safe-community/runtime';

const ITERATIONS = 101;

export function mosquittoPasswordLine(user: string, password: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(user)) throw new CodedError('ERR_VALIDATION', `"${user}" cannot be a broker user name`);
  const salt = randomBytes(12);
  const hash = pbkdf2Sync(password, salt, ITERATIONS, 64, 'sha512');
  return `${user}:$7$${ITERATIONS}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Adds the user, or replaces its line; other lines are kept as they are. Written whole, then renamed. */
export async function upsertPasswordFile(path: string, user: string, password: string): Promise<void> {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw new CodedError('ERR_PASSWD_FILE', `cannot read ${path}`, { cause: err });
  });
  const lines = text.split('\n').filter((l) => l.length > 0 && !l.startsWith(`${user}:`));
  lines.push(mosquittoPasswordLine(user, password));
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, `${lines.join('\n')}\n`, { mode: 0o600 });
  await rename(tmp, path);
}

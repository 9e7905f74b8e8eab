/**
 * Per-device MQTT credentials. Passwords are random, shown once by `provision()`, and stored only as
 * scrypt hashes (salted, N=2^14) in one JSON file under the data dir, written atomically (temp + rename)
 * so a power cut never leaves half a file.
 */
import { createHmac, randomBytes, scrypt as scryptCb } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CodedError, sameSecret } from '@safe-community/runtime';

const KEY_LEN = 32;
const SCRYPT = { N: 16384, r: 8, p: 1 } as const;
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

interface StoredCredential {
  salt: string;
  hash: string;
  createdAt: string;
}

interface CredentialFile {
  version: 1;
  devices: Record<string, StoredCredential>;
}

function scrypt(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCb(password, salt, KEY_LEN, SCRYPT, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** What a cheap look at an attempt can tell, before any scrypt hash (see `quickCheck`). */
export type QuickCheck = 'ok' | 'wrong' | 'unknown' | 'needs-hash';

export class CredentialStore {
  private devices = new Map<string, StoredCredential>();
  /**
   * HMAC of each device's password under a key that lives only in this process, kept after the first
   * successful scrypt: a reconnecting device is then checked in microseconds, and a wrong password for it
   * is refused without a hash (issue 13: a reconnect storm must not queue behind scrypt).
   */
  private readonly verifiers = new Map<string, Buffer>();
  private readonly verifierKey = randomBytes(32);
  private loaded = false;
  private saving: Promise<void> = Promise.resolve();
  readonly file: string;

  constructor(dataDir: string) {
    this.file = join(dataDir, 'credentials.json');
  }

  /** Reads the file; a missing file is an empty store, a corrupt one is an error (never silently reset). */
  async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.devices = new Map();
        this.loaded = true;
        return;
      }
      throw new CodedError('ERR_CREDENTIALS_READ', `cannot read ${this.file}`, { cause: err });
    }
    let parsed: CredentialFile;
    try {
      parsed = JSON.parse(text) as CredentialFile;
    } catch (err) {
      throw new CodedError('ERR_CREDENTIALS_CORRUPT', `${this.file} is not valid JSON`, { cause: err });
    }
    if (parsed.version !== 1 || typeof parsed.devices !== 'object' || parsed.devices === null) {
      throw new CodedError('ERR_CREDENTIALS_CORRUPT', `${this.file} has an unknown layout`);
    }
    this.devices = new Map(Object.entries(parsed.devices));
    this.loaded = true;
  }

  private async ensureLoaded(): Promise<void> {
    if (!this.loaded) await this.load();
  }

  /** Saves are queued so concurrent provisions never interleave on the temp file. */
  private save(): Promise<void> {
    const run = async (): Promise<void> => {
      const body: CredentialFile = { version: 1, devices: Object.fromEntries(this.devices) };
      await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
      const tmp = `${this.file}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(body, null, 2), { mode: 0o600 });
      await rename(tmp, this.file);
    };
    const next = this.saving.then(run, run);
    this.saving = next;
    return next;
  }

  /**
   * Creates (or replaces) the device's credential and returns the password. It is the only time the
   * password exists in clear; the store keeps the hash.
   */
  async provision(deviceId: string): Promise<{ deviceId: string; password: string }> {
    if (!ID_RE.test(deviceId)) {
      throw new CodedError('ERR_DEVICE_ID', `device id "${deviceId}" must be letters, digits, . _ - (at most 64)`);
    }
    await this.ensureLoaded();
    const password = randomBytes(18).toString('base64url');
    const salt = randomBytes(16);
    const hash = await scrypt(password, salt);
    this.devices.set(deviceId, { salt: salt.toString('base64'), hash: hash.toString('base64'), createdAt: new Date().toISOString() });
    this.verifiers.delete(deviceId);
    await this.save();
    return { deviceId, password };
  }

  async revoke(deviceId: string): Promise<boolean> {
    await this.ensureLoaded();
    const had = this.devices.delete(deviceId);
    this.verifiers.delete(deviceId);
    if (had) await this.save();
    return had;
  }

  has(deviceId: string): boolean {
    return this.devices.has(deviceId);
  }

  list(): string[] {
    return [...this.devices.keys()].sort();
  }

  /**
   * The answer without scrypt when there is one: 'unknown' for an id not provisioned, 'ok' / 'wrong' when
   * the device's verifier is cached, else 'needs-hash'. Callers answer 'unknown' and 'wrong' no faster than
   * a hash (the broker delays them), so timing does not tell which ids exist.
   */
  quickCheck(deviceId: string, password: string | Buffer | undefined): QuickCheck {
    if (!this.devices.has(deviceId)) return 'unknown';
    const cached = this.verifiers.get(deviceId);
    if (!cached) return 'needs-hash';
    return sameSecret(cached, this.verifierOf(password)) ? 'ok' : 'wrong';
  }

  /** Constant-time check; false for unknown devices (after the same hashing work, so timing tells nothing). */
  async verify(deviceId: string, password: string | Buffer | undefined): Promise<boolean> {
    await this.ensureLoaded();
    const stored = this.devices.get(deviceId);
    const given = password === undefined ? '' : typeof password === 'string' ? password : password.toString('utf8');
    const salt = stored ? Buffer.from(stored.salt, 'base64') : Buffer.alloc(16);
    const hash = await scrypt(given, salt);
    if (!stored) return false;
    const expected = Buffer.from(stored.hash, 'base64');
    const ok = sameSecret(expected, hash);
    // Cached only if the credential was not replaced while hashing.
    if (ok && this.devices.get(deviceId) === stored) this.verifiers.set(deviceId, this.verifierOf(password));
    return ok;
  }

  private verifierOf(password: string | Buffer | undefined): Buffer {
    return createHmac('sha256', this.verifierKey).update(password ?? '').digest();
  }
}

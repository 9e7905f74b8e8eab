/**
 * The broker's public types: its options, the handler it awaits before a PUBACK, and the refusal error.
 */
import { CodedError, type ErrorCode } from '@safe-community/runtime';
import type { Clock, Logger } from '@safe-community/runtime';
import type { CredentialStore } from './credentials.js';
import type { RateLimitOptions } from '@safe-community/runtime';
import type { DeadLetterRotation } from './dead-letter.js';

/** Thrown by `onDevicePublish` for input that is wrong and will stay wrong: acknowledged, dropped, dead-lettered. */
export class PublishRefused extends CodedError {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'PublishRefused';
  }
}

export interface DevicePublishHandler {
  /**
   * Awaited before the PUBACK. Resolve once the message is durable. Throw PublishRefused for bad input
   * (the device gets its PUBACK so it stops resending; the message goes to the dead-letter record). Any
   * other error withholds the PUBACK and closes the connection, so the device resends it after reconnecting.
   */
  onDevicePublish(deviceId: string, topic: string, payload: Buffer): Promise<void>;
  /** Exact topic filters the device may subscribe to: its command topic(s). */
  commandTopics(deviceId: string): string[];
}

export interface EdgeBrokerOptions {
  /** Where credentials.json and dead-letter.jsonl live. */
  dataDir: string;
  /** TCP listener; port 0 picks a free port (see `port` after start). Default 127.0.0.1:1883. */
  host?: string;
  port?: number;
  /** Optional MQTT over TLS listener. */
  tls?: { host?: string; port?: number; keyPath: string; certPath: string };
  /**
   * Largest MQTT packet in bytes, checked on the fixed header before the body is read, before and after
   * authentication; the connection is closed. Default 256 KiB, never below maxPayloadBytes + 4 KiB.
   */
  maxPacketBytes?: number;
  /** Work allowed before authentication (issue 13). */
  auth?: {
    /** Password hashes (scrypt) running at once. Default 2. */
    concurrency?: number;
    /** Connections waiting for a hash, per class (life-safety, other); past it CONNACK 3 (server unavailable). Default 256. */
    maxQueue?: number;
    /** CONNECT attempts per source address; false disables. Default 20/s with a burst of 100 (a bridge may connect many devices from one address). */
    perSource?: RateLimitOptions | false;
  };
  /** Devices whose authentication goes first (life safety: fire panels, gates, barriers). Default none. */
  authPriority?: (deviceId: string) => boolean;
  /** Largest accepted device payload in bytes. Default 64 KiB. */
  maxPayloadBytes?: number;
  /** Per-device message rate; false disables. Default 50/s with a burst of 200. */
  rateLimit?: RateLimitOptions | false;
  /**
   * Devices the rate limit never applies to: life-safety devices (fire panels), whose alarm storm must be
   * delivered whole, never refused. Default none.
   */
  rateLimitExempt?: (deviceId: string) => boolean;
  /** Size rotation of `dead-letter.jsonl`. Default 16 MiB, 3 rotated files kept. */
  deadLetterRotation?: DeadLetterRotation;
  /** How long one onDevicePublish may take before the PUBACK is withheld. Default 10 s. */
  hookTimeoutMs?: number;
  /**
   * Broker state across restarts (retained messages, persistent sessions and their queued messages):
   * 'file' (default) keeps a snapshot in the data dir, 'memory' forgets on restart, or any Aedes persistence.
   */
  persistence?: 'file' | 'memory' | object;
  credentials?: CredentialStore;
  logger?: Logger;
  clock?: Clock;
}

export interface BrokerStats {
  connectedDevices: number;
  accepted: number;
  refused: Record<string, number>;
  hookFailures: number;
  /** Snapshot writes of the broker's state file that failed (file persistence; 0 otherwise). */
  stateWriteFailures: number;
  /** Pre-authentication refusals and the hash queue (issue 13). */
  auth?: { rateLimited: number; busy: number; gone: number; hashed: number; queued: number; packetsRefused: number };
}

/**
 * The store port: everything the ingest needs from a database, with two backends (PostgreSQL through a pg
 * Pool, PGlite in process) that pass the same contract tests (test/store-contract.ts).
 */
import type { UplinkMessage, UplinkType } from '@safe-community/contracts';
import type { SqlRunner } from '../migrate.js';

/** A rejected input, recorded with its reason so nothing is dropped silently. */
export interface DeadLetterRecord {
  /** 'mqtt:<topic>' or 'http'. */
  source: string;
  edge: string | null;
  seq: number | null;
  /** Stable code, e.g. ERR_VALIDATION. */
  code: string;
  /** Path + reason. */
  reason: string;
  /** The raw text, cut to 64 KiB. */
  payload: string;
}

/** One record of an envelope: either a valid message, or a rejected one that still holds its place in the sequence. */
export type BatchItem =
  | { seq: number; ok: true; msg: UplinkMessage }
  | { seq: number; ok: false; code: string; reason: string; payload: string };

/** An envelope after parsing and validation: items sorted by seq, each seq at most once. */
export interface IngestBatch {
  edge: string;
  site: string;
  source: string;
  /** The edge outbox's epoch, when the envelope names one. */
  epoch?: string;
  items: BatchItem[];
}

export interface WriteResult {
  /** Every record of this edge with seq <= upTo is committed (the value the ack carries). */
  upTo: number;
  /** True when the batch started past upTo + 1: nothing was written and the edge must resend from upTo + 1. */
  gap: boolean;
  /** Rows written per message type. */
  written: Record<UplinkType, number>;
  /** Records with seq <= the cursor before this write: already stored, skipped. */
  duplicates: number;
  /** Records of this batch recorded in dead_letters (schema-invalid, or refused by the database). */
  deadLettered: number;
  /** Records after a hole inside the batch: not written, the edge resends them. */
  deferred: number;
  /** Records refused because they reach beyond the edge (store/confine.ts), in the edge's numbering. */
  refused?: Array<{ seq: number; code: string; reason: string }>;
  /**
   * 'new': the edge's outbox started a new epoch (wiped or replaced) and this batch continues after the old
   * one's rows; 'stale': the batch belongs to an epoch the edge has left, and was dead-lettered whole.
   */
  epoch?: 'new' | 'stale';
}

export interface StoreHealth {
  ok: boolean;
  detail?: string;
}

export interface Store {
  readonly kind: 'postgres' | 'pglite';
  /** Connects and applies migrations. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Writes one envelope in one transaction, idempotent by (edge, seq). Throws CodedError when it could not commit. */
  writeBatch(batch: IngestBatch): Promise<WriteResult>;
  /** Records rejected inputs that are not part of a batch (an unparseable envelope). */
  deadLetter(records: readonly DeadLetterRecord[]): Promise<void>;
  /** The edge's high-water mark (0 for an edge never seen). */
  cursor(edge: string): Promise<number>;
  /** Reads for the API and tests. */
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  health(): Promise<StoreHealth>;
  /** Whether the migrations chose the TimescaleDB variant (known after start). */
  readonly timescale: boolean;
  /** The raw runner, for maintenance jobs. */
  runner(): SqlRunner;
}

export const emptyWritten = (): Record<UplinkType, number> =>
  ({ event: 0, telemetry: 0, status: 0, command_result: 0, alarm: 0, linkage: 0 });

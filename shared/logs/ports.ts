// What the log-integration capability (issue 12) needs from Simple Log Service, declared without
// any SDK: finding Logstores, reading a shard from a cursor, writing a log group. Each is one
// account's Log Service in one region (shared/cloud/sls implements them, reached with that
// account's credentials). Minimal on purpose: the capability's author extends them.
//
// Failures are CloudApiError (shared/errors.ts) with the cloud's code; throttling and outages are
// retried inside the adapter first. Two failures have their own type because a caller reacts to
// them: a missing project/Logstore/shard, and an invalid cursor.

import { CloudApiError, type CloudCallFailure } from '../errors';
import type {
  CursorPosition,
  EncodedLogGroup,
  LogGroup,
  LogstoreAddress,
  LogstoreInfo,
  LogTag,
  ProjectInfo,
  PulledLogs,
  PutOutcome,
  Shard,
} from './model';

/** Finding Logstores in a project (the member's product projects, the central one). */
export interface LogstoreDiscovery {
  getProject(project: string): Promise<ProjectInfo>;
  /** One page of Logstore names containing `nameContains`, in name order. */
  listLogstores(
    project: string,
    page?: { nameContains?: string; offset?: number; size?: number },
  ): Promise<{ names: string[]; total: number }>;
  /** Every Logstore name containing `nameContains`, all pages read. */
  listAllLogstores(project: string, nameContains?: string): Promise<string[]>;
  getLogstore(address: LogstoreAddress): Promise<LogstoreInfo>;
}

/** Creating a Logstore (the central one, by the post-deploy setup). */
export interface LogstoreAdministration {
  /** `exists` when it was there already (its settings are left as they are). */
  createLogstore(
    address: LogstoreAddress,
    settings: { ttlDays: number; shardCount: number },
  ): Promise<'created' | 'exists'>;
}

/** Reading a Logstore shard by shard, from cursors. */
export interface LogSource {
  listShards(address: LogstoreAddress): Promise<Shard[]>;
  cursor(address: LogstoreAddress, shardId: number, position: CursorPosition): Promise<string>;
  /** The receive time (unix seconds) of the log group a cursor points at. */
  cursorTime(address: LogstoreAddress, shardId: number, cursor: string): Promise<number>;
  /**
   * Up to `count` log groups (1-1000, default 1000) from `cursor`, stopping before `endCursor`.
   * Throws LogCursorInvalid when the cursor cannot be read from.
   */
  pull(
    address: LogstoreAddress,
    shardId: number,
    range: { cursor: string; endCursor?: string; count?: number },
  ): Promise<PulledLogs>;
  /** Reads a pulled group's logs (only a consumer of the contents needs this). */
  decode(group: EncodedLogGroup): LogGroup;
}

/** One PutLogs: a log group, forwarded as pulled or built from logs. */
export interface LogBatch {
  group: EncodedLogGroup | LogGroup;
  /** Added to the group's own tags (provenance). */
  tags?: LogTag[];
  /**
   * Written as the tag BATCH_ID_TAG. The same batch forwarded again (a retry, or a re-pull after
   * a crash) must carry the same id, so derive it from what was pulled, not from the attempt.
   */
  batchId: string;
  /** 32 hex digits: the shard whose hash range holds it takes the group. Default: any shard. */
  hashKey?: string;
}

/** Writing log groups into a Logstore. At least once: see BATCH_ID_TAG. */
export interface LogSink {
  put(address: LogstoreAddress, batch: LogBatch): Promise<PutOutcome>;
}

export type MissingLogResource = 'project' | 'logstore' | 'shard';

/** The project, Logstore or shard does not exist (ProjectNotExist, LogStoreNotExist, ShardNotExist). Final. */
export class LogResourceMissing extends CloudApiError {
  constructor(
    readonly resource: MissingLogResource,
    failure: CloudCallFailure,
    cause?: unknown,
  ) {
    super(failure, cause);
  }
}

/**
 * InvalidCursor: malformed, another shard's, or pointing at data the Logstore's TTL removed. A
 * puller reacts: it takes a new cursor (begin) and records the gap. Never retried.
 */
export class LogCursorInvalid extends CloudApiError {}

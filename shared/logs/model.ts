// What the log-integration capability (issue 12) reads and writes in Simple Log Service, as plain
// data: Logstores, shards, cursors, log groups. Minimal on purpose: the capability's author
// extends it (templates, policies, data sources, checkpoints come with the capability).

/** A Logstore in a project; the account and region are those of the LogService it is read through. */
export interface LogstoreAddress {
  project: string;
  logstore: string;
}

export interface ProjectInfo {
  name: string;
  region: string;
  /** The owner account's id (the service's `owner`). */
  owner: string;
  description: string;
  status: string;
}

export interface LogstoreInfo {
  name: string;
  ttlDays: number;
  /** Shards taking writes (readwrite). */
  shardCount: number;
  /** Unix seconds; undefined when the service did not say. */
  createTime?: number;
}

export type ShardStatus = 'readwrite' | 'readonly';

/**
 * A shard. A readonly shard was split or merged: it keeps its data, takes no new writes, and is
 * finished once read to its end; its children (higher ids, hash ranges within its own) carry on.
 */
export interface Shard {
  shardId: number;
  status: ShardStatus;
  /** 32 hex digits, inclusive. */
  inclusiveBeginKey: string;
  /** 32 hex digits, exclusive. */
  exclusiveEndKey: string;
  /** Unix seconds. */
  createTime: number;
}

/** Where to take a cursor: the oldest retained log group, the shard's end, or by receive time. */
export type CursorPosition = 'begin' | 'end' | { unixSeconds: number };

export interface LogTag {
  key: string;
  value: string;
}

export interface LogContent {
  key: string;
  value: string;
}

export interface LogRecord {
  /** Unix seconds. */
  time: number;
  /** The nanosecond part, when the writer sent one. */
  timeNs?: number;
  contents: LogContent[];
}

/** A log group with its logs read out: what a consumer of the contents works on. */
export interface LogGroup {
  logs: LogRecord[];
  topic?: string;
  source?: string;
  tags: LogTag[];
}

/**
 * A log group as the service sent it: its encoded bytes, untouched (forwarding them keeps every
 * field, known or not, at no decoding cost), and what a scan of its top level tells without
 * reading the logs.
 */
export interface EncodedLogGroup {
  bytes: Uint8Array;
  logCount: number;
  topic?: string;
  source?: string;
  tags: LogTag[];
}

/** One PullLogs answer. */
export interface PulledLogs {
  groups: EncodedLogGroup[];
  /** Where the next pull starts. Equal to the cursor pulled from at the shard's end. */
  nextCursor: string;
  /** Logs in `groups`. */
  logCount: number;
  /** Encoded size of `groups` (uncompressed). */
  rawBytes: number;
}

/**
 * The tag that carries a forwarded batch's id. A PutLogs that failed after the service may have
 * applied it (no answer, or a 5xx) is retried, so the central Logstore may hold a batch twice:
 * both copies carry the same id, which is how a consumer recognises the duplicate.
 */
export const BATCH_ID_TAG = 'rdgov_batch_id';

/** What a PutLogs did. */
export interface PutOutcome {
  /** Requests made, the successful one included. */
  attempts: number;
  /** An earlier attempt may have been applied too (its failure came after the body was sent). */
  maybeDuplicated: boolean;
}

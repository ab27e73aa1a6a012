// The log-integration capability's records, as plain data: what it reads and writes in Simple Log
// Service (Logstores, shards, cursors, log groups), the preset templates, the integration policy
// per (template, member), the data source per (template, region, member), each shard's
// checkpoint, and what the API shows of a data source (status, gaps, diagnosis).

import type { Versioned } from '../domain/records';

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

/** The tags every forwarded log group carries (they read `__tag__:<key>` in SLS). Consumers of the
 *  central Logstore (session-audit indexing) rely on these names: never rename them. */
export const PROVENANCE_TAGS = {
  ownerAccount: 'rdgov_owner_account',
  template: 'rdgov_template',
  region: 'rdgov_region',
  sourceProject: 'rdgov_source_project',
  sourceLogstore: 'rdgov_source_logstore',
  sourceShard: 'rdgov_source_shard',
  batchId: BATCH_ID_TAG,
} as const;

// ------------------------------------------------------------------------------- templates

/** One default name of a product's Logstore: `{uid}` and `{region}` stand for the member's. */
export interface DefaultLogstoreName {
  project: string;
  logstore: string;
  /** Where the naming rule comes from (the product's documentation). */
  source: string;
}

/**
 * How a template's Logstores are found in a member and region: the product's default names (each
 * tried with GetLogStore; a product may have had several), or discovery: every project of the
 * region (ListProject), optionally cut by a pattern, and their Logstores matching a pattern
 * (ListLogStores, filtered by `nameContains` on the service side first).
 */
export type LogstoreRule =
  | { kind: 'default-name'; names: DefaultLogstoreName[] }
  | {
      kind: 'discovery';
      /** Regular expression over project names; absent: every project of the region. */
      projectPattern?: string;
      /** What ListLogStores filters by (the service matches names containing it). */
      nameContains: string;
      /** Regular expression a Logstore name must match. */
      logstorePattern: string;
      source: string;
    };

/** A preset, immutable integration template of one cloud product. */
export interface LogTemplate {
  /** Lower-case slug: `waf`, `cloudfirewall`, `actiontrail`, `sas-alerts`, `bastionhost`. */
  id: string;
  /** The name part of its data sources, as the product names itself: `WAF`, `CloudFirewall`... */
  name: string;
  product: string;
  description: string;
  recommended: boolean;
  /** Why it is (not) in the recommended set. */
  recommendation: string;
  logstores: LogstoreRule;
  /** Services (the scope service keys) whose service-linked roles the product needs in a member. */
  roleServices: string[];
}

// --------------------------------------------------------------------------------- policies

/**
 * Whether one template is integrated for one member. Each time a policy is enabled its
 * generation grows and `consumeFrom` is set: the shards of its data sources are then read from
 * the logs received at or after that time (real time: the end of the shard when it was enabled,
 * unless the caller asked for an earlier start).
 */
export interface IntegrationPolicy extends Versioned {
  templateId: string;
  accountId: string;
  enabled: boolean;
  /** Logstores created later that match the template join its data sources. */
  autoAddNewLogstores: boolean;
  /** ISO 8601: where reading starts in the current generation. */
  consumeFrom: string;
  generation: number;
  /** Who made the last change (describeCause). */
  changedBy: string;
}

export function policyKey(templateId: string, accountId: string): string {
  return `${templateId}/${accountId}`;
}

// ------------------------------------------------------------------------------ data sources

export const DATA_SOURCE_TYPE = 'custom-log-service';

export const DATA_SOURCE_STATUSES = [
  'disabled',
  'initializing',
  'normal',
  'no-data',
  'failed',
] as const;
export type DataSourceStatus = (typeof DATA_SOURCE_STATUSES)[number];

/**
 * One (template, region, member): `<Template>_<RegionId>_<MemberUID>`, e.g.
 * `WAF_cn-hangzhou_1234567890123456`. Created with the integration even when the policy is
 * disabled, kept when the member leaves integration or management; deleted only explicitly.
 * `enabled`, `generation` and `consumeFrom` follow its policy.
 */
export interface DataSource extends Versioned {
  name: string;
  type: typeof DATA_SOURCE_TYPE;
  templateId: string;
  accountId: string;
  accountName?: string;
  region: string;
  enabled: boolean;
  autoAddNewLogstores: boolean;
  generation: number;
  consumeFrom: string;
  /** The Logstores read, as first found and as added since (auto-add). */
  logstores: LogstoreAddress[];
  /** ISO 8601: when the Logstores were first found. */
  discoveredAt?: string;
}

const DATA_SOURCE_NAME = /^([A-Za-z][A-Za-z0-9]*)_([a-z]{2,}(?:-[a-z0-9]+)+)_(\d{16})$/;

export function dataSourceName(
  template: Pick<LogTemplate, 'name'>,
  region: string,
  accountId: string,
) {
  return `${template.name}_${region}_${accountId}`;
}

/** The parts of a data source name, or undefined when it is not one. */
export function parseDataSourceName(
  name: string,
): { templateName: string; region: string; accountId: string } | undefined {
  const match = DATA_SOURCE_NAME.exec(name);
  if (!match) return undefined;
  return {
    templateName: match[1] as string,
    region: match[2] as string,
    accountId: match[3] as string,
  };
}

export const DATA_SOURCE_NAME_PATTERN = DATA_SOURCE_NAME;

export interface LogError {
  code: string;
  message: string;
  /** ISO 8601. */
  at: string;
}

/**
 * Logs that fell out of a Logstore's TTL before they were read: the checkpoint pointed at data
 * the service had removed, so reading went on from the oldest retained log. Never silent: kept on
 * the shard's checkpoint (the data source shows it) and in the activity log.
 */
export interface LogGap {
  project: string;
  logstore: string;
  shardId: number;
  /** Unix seconds: the earliest receive time of what may be lost (a lower bound). */
  from: number;
  /** Unix seconds: the receive time of the oldest retained log, where reading went on. */
  to: number;
  /** Logs lost, estimated from the shard's forwarding rate; null when there was no rate yet. */
  estimatedCount: number | null;
  /** ISO 8601: when it was found. */
  recordedAt: string;
}

/** Logs and bytes forwarded in one minute (epoch minute). */
export interface MinuteCount {
  minute: number;
  logs: number;
  bytes: number;
}

/**
 * One shard's progress, written only by the holder of the shard's lease and fenced by its token:
 * a commit applies only if no later holder has written, and only from the cursor it read.
 */
export interface ShardCheckpoint {
  dataSource: string;
  project: string;
  logstore: string;
  shardId: number;
  /** The policy generation the cursor belongs to; an older one starts again at consumeFrom. */
  generation: number;
  /** Where the next pull starts; absent until the first cursor was taken. */
  cursor?: string;
  /**
   * Log groups the next pull asks for (adapted to the groups' size at each commit). Kept with the
   * cursor so that a batch pulled again after a crash is the same batch: same start, same count,
   * so the same logs (more only at the shard's end), under the same batch id.
   */
  pullCount: number;
  /** A readonly shard read to its end: its children may be read. */
  finished: boolean;
  /** The fencing token of the last lease holder that wrote it. */
  fenceToken: bigint;
  /** Unix seconds, a lower bound of the receive time of the next unread log. */
  positionTime: number;
  logsForwarded: number;
  bytesForwarded: number;
  /** ISO 8601 times. */
  firstCommitAt?: string;
  committedAt?: string;
  lastPullAt?: string;
  lastDataAt?: string;
  /** Seconds the checkpoint was behind the shard's end at the last pull. */
  lagSeconds?: number;
  /** The last minutes' counts, newest last (at most LOG_RATE_WINDOW_MINUTES). */
  window: MinuteCount[];
  lastError?: LogError;
  /** Failures in a row (throttling included); 0 after a success. */
  failures: number;
  /** ISO 8601: not pulled again before (backoff after failures). */
  backoffUntil?: string;
  /** The most recent gaps, newest last (at most MAX_GAPS_KEPT). */
  gaps: LogGap[];
}

/** Minutes of counts a checkpoint keeps (logs and bytes per minute are their average). */
export const LOG_RATE_WINDOW_MINUTES = 5;
export const MAX_GAPS_KEPT = 10;

/**
 * What the planner last saw of a data source, written once per planning run: its shards'
 * checkpoints summed up, and what planning itself found (a member it could not reach, a
 * Logstore that does not exist).
 */
export interface DataSourceSnapshot {
  name: string;
  /** ISO 8601: when the planner wrote it. */
  at: string;
  generation: number;
  shards: number;
  shardsFinished: number;
  lastPullAt?: string;
  lastDataAt?: string;
  lagSeconds?: number;
  logsPerMinute: number;
  bytesPerMinute: number;
  logsForwarded: number;
  gapCount: number;
  /** The newest failure of planning or of a shard, when later than the last good pull. */
  error?: LogError;
  /** What planning itself ran into (a member it could not reach, a Logstore that is gone). */
  planningError?: LogError;
}

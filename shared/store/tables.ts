// Every table the application keeps, as typed schemas, and the search indexes over them. The
// schemas are the single source for the rows repositories read and write and for the tables
// `ensureStoreTables` creates; the declarations for the search indexes `ensureStoreSearchIndexes`
// creates.
//
// Times are int64 milliseconds since the epoch; versions and fencing tokens are int64.

import {
  column,
  declareSearchIndex,
  defineTable,
  type EnsureSearchIndexesReport,
  type EnsureTablesReport,
  ensureSearchIndexes,
  ensureTables,
  type SearchIndexDeclaration,
  type TableDefinition,
  type TablestoreClient,
  type TablestoreSearchClient,
} from '../cloud/tablestore';
import { ACTIVITY_OUTCOMES, type ActivityTarget } from '../domain/activity';
import type { ActivityCause } from '../domain/caller';
import { MAX_IDEMPOTENCY_TTL_SECONDS } from '../domain/idempotency';
import {
  DATA_SOURCE_TYPE,
  type LogError,
  type LogGap,
  type LogstoreAddress,
  type MinuteCount,
} from '../logs/model';
import {
  type FolderRef,
  JOIN_METHODS,
  MEMBER_STATUSES,
  type MemberFailure,
  SCOPE_KINDS,
} from '../onboarding/model';
import { ROLE_CHECK_STATES } from '../roles/model';
import { PROTOCOLS } from '../sessions/model';

export const DEFAULT_TABLE_PREFIX = 'rdg_';

/** Reconcile summaries are kept this long (90 days). */
export const RECONCILE_RUNS_TTL_SECONDS = 90 * 24 * 3600;

/** Onboarding runs and their chunks are kept this long (30 days). */
export const ONBOARDING_RUNS_TTL_SECONDS = 30 * 24 * 3600;

/** Session-audit sessions and events are kept this long by default (180 days). */
export const DEFAULT_SESSION_RETENTION_DAYS = 180;

export interface StoreTableOptions {
  /** Days the session index keeps a session and its events after their last write. */
  sessionRetentionDays?: number;
}

function stringArray(value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new TypeError('expected an array of strings');
  }
  return value;
}

function folderPath(value: unknown): FolderRef[] {
  if (
    !Array.isArray(value) ||
    !value.every((f) => typeof f?.id === 'string' && typeof f?.name === 'string')
  ) {
    throw new TypeError('expected an array of {id, name}');
  }
  return value;
}

function objectWith<T>(keys: string[]): (value: unknown) => T {
  return (value) => {
    if (typeof value !== 'object' || value === null) throw new TypeError('expected an object');
    for (const key of keys) {
      if (!(key in value)) throw new TypeError(`expected a ${key} field`);
    }
    return value as T;
  };
}

function arrayOf<T>(keys: string[]): (value: unknown) => T[] {
  const item = objectWith<T>(keys);
  return (value) => {
    if (!Array.isArray(value)) throw new TypeError('expected an array');
    return value.map(item);
  };
}

export function storeTables(
  prefix: string = DEFAULT_TABLE_PREFIX,
  options: StoreTableOptions = {},
) {
  const sessionTtl = (options.sessionRetentionDays ?? DEFAULT_SESSION_RETENTION_DAYS) * 24 * 3600;
  return {
    scopes: defineTable({
      name: `${prefix}scopes`,
      primaryKey: [['scopeId', 'string']],
      columns: {
        kind: column.oneOf(SCOPE_KINDS),
        targetId: column.string(),
        services: column.json(stringArray),
        createdBy: column.string(),
        createdAt: column.int64(),
        updatedAt: column.int64(),
        version: column.int64(),
      },
    }),

    members: defineTable({
      name: `${prefix}members`,
      primaryKey: [['accountId', 'string']],
      columns: {
        displayName: column.string().optional(),
        status: column.oneOf(MEMBER_STATUSES),
        scopeIds: column.json(stringArray),
        folderId: column.string().optional(),
        folderPath: column.json(folderPath).optional(),
        joinMethod: column.oneOf(JOIN_METHODS).optional(),
        lastReconcileAt: column.int64().optional(),
        failure: column.json(objectWith<MemberFailure>(['reason', 'at'])).optional(),
        createdAt: column.int64(),
        updatedAt: column.int64(),
        version: column.int64(),
      },
    }),

    roleChecks: defineTable({
      name: `${prefix}role_checks`,
      primaryKey: [
        ['accountId', 'string'],
        ['roleName', 'string'],
      ],
      columns: {
        service: column.string().optional(),
        state: column.oneOf(ROLE_CHECK_STATES),
        reason: column.string().optional(),
        checkedAt: column.int64(),
      },
    }),

    // Each entry is written twice: under stream `global` and under `account:<id>` when it
    // concerns an account, so both timelines are one GetRange each, newest first.
    activity: defineTable({
      name: `${prefix}activity`,
      primaryKey: [
        ['stream', 'string'],
        ['at', 'int64'],
        ['entryId', 'string'],
      ],
      columns: {
        accountId: column.string().optional(),
        cause: column.json(objectWith<ActivityCause>(['kind'])),
        action: column.string(),
        target: column.json(objectWith<ActivityTarget>(['type', 'id'])).optional(),
        outcome: column.oneOf(ACTIVITY_OUTCOMES),
        detail: column.string().optional(),
        requestId: column.string().optional(),
      },
    }),

    idempotency: defineTable({
      name: `${prefix}idempotency`,
      primaryKey: [['recordKey', 'string']],
      columns: {
        status: column.oneOf(['in_progress', 'completed'] as const),
        lockToken: column.string(),
        lockExpiresAt: column.int64(),
        expiresAt: column.int64(),
        payloadHash: column.string(),
        /** JSON text of the stored result; absent while in progress. */
        result: column.string().optional(),
        startedAt: column.int64(),
      },
      // Records live at most this long (makeIdempotent refuses a longer TTL).
      timeToLiveSeconds: MAX_IDEMPOTENCY_TTL_SECONDS,
    }),

    // Summaries of reconcile runs, newest last in key order: read backward for the latest.
    reconcileRuns: defineTable({
      name: `${prefix}reconcile_runs`,
      primaryKey: [
        ['kind', 'string'],
        ['startedAt', 'int64'],
        ['runId', 'string'],
      ],
      columns: {
        finishedAt: column.int64(),
        /** JSON text of the summary. */
        summary: column.string(),
      },
      timeToLiveSeconds: RECONCILE_RUNS_TTL_SECONDS,
    }),

    // Secrets the deployment makes for itself, one row each (see signing-keys.ts): never in an
    // environment variable, where the FC console would show them.
    keys: defineTable({
      name: `${prefix}keys`,
      primaryKey: [['keyName', 'string']],
      columns: {
        /** base64 of the key's bytes. */
        secret: column.string(),
        createdAt: column.int64(),
      },
    }),

    // Onboarding runs (shared/onboarding/runs.ts): part 0 is the run, parts 1..n its chunks, so
    // a run and its progress are one GetRange. `body` is the record's JSON (the accounts of a
    // chunk and their plans: a chunk of 250 accounts is about 100 KB, a column holds 2 MB).
    runs: defineTable({
      name: `${prefix}runs`,
      primaryKey: [
        ['runId', 'string'],
        ['part', 'int64'],
      ],
      columns: {
        body: column.json(objectWith<Record<string, unknown>>([])),
        createdAt: column.int64(),
        updatedAt: column.int64(),
        version: column.int64(),
      },
      timeToLiveSeconds: ONBOARDING_RUNS_TTL_SECONDS,
    }),

    // Session-audit sessions (shared/sessions), one row per (owner account, session), written
    // whole (PutRow) each time its events change; searched through sessionsSearchIndex.
    sessions: defineTable({
      name: `${prefix}sessions`,
      primaryKey: [
        ['ownerAccountId', 'string'],
        ['sessionId', 'string'],
      ],
      columns: {
        instanceId: column.string().optional(),
        userId: column.string().optional(),
        userName: column.string().optional(),
        clientIp: column.string().optional(),
        clientIpKey: column.string().optional(),
        assetName: column.string().optional(),
        assetAddress: column.string().optional(),
        assetPort: column.int64().optional(),
        assetAccount: column.string().optional(),
        protocol: column.oneOf(PROTOCOLS),
        protocolSource: column.oneOf(['record', 'event-type', 'asset-port', 'none'] as const),
        startTime: column.int64(),
        endTime: column.int64().optional(),
        ended: column.boolean(),
        lastEventTime: column.int64(),
        activeUntil: column.int64(),
        eventCount: column.int64(),
        commandCount: column.int64(),
        fileTransferCount: column.int64(),
        graphicalCount: column.int64(),
        sqlCount: column.int64(),
        blockedCount: column.int64(),
        region: column.string().optional(),
      },
      timeToLiveSeconds: sessionTtl,
      // The search index has a time to live, which needs rows written whole.
      allowUpdate: false,
    }),

    // The events of each session in time order (eventId: a digest of the record, so a record
    // delivered again is the same row).
    sessionEvents: defineTable({
      name: `${prefix}session_events`,
      primaryKey: [
        ['ownerAccountId', 'string'],
        ['sessionId', 'string'],
        ['eventTime', 'int64'],
        ['eventId', 'string'],
      ],
      columns: {
        eventType: column.string(),
        content: column.string().optional(),
        result: column.string().optional(),
        instanceId: column.string().optional(),
        userId: column.string().optional(),
        userName: column.string().optional(),
        clientIp: column.string().optional(),
        assetName: column.string().optional(),
        assetAddress: column.string().optional(),
        assetPort: column.int64().optional(),
        assetAccount: column.string().optional(),
        protocol: column.string().optional(),
        sessionStartTime: column.int64().optional(),
        sessionEndTime: column.int64().optional(),
        region: column.string().optional(),
        sourceProject: column.string().optional(),
        sourceLogstore: column.string().optional(),
      },
      timeToLiveSeconds: sessionTtl,
      allowUpdate: false,
    }),

    leases: defineTable({
      name: `${prefix}leases`,
      primaryKey: [['leaseName', 'string']],
      columns: {
        owner: column.string(),
        token: column.int64(),
        expiresAt: column.int64(),
        acquiredAt: column.int64(),
      },
    }),

    // Log integration (shared/logs): one policy per (template, member), in account order per
    // template.
    logPolicies: defineTable({
      name: `${prefix}log_policies`,
      primaryKey: [
        ['templateId', 'string'],
        ['accountId', 'string'],
      ],
      columns: {
        enabled: column.boolean(),
        autoAddNewLogstores: column.boolean(),
        consumeFrom: column.int64(),
        generation: column.int64(),
        changedBy: column.string(),
        createdAt: column.int64(),
        updatedAt: column.int64(),
        version: column.int64(),
      },
    }),

    // One data source per (template, region, member), by its name <Template>_<Region>_<UID>.
    logDataSources: defineTable({
      name: `${prefix}log_data_sources`,
      primaryKey: [['name', 'string']],
      columns: {
        type: column.oneOf([DATA_SOURCE_TYPE] as const),
        templateId: column.string(),
        accountId: column.string(),
        accountName: column.string().optional(),
        region: column.string(),
        enabled: column.boolean(),
        autoAddNewLogstores: column.boolean(),
        generation: column.int64(),
        consumeFrom: column.int64(),
        logstores: column.json(arrayOf<LogstoreAddress>(['project', 'logstore'])),
        discoveredAt: column.int64().optional(),
        createdAt: column.int64(),
        updatedAt: column.int64(),
        version: column.int64(),
      },
    }),

    // What the planner last saw of each data source (written once per planning run).
    logSnapshots: defineTable({
      name: `${prefix}log_snapshots`,
      primaryKey: [['name', 'string']],
      columns: {
        at: column.int64(),
        generation: column.int64(),
        shards: column.int64(),
        shardsFinished: column.int64(),
        lastPullAt: column.int64().optional(),
        lastDataAt: column.int64().optional(),
        lagSeconds: column.int64().optional(),
        logsPerMinute: column.double(),
        bytesPerMinute: column.double(),
        logsForwarded: column.int64(),
        gapCount: column.int64(),
        error: column.json(objectWith<LogError>(['code', 'message', 'at'])).optional(),
        planningError: column.json(objectWith<LogError>(['code', 'message', 'at'])).optional(),
      },
    }),

    // Each shard's checkpoint, per data source; written by the shard's lease holder, fenced by
    // its token (shared/store/log-checkpoints.ts).
    logCheckpoints: defineTable({
      name: `${prefix}log_checkpoints`,
      primaryKey: [
        ['dataSource', 'string'],
        ['shardKey', 'string'],
      ],
      columns: {
        project: column.string(),
        logstore: column.string(),
        shardId: column.int64(),
        generation: column.int64(),
        cursor: column.string().optional(),
        pullCount: column.int64(),
        finished: column.boolean(),
        fenceToken: column.int64(),
        positionTime: column.int64(),
        logsForwarded: column.int64(),
        bytesForwarded: column.int64(),
        firstCommitAt: column.int64().optional(),
        committedAt: column.int64().optional(),
        lastPullAt: column.int64().optional(),
        lastDataAt: column.int64().optional(),
        lagSeconds: column.int64().optional(),
        window: column.json(arrayOf<MinuteCount>(['minute', 'logs', 'bytes'])),
        lastError: column.json(objectWith<LogError>(['code', 'message', 'at'])).optional(),
        failures: column.int64(),
        backoffUntil: column.int64().optional(),
        gaps: column.json(arrayOf<LogGap>(['project', 'logstore', 'shardId', 'from', 'to'])),
      },
    }),
  };
}

export type StoreTables = ReturnType<typeof storeTables>;

export function storeTableDefinitions(
  prefix: string = DEFAULT_TABLE_PREFIX,
  options: StoreTableOptions = {},
): TableDefinition[] {
  return Object.values(storeTables(prefix, options)).map((table) => table.definition);
}

/** The family name of the sessions' search index (its versions: `sessions_v<n>`). */
export const SESSIONS_INDEX_FAMILY = 'sessions';

const keyword = { type: 'keyword' } as const;
const sortableKeyword = { type: 'keyword', sortAndAgg: true } as const;
const long = { type: 'long' } as const;
const sortableLong = { type: 'long', sortAndAgg: true } as const;

/**
 * Every column of a session is a field (so a search returns whole sessions from the index,
 * never reading the table): the filters of GET /v1/sessions, the sorts (start and end time),
 * and the groups of its summary (owner account, user name, protocol).
 */
export function sessionsSearchIndex(tables: StoreTables): SearchIndexDeclaration {
  return declareSearchIndex(tables.sessions, {
    family: SESSIONS_INDEX_FAMILY,
    version: 1,
    fields: {
      ownerAccountId: sortableKeyword,
      sessionId: keyword,
      instanceId: keyword,
      userId: keyword,
      userName: sortableKeyword,
      clientIp: keyword,
      clientIpKey: keyword,
      assetName: keyword,
      assetAddress: keyword,
      assetPort: long,
      assetAccount: keyword,
      protocol: sortableKeyword,
      protocolSource: keyword,
      startTime: sortableLong,
      endTime: sortableLong,
      ended: { type: 'boolean' },
      lastEventTime: long,
      activeUntil: long,
      eventCount: long,
      commandCount: long,
      fileTransferCount: long,
      graphicalCount: long,
      sqlCount: long,
      blockedCount: long,
      region: keyword,
    },
    timeToLiveSeconds: tables.sessions.definition.timeToLiveSeconds ?? -1,
  });
}

/**
 * Creates the application's tables where missing and verifies the rest. Call at deployment
 * setup and at local start; safe to call concurrently and repeatedly.
 */
export function ensureStoreTables(
  client: TablestoreClient,
  options: { prefix?: string } & StoreTableOptions = {},
): Promise<EnsureTablesReport> {
  return ensureTables(client, storeTableDefinitions(options.prefix, options));
}

/**
 * The search indexes over the store's tables, each declared with declareSearchIndex beside the
 * table it indexes (its fields name the table's columns; a changed schema is a new version,
 * README "Search indexes").
 */
export function storeSearchIndexes(tables: StoreTables = storeTables()): SearchIndexDeclaration[] {
  return [sessionsSearchIndex(tables)];
}

/**
 * Creates the declared search indexes where missing, verifies the rest, and retires versions a
 * newer declaration replaced once it has synced. Call at deployment setup, after
 * ensureStoreTables; safe to call concurrently and repeatedly.
 */
export function ensureStoreSearchIndexes(
  client: TablestoreSearchClient,
  options: { prefix?: string } & StoreTableOptions = {},
): Promise<EnsureSearchIndexesReport> {
  return ensureSearchIndexes(client, storeSearchIndexes(storeTables(options.prefix, options)));
}

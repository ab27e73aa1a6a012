// The application's state in Tablestore: the repositories and logs the capabilities' ports
// describe (shared/onboarding/ports.ts, shared/roles/ports.ts, shared/domain), implemented over
// the Tablestore adapter. Only shared/wiring builds a store; capabilities see only their ports.

import {
  selectSearchIndex,
  type TablestoreClient,
  type TablestoreSearchClient,
} from '../cloud/tablestore';
import { type Clock, systemClock } from '../domain/clock';
import { createCursorCodec } from '../domain/cursor';
import { TablestoreActivityLog } from './activity';
import { TablestoreIdempotencyStore } from './idempotency';
import { TablestoreLeaseStore } from './lease';
import { TablestoreCheckpointStore } from './log-checkpoints';
import { TablestoreDataSourceRepository, TablestoreSnapshotRepository } from './log-data-sources';
import { TablestorePolicyRepository } from './log-policies';
import { TablestoreMemberRepository } from './members';
import { TablestoreReconcileRunLog } from './reconcile-runs';
import { TablestoreRoleCheckRepository } from './role-checks';
import { TablestoreRunStore } from './runs';
import { TablestoreScopeRepository } from './scopes';
import { TablestoreSessionIndex } from './sessions';
import { ensureSigningKey } from './signing-keys';
import { DEFAULT_TABLE_PREFIX, sessionsSearchIndex, storeTables } from './tables';

export * from './activity';
export * from './idempotency';
export * from './lease';
export * from './log-checkpoints';
export * from './log-data-sources';
export * from './log-policies';
export * from './members';
export * from './reconcile-runs';
export * from './role-checks';
export * from './runs';
export * from './scopes';
export { sessionFilterQuery, TablestoreSessionIndex } from './sessions';
export { CURSOR_SIGNING_KEY, ensureSigningKey } from './signing-keys';
export {
  DEFAULT_SESSION_RETENTION_DAYS,
  DEFAULT_TABLE_PREFIX,
  ensureStoreSearchIndexes,
  ensureStoreTables,
  RECONCILE_RUNS_TTL_SECONDS,
  type StoreTableOptions,
  type StoreTables,
  sessionsSearchIndex,
  storeSearchIndexes,
  storeTableDefinitions,
  storeTables,
} from './tables';

export interface Store {
  scopes: TablestoreScopeRepository;
  members: TablestoreMemberRepository;
  roleChecks: TablestoreRoleCheckRepository;
  activity: TablestoreActivityLog;
  idempotency: TablestoreIdempotencyStore;
  leases: TablestoreLeaseStore;
  reconcileRuns: TablestoreReconcileRunLog;
  logPolicies: TablestorePolicyRepository;
  logDataSources: TablestoreDataSourceRepository;
  logSnapshots: TablestoreSnapshotRepository;
  logCheckpoints: TablestoreCheckpointStore;
  runs: TablestoreRunStore;
}

export function createStore(options: {
  client: TablestoreClient;
  /** Table name prefix; default `rdg_`. */
  tablePrefix?: string;
  clock?: Clock;
}): Store {
  const tables = storeTables(options.tablePrefix ?? DEFAULT_TABLE_PREFIX);
  const clock = options.clock ?? systemClock;
  const { client } = options;
  // One codec for every paged listing, its key read (or made) at the first cursor.
  const cursors = createCursorCodec(
    async () => (await ensureSigningKey(client, tables, undefined, clock)).key,
  );
  return {
    scopes: new TablestoreScopeRepository(client, tables, clock),
    members: new TablestoreMemberRepository(client, tables, cursors, clock),
    roleChecks: new TablestoreRoleCheckRepository(client, tables, clock),
    activity: new TablestoreActivityLog(client, tables, cursors, clock),
    idempotency: new TablestoreIdempotencyStore(client, tables, clock),
    leases: new TablestoreLeaseStore(client, tables, clock),
    reconcileRuns: new TablestoreReconcileRunLog(client, tables, cursors, clock),
    logPolicies: new TablestorePolicyRepository(client, tables, cursors, clock),
    logDataSources: new TablestoreDataSourceRepository(client, tables, cursors, clock),
    logSnapshots: new TablestoreSnapshotRepository(client, tables, clock),
    logCheckpoints: new TablestoreCheckpointStore(client, tables, clock),
    runs: new TablestoreRunStore(client, tables, clock),
  };
}

/**
 * The session index (shared/sessions ports) over a client of rows and of search indexes. Its
 * tables' retention does not matter here (setup applies it); queries use the sessions index's
 * newest synced version.
 */
export function createSessionIndex(options: {
  client: TablestoreClient & TablestoreSearchClient;
  tablePrefix?: string;
  clock?: Clock;
}): TablestoreSessionIndex {
  const tables = storeTables(options.tablePrefix ?? DEFAULT_TABLE_PREFIX);
  const { client } = options;
  const clock = options.clock ?? systemClock;
  const cursors = createCursorCodec(
    async () => (await ensureSigningKey(client, tables, undefined, clock)).key,
  );
  const index = selectSearchIndex(client, sessionsSearchIndex(tables), {
    now: () => clock.now(),
  });
  return new TablestoreSessionIndex(client, client, tables, cursors, index);
}

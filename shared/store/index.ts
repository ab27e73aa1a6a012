// The application's state in Tablestore: repositories for each kind of record, idempotency for
// handlers, leases for single-owner work. Capability code uses these; none of it sees the SDK.

import type { TablestoreClient } from '../cloud/tablestore';
import { ActivityLog } from './activity';
import { type Clock, systemClock } from './clock';
import { IdempotencyStore } from './idempotency';
import { LeaseStore } from './lease';
import { MemberRepository } from './members';
import { ReconcileRunLog } from './reconcile-runs';
import { RoleCheckRepository } from './role-checks';
import { ScopeRepository } from './scopes';
import { DEFAULT_TABLE_PREFIX, storeTables } from './tables';

export * from './activity';
export * from './clock';
export * from './errors';
export * from './idempotency';
export * from './lease';
export * from './lease-runner';
export * from './members';
export {
  MAX_PAGE_SIZE,
  type NewRecord,
  type Page,
  type PageRequest,
  type Versioned,
} from './persistence';
export * from './reconcile-runs';
export * from './role-checks';
export * from './scopes';
export {
  DEFAULT_TABLE_PREFIX,
  ensureStoreTables,
  IDEMPOTENCY_TABLE_TTL_SECONDS,
  MEMBER_STATUSES,
  RECONCILE_RUNS_TTL_SECONDS,
  SCOPE_KINDS,
  type StoreTables,
  storeTableDefinitions,
  storeTables,
} from './tables';

export interface Store {
  scopes: ScopeRepository;
  members: MemberRepository;
  roleChecks: RoleCheckRepository;
  activity: ActivityLog;
  idempotency: IdempotencyStore;
  leases: LeaseStore;
  reconcileRuns: ReconcileRunLog;
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
  return {
    scopes: new ScopeRepository(client, tables, clock),
    members: new MemberRepository(client, tables, clock),
    roleChecks: new RoleCheckRepository(client, tables, clock),
    activity: new ActivityLog(client, tables, clock),
    idempotency: new IdempotencyStore(client, tables, clock),
    leases: new LeaseStore(client, tables, clock),
    reconcileRuns: new ReconcileRunLog(client, tables, clock),
  };
}

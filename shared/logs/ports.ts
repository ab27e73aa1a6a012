// What the log-integration capability needs from the world, declared without any SDK or store:
// Simple Log Service (finding Logstores, reading a shard from a cursor, writing log groups; each
// is one account's Log Service in one region, shared/cloud/sls implements them with that
// account's credentials), reaching a member's Log Service, where policies, data sources,
// snapshots and checkpoints are kept (shared/store), shard leases, what it reads of the
// management scope and of the role checks, and FC async fan-out.
//
// Failures are CloudApiError (shared/errors.ts) with the cloud's code; throttling and outages are
// retried inside the adapter first. Two failures have their own type because a caller reacts to
// them: a missing project/Logstore/shard, and an invalid cursor.

import type { ActivityLog } from '../domain/activity';
import type { LeaseStore } from '../domain/lease';
import type { Page, PageRequest } from '../domain/paging';
import type { VersionedRepository } from '../domain/records';
import { CloudApiError, type CloudCallFailure } from '../errors';
import type { ManagedMember, Scope } from '../onboarding/model';
import type {
  CursorPosition,
  DataSource,
  DataSourceSnapshot,
  EncodedLogGroup,
  IntegrationPolicy,
  LogGroup,
  LogstoreAddress,
  LogstoreInfo,
  LogTag,
  ProjectInfo,
  PulledLogs,
  PutOutcome,
  Shard,
  ShardCheckpoint,
} from './model';

/** Finding Logstores in a project (the member's product projects, the central one). */
export interface LogstoreDiscovery {
  /** Every project of the region the credentials' account owns (ListProject, all pages). */
  listProjects(): Promise<string[]>;
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

/** Creating the central project and Logstore (the post-deploy setup). */
export interface LogstoreAdministration {
  /** `exists` when the credentials' account has it already; ProjectOwnedElsewhere when another
   *  account does (project names are unique in a region). */
  createProject(project: string, description: string): Promise<'created' | 'exists'>;
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

/**
 * One PutLogs: a log group, forwarded as pulled or built from logs, or several pulled groups
 * sharing topic, source and tags, merged into one (their logs in order, the first's other fields).
 */
export interface LogBatch {
  group: EncodedLogGroup | LogGroup | readonly EncodedLogGroup[];
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

/** A project name is unique in a region, and another account holds this one. */
export class ProjectOwnedElsewhere extends CloudApiError {}

// ------------------------------------------------------------------------- reaching members

/** One member's Log Service in one region, reached through its access role. */
export type MemberLogs = LogstoreDiscovery & LogSource;

export type MemberLogsResult =
  | { ok: true; logs: MemberLogs }
  /** AssumeRole was refused or failed: the member's role ARN and the reason. */
  | { ok: false; roleArn: string; reason: string; code: string };

/** A member's Log Service in a region; at most one AssumeRole per member while its session lasts. */
export type MemberLogAccess = (accountId: string, region: string) => Promise<MemberLogsResult>;

// ------------------------------------------------------------------------------- the store

export interface PolicyRepository extends VersionedRepository<IntegrationPolicy, string> {
  /** One page of a template's policies in account order. */
  pageForTemplate(templateId: string, request: PageRequest): Promise<Page<IntegrationPolicy>>;
}

export interface DataSourceRepository extends VersionedRepository<DataSource, string> {
  /** One page in name order. */
  page(request: PageRequest): Promise<Page<DataSource>>;
}

/** The planner's view of each data source, one row per data source, newest kept. */
export interface SnapshotRepository {
  put(snapshot: DataSourceSnapshot): Promise<void>;
  get(name: string): Promise<DataSourceSnapshot | undefined>;
  list(): Promise<DataSourceSnapshot[]>;
  delete(name: string): Promise<void>;
}

export interface ShardRef {
  dataSource: string;
  project: string;
  logstore: string;
  shardId: number;
}

/**
 * Shard checkpoints, fenced by lease tokens: `claim` stamps a holder's token on the row (only if
 * every token written before is smaller), and `commit` writes only while the row still carries
 * that token, so a holder that lost its lease can no longer move the checkpoint.
 */
export interface CheckpointStore {
  get(shard: ShardRef): Promise<ShardCheckpoint | undefined>;
  listForDataSource(name: string): Promise<ShardCheckpoint[]>;
  /** `absent`: no row yet (create one); `superseded`: a later holder has written. */
  claim(shard: ShardRef, token: bigint): Promise<'claimed' | 'absent' | 'superseded'>;
  /** A first row; false when one exists already. */
  create(checkpoint: ShardCheckpoint): Promise<boolean>;
  /** Writes the row if it still carries `checkpoint.fenceToken`; false otherwise. */
  commit(checkpoint: ShardCheckpoint): Promise<boolean>;
  deleteForDataSource(name: string): Promise<number>;
}

/** Leases, and which ones are held now (the planner leaves held shards alone). */
export interface ShardLeaseStore extends LeaseStore {
  /** Names of the unexpired leases whose name starts with `prefix`. */
  heldNames(prefix: string): Promise<string[]>;
}

/** What the capability reads of the management scope (onboarding owns it). */
export interface ManagementScopeReader {
  members: {
    get(accountId: string): Promise<ManagedMember | undefined>;
    list(): Promise<ManagedMember[]>;
  };
  scopes: { list(): Promise<Scope[]> };
}

export interface LogIntegrationStore {
  policies: PolicyRepository;
  dataSources: DataSourceRepository;
  snapshots: SnapshotRepository;
  checkpoints: CheckpointStore;
  leases: ShardLeaseStore;
  activity: Pick<ActivityLog, 'append'>;
  management: ManagementScopeReader;
}

/** A member's service-linked roles as the role checks last found them (diagnosis step 3). */
export interface MemberRoleStatus {
  needed: Array<{ roleName: string; services: string[] }>;
  checks: Array<{ roleName: string; state: string; reason?: string; checkedAt: string }>;
}

/** The roles `services` need in the member, and the member's last role checks. */
export type MemberRoleStatusReader = (
  accountId: string,
  services: readonly string[],
) => Promise<MemberRoleStatus>;

/** FC async invocation of the worker function. */
export interface WorkerFanOut {
  invokeAsync(functionName: string, payload: unknown): Promise<{ requestId: string }>;
}

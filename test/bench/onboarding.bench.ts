// Onboarding a directory scope (issue 4): a directory of 1,000 members behind 50 ms of injected
// latency on every cloud call, onboarded through the production adapters (ResourceManager, STS,
// Tablestore over the official SDKs) against localcloud in memory. Not part of the test run.
//
//   npm run bench onboarding [-- --members N --latency MS --concurrency 16,32 --in-process]
//
// Each concurrency runs in its own process (same cold start for every column) against its own
// fresh localcloud, in memory on port 0. localcloud runs in a child process of that one by
// default, so its own CPU (request parsing, signature checks, the Tablestore emulator) does not
// queue on the application's event loop, as the cloud's would not; --in-process hosts it in the
// application's process instead. Either way it is driven through its HTTP controls.
//
// Per run:
//   1. with a directory scope stored, reconcile() onboards every member (the work a scope
//      change's run spreads over its lanes, here in one process): wall time; cloud calls by service and
//      action (localcloud's call log), each count split into whole calls per member and the rest
//      (fixed). Ideal = members x per-member calls x latency / concurrency. Target <= 1.5 x ideal,
//      held at the deployed default concurrency (16) and shown for the others.
//      Where the time goes: before the first member (lease, prerequisites, scope, directory
//      snapshot), the members, after the last member; and each call's mean time as the
//      application saw it next to localcloud's own time for it (latency included).
//   2. reconcile() with nothing changed: wall time and the writes it made, by table. Target: no
//      write to member state (members, activity, role checks, scopes); its own bookkeeping
//      (lease, reconcile run summary, idempotency) may write.
//
// localcloud's call log names service and action but not the table, so writes are attributed to
// tables by a counting wrapper around the Tablestore adapter the store uses, and checked
// independently by a digest of every row of the member-state tables before and after.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { CallRecord, LocalCloudEnv, NewFaultRule } from '../../localcloud/index';
import {
  ACCESS_ROLE_NAME,
  buildOrganization,
  DEFAULT_TABLESTORE_INSTANCE,
  startLocalCloud,
} from '../../localcloud/index';
import { createResourceManagerDirectory } from '../../shared/cloud/resourcemanager/directory-source';
import {
  type AssumeRole,
  createMemberCredentialCache,
  createStsAssumeRole,
  MemberAccess,
  memberProbe,
  roleSessionName,
} from '../../shared/cloud/sts';
import {
  createTablestoreClient,
  INF_MAX,
  INF_MIN,
  type TablestoreClient,
} from '../../shared/cloud/tablestore';
import type { Caller } from '../../shared/domain/caller';
import { Membership } from '../../shared/onboarding/membership';
import { scopeIdFor } from '../../shared/onboarding/model';
import type { MemberProbe } from '../../shared/onboarding/ports';
import { createStore, ensureStoreTables, storeTables } from '../../shared/store';
import { BenchArgs } from './support/args';

const TARGET_RATIO = 1.5;
/** The deployed default (RECONCILE_CONCURRENCY in s.yaml): the time target is held there; other
 *  concurrencies are shown beside it. The no-write target holds at every concurrency. */
const GATED_CONCURRENCY = 16;
const MEMBER_STATE = ['members', 'activity', 'roleChecks', 'scopes'] as const;
const BOOKKEEPING = ['leases', 'reconcileRuns', 'idempotency'] as const;
const WRITE_ACTIONS = new Set(['PutRow', 'UpdateRow', 'DeleteRow', 'BatchWriteRow']);
const WRITE_METHODS = new Set(['putRow', 'updateRow', 'deleteRow', 'batchWriteRows']);
const THIS_FILE = fileURLToPath(import.meta.url);
const SERVE_FLAG = '--serve-localcloud';
const WORKER_FLAG = '--worker';
const RESULT_PREFIX = 'RESULT ';

interface Args {
  members: number;
  latencyMs: number;
  concurrencies: number[];
  inProcess: boolean;
}

function parseArgs(argv: string[]): Args {
  const args = new BenchArgs(argv);
  return {
    members: args.integer('--members', 1000, 1),
    latencyMs: args.positive('--latency', 50),
    concurrencies: args.integers('--concurrency', [16, 32], 1),
    inProcess: args.has('--in-process'),
  };
}

function argsToArgv(args: Args, concurrency: number): string[] {
  return [
    '--members',
    String(args.members),
    '--latency',
    String(args.latencyMs),
    '--concurrency',
    String(concurrency),
    ...(args.inProcess ? ['--in-process'] : []),
  ];
}

/** This file with `argv`, in a new node process (stdout piped, stderr shared). */
function spawnSelf(argv: string[], stdin: 'pipe' | 'ignore') {
  return spawn(process.execPath, ['--import', 'tsx', THIS_FILE, ...argv], {
    stdio: [stdin, 'pipe', 'inherit'],
  });
}

// ---------------------------------------------------------------------------------------------
// localcloud: in the application's process or in a child, driven through its HTTP controls

interface Ready {
  url: string;
  /** Members whose access role exists and trusts the management account. */
  accessRoleOk: number;
}

/** `members` onboardable members, plus one delegated administrator (member-0001). */
async function startHosted(members: number): Promise<Ready & { stop(): Promise<void> }> {
  const cloud = await startLocalCloud({
    port: 0,
    organization: buildOrganization({ members: members + 1, seed: 'onboarding-bench' }),
  });
  const trusted = `acs:ram::${cloud.env.managementAccountId}:root`;
  const accessRoleOk = cloud.env.accounts.filter(
    (a) =>
      a.kind === 'member' &&
      cloud.organization.findRole(a.id, ACCESS_ROLE_NAME)?.trustPolicy.includes(trusted),
  ).length;
  return { url: cloud.url, accessRoleOk, stop: () => cloud.stop() };
}

/** Milliseconds of CPU this process has used. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * The localcloud child: prints `Ready` as its first line, then answers each `cpu` line on stdin
 * with its CPU time so far; stops when stdin closes or on SIGTERM.
 */
async function serveLocalCloud(members: number): Promise<void> {
  const { stop, ...ready } = await startHosted(members);
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', shutdown);
  const input = createInterface({ input: process.stdin });
  input.on('line', (line) => {
    if (line.trim() === 'cpu') process.stdout.write(`${JSON.stringify({ cpuMs: cpuMs() })}\n`);
  });
  input.on('close', shutdown);
  process.stdout.write(`${JSON.stringify(ready satisfies Ready)}\n`);
}

interface CloudHandle extends Ready {
  /** CPU time localcloud has used so far; undefined when it shares this process. */
  cpuMs(): Promise<number | undefined>;
  stop(): Promise<void>;
}

async function startCloud(args: Args): Promise<CloudHandle> {
  if (args.inProcess) {
    const hosted = await startHosted(args.members);
    return { ...hosted, cpuMs: async () => undefined };
  }
  const child = spawnSelf([SERVE_FLAG, '--members', String(args.members)], 'pipe');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (!child.stdout || !child.stdin) throw new Error('localcloud child has no stdio');
  const stdin = child.stdin;
  const lines = createInterface({ input: child.stdout });
  const waiting: Array<(line: string) => void> = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const nextLine = () =>
    new Promise<string>((resolve, reject) => {
      waiting.push(resolve);
      child.once('exit', (code) => reject(new Error(`localcloud child exited (${code})`)));
    });
  const ready = JSON.parse(await nextLine()) as Ready;
  return {
    ...ready,
    async cpuMs() {
      const answer = nextLine();
      stdin.write('cpu\n');
      return (JSON.parse(await answer) as { cpuMs: number }).cpuMs;
    },
    async stop() {
      lines.close();
      stdin.end();
      await exited;
    },
  };
}

async function control<T>(url: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${url}/__localcloud${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`localcloud control ${method} ${path}: ${response.status}`);
  return (await response.json()) as T;
}

// ---------------------------------------------------------------------------------------------
// Instrumentation: what the store asks of Tablestore, by method and table, and how long it took

interface TallyEntry {
  calls: number;
  rows: number;
  /** Sum of the calls' durations as the application saw them. */
  ms: number;
}
type Tally = Map<string, TallyEntry>;

class Recorder {
  tally: Tally = new Map();
  /** End of the last write per table (performance.now()). */
  lastWriteEnd = new Map<string, number>();
  firstProbeAt: number | undefined;
  assumeRole = { calls: 0, ms: 0 };

  reset(): void {
    this.tally = new Map();
    this.lastWriteEnd = new Map();
    this.firstProbeAt = undefined;
    this.assumeRole = { calls: 0, ms: 0 };
  }

  async time<T>(method: string, table: string, rows: number, call: () => Promise<T>): Promise<T> {
    const tally = this.tally;
    const started = performance.now();
    try {
      return await call();
    } finally {
      const ended = performance.now();
      const key = `${method} ${table}`;
      const entry = tally.get(key) ?? { calls: 0, rows: 0, ms: 0 };
      entry.calls += 1;
      entry.rows += rows;
      entry.ms += ended - started;
      tally.set(key, entry);
      if (WRITE_METHODS.has(method)) this.lastWriteEnd.set(table, ended);
    }
  }

  count(method: string, table: string): void {
    const entry = this.tally.get(`${method} ${table}`) ?? { calls: 0, rows: 0, ms: 0 };
    entry.calls += 1;
    entry.rows += 1;
    this.tally.set(`${method} ${table}`, entry);
  }
}

function recordingClient(inner: TablestoreClient, rec: Recorder): TablestoreClient {
  return {
    getRow: (table, primaryKey, options) =>
      rec.time('getRow', table, 1, () => inner.getRow(table, primaryKey, options)),
    putRow: (table, primaryKey, columns, options) =>
      rec.time('putRow', table, 1, () => inner.putRow(table, primaryKey, columns, options)),
    updateRow: (table, primaryKey, update, options) =>
      rec.time('updateRow', table, 1, () => inner.updateRow(table, primaryKey, update, options)),
    deleteRow: (table, primaryKey, options) =>
      rec.time('deleteRow', table, 1, () => inner.deleteRow(table, primaryKey, options)),
    getRange: (request) => rec.time('getRange', request.table, 1, () => inner.getRange(request)),
    iterateRange: (request) => {
      rec.count('iterateRange', request.table);
      return inner.iterateRange(request);
    },
    batchGetRows: (table, keys, options) =>
      rec.time('batchGetRows', table, keys.length, () => inner.batchGetRows(table, keys, options)),
    batchWriteRows: (writes) => {
      const tables = [...new Set(writes.map((w) => w.table))];
      const rows = writes.length;
      // Attributed to the (usually only) table of the batch; a mixed batch names them all.
      return rec.time('batchWriteRows', tables.join('+'), rows, () => inner.batchWriteRows(writes));
    },
    listTables: () => inner.listTables(),
    describeTable: (table) => inner.describeTable(table),
    createTable: (definition) => inner.createTable(definition),
    updateTableOptions: (table, options) => inner.updateTableOptions(table, options),
    createIndex: (table, index) => inner.createIndex(table, index),
    deleteTable: (table) => inner.deleteTable(table),
  };
}

function recordingAssumeRole(inner: AssumeRole, rec: Recorder): AssumeRole {
  return async (input) => {
    const started = performance.now();
    try {
      return await inner(input);
    } finally {
      rec.assumeRole.calls += 1;
      rec.assumeRole.ms += performance.now() - started;
    }
  };
}

function recordingProbe(inner: MemberProbe, rec: Recorder): MemberProbe {
  return {
    roleArn: (accountId) => inner.roleArn(accountId),
    probe: (accountId) => {
      rec.firstProbeAt ??= performance.now();
      return inner.probe(accountId);
    },
  };
}

/** Write calls per table (a mixed batch counts for each table it names). */
function writesByTable(tally: ReadonlyArray<[string, TallyEntry]>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, { calls }] of tally) {
    const [method = '', tables = ''] = key.split(' ');
    if (!WRITE_METHODS.has(method)) continue;
    for (const table of tables.split('+')) out.set(table, (out.get(table) ?? 0) + calls);
  }
  return out;
}

/** A digest of every row of a table (keys, columns, versions, timestamps), and its row count. */
async function tableDigest(
  client: TablestoreClient,
  table: { name: string; definition: { primaryKey: ReadonlyArray<{ name: string }> } },
): Promise<{ rows: number; digest: string }> {
  const hash = createHash('sha256');
  let rows = 0;
  for await (const row of client.iterateRange({
    table: table.name,
    start: table.definition.primaryKey.map((c) => [c.name, INF_MIN] as const),
    end: table.definition.primaryKey.map((c) => [c.name, INF_MAX] as const),
    pageSize: 5000,
  })) {
    rows += 1;
    hash.update(
      JSON.stringify([row.primaryKey, Object.entries(row.columns).sort()], (_, v: unknown) =>
        typeof v === 'bigint' ? `${v}n` : v,
      ),
    );
  }
  return { rows, digest: hash.digest('hex') };
}

// ---------------------------------------------------------------------------------------------
// One run (a worker process): a fresh localcloud, onboard everyone, then reconcile again

interface ActionCount {
  key: string;
  count: number;
  /** Whole calls per member (count div members); the rest is fixed. */
  perMember: number;
  fixed: number;
  /** Mean time localcloud took to answer (the injected latency included). */
  serverMs: number;
}

interface RunResult {
  concurrency: number;
  members: number;
  accessRoleOk: number;
  onboardMs: number;
  /** CPU time of the worker process while onboarding (with localcloud's when in process). */
  onboardCpuMs: number;
  /** CPU time of the localcloud child while onboarding (absent when in process). */
  localcloudCpuMs?: number;
  setupMs: number;
  memberPhaseMs: number;
  tailMs: number;
  managed: number;
  failed: number;
  skipped: number;
  calls: ActionCount[];
  totalCalls: number;
  perMemberCalls: number;
  fixedCalls: number;
  idealMs: number;
  ratio: number;
  delayedCalls: number;
  assumeRole: { calls: number; ms: number };
  onboardTally: Array<[string, TallyEntry]>;
  reconcileMs: number;
  reconcileCalls: ActionCount[];
  reconcileWireWrites: number;
  reconcileTally: Array<[string, TallyEntry]>;
  memberStateWrites: number;
  bookkeepingWrites: number;
  digestsUnchanged: boolean;
  digestRows: Record<string, number>;
  reconcileUnchanged: number;
  reconcileOther: number;
}

function countActions(calls: readonly CallRecord[], members: number): ActionCount[] {
  const counts = new Map<string, { count: number; ms: number }>();
  for (const c of calls) {
    const key = `${c.service} ${c.action}`;
    const entry = counts.get(key) ?? { count: 0, ms: 0 };
    entry.count += 1;
    entry.ms += c.durationMs;
    counts.set(key, entry);
  }
  return [...counts]
    .map(([key, { count, ms }]) => {
      const perMember = Math.floor(count / members);
      return { key, count, perMember, fixed: count - perMember * members, serverMs: ms / count };
    })
    .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}

async function runOnce(args: Args, concurrency: number): Promise<RunResult> {
  const cloud = await startCloud(args);
  try {
    const env = await control<LocalCloudEnv>(cloud.url, 'GET', '/env');
    const management = env.accounts.find((a) => a.kind === 'management');
    if (!management) throw new Error('localcloud has no management account');
    const memberCount = env.accounts.filter((a) => a.kind === 'member').length;
    if (memberCount !== args.members) {
      throw new Error(`expected ${args.members} members, localcloud has ${memberCount}`);
    }
    const callLog = async () =>
      (await control<{ calls: CallRecord[] }>(cloud.url, 'GET', '/calls')).calls;
    const clearCallLog = () => control(cloud.url, 'DELETE', '/calls');

    // The production adapters, with the management account's administrator keys.
    const credentials = {
      accessKeyId: management.accessKeyId,
      accessKeySecret: management.accessKeySecret,
    };
    const raw = createTablestoreClient({
      endpoint: cloud.url,
      instanceName: DEFAULT_TABLESTORE_INSTANCE,
      credentials: () => credentials,
    });
    await ensureStoreTables(raw);
    const rec = new Recorder();
    const store = createStore({ client: recordingClient(raw, rec) });
    const directory = createResourceManagerDirectory({
      endpoint: env.endpoints.resourcemanager,
      protocol: 'http',
      credentials,
      accountId: management.id,
    });
    const access = new MemberAccess({
      roleName: ACCESS_ROLE_NAME,
      cache: createMemberCredentialCache(),
      sessionName: roleSessionName('onboarding-bench', `c${concurrency}`),
      assumeRole: recordingAssumeRole(
        createStsAssumeRole({
          endpoint: env.endpoints.sts,
          protocol: 'http',
          credentials,
          callerAccountId: management.id,
        }),
        rec,
      ),
    });
    const membership = new Membership({
      store,
      directory,
      probe: recordingProbe(memberProbe(access), rec),
      settings: { callerAccountId: management.id, memberAccessRole: ACCESS_ROLE_NAME },
      concurrency,
    });
    const caller: Caller = { cause: { kind: 'user', identity: 'onboarding-bench' } };

    // The directory scope, stored as a scope change stores it; the reconcile below onboards what
    // it covers in this one process (what each lane of a scope change's run does in a worker;
    // onboarding-run.bench.ts runs the whole change through the function host).
    const root = await directory.readRoot();
    await store.scopes.create({
      id: scopeIdFor('directory', root.resourceDirectoryId),
      kind: 'directory',
      targetId: root.resourceDirectoryId,
      services: ['bdrc'],
      createdBy: 'user:onboarding-bench',
    });

    // Latency on every action of every service, Tablestore included, now that the tables exist.
    const latency: NewFaultRule = {
      service: '*',
      action: '*',
      kind: 'latency',
      rate: 1,
      latencyMs: args.latencyMs,
    };
    await control(cloud.url, 'POST', '/faults', latency);

    // ---- 1. Onboard everyone
    await clearCallLog();
    rec.reset();
    const cpu0 = cpuMs();
    const cloudCpu0 = await cloud.cpuMs();
    const t0 = performance.now();
    const summary = await membership.reconcile(caller);
    const t1 = performance.now();
    const onboardCpuMs = cpuMs() - cpu0;
    const cloudCpu1 = await cloud.cpuMs();
    const onboardCalls = await callLog();
    const tables = storeTables();
    const firstProbeAt = rec.firstProbeAt ?? t0;
    const lastMemberWrite = Math.max(
      rec.lastWriteEnd.get(tables.members.name) ?? firstProbeAt,
      rec.lastWriteEnd.get(tables.activity.name) ?? firstProbeAt,
    );
    const onboardTally = [...rec.tally];
    const assumeRole = { ...rec.assumeRole };
    const managed = (await store.members.list()).filter((m) => m.status === 'managed').length;

    const actions = countActions(onboardCalls, args.members);
    const perMemberCalls = actions.reduce((sum, c) => sum + c.perMember, 0);
    const fixedCalls = actions.reduce((sum, c) => sum + c.fixed, 0);
    const idealMs = (args.members * perMemberCalls * args.latencyMs) / concurrency;

    // ---- 2. Reconcile with nothing changed
    const digest = async () => {
      const out: Record<string, { rows: number; digest: string }> = {};
      for (const name of MEMBER_STATE) out[name] = await tableDigest(raw, tables[name]);
      return out;
    };
    const before = await digest();
    await clearCallLog();
    rec.reset();
    const t2 = performance.now();
    const second = await membership.reconcile(caller);
    const reconcileMs = performance.now() - t2;
    const reconcileWire = await callLog();
    const reconcileTally = [...rec.tally];
    const after = await digest();

    const byTable = writesByTable(reconcileTally);
    const sumWrites = (names: readonly (keyof typeof tables)[]) =>
      names.reduce((sum, n) => sum + (byTable.get(tables[n].name) ?? 0), 0);

    return {
      concurrency,
      members: args.members,
      accessRoleOk: cloud.accessRoleOk,
      onboardMs: t1 - t0,
      onboardCpuMs,
      ...(cloudCpu0 !== undefined && cloudCpu1 !== undefined
        ? { localcloudCpuMs: cloudCpu1 - cloudCpu0 }
        : {}),
      setupMs: firstProbeAt - t0,
      memberPhaseMs: lastMemberWrite - firstProbeAt,
      tailMs: t1 - lastMemberWrite,
      managed,
      failed: summary.failed.length,
      skipped: summary.skipped.length,
      calls: actions,
      totalCalls: onboardCalls.length,
      perMemberCalls,
      fixedCalls,
      idealMs,
      ratio: (t1 - t0) / idealMs,
      delayedCalls: onboardCalls.filter((c) => c.injected).length,
      assumeRole,
      onboardTally,
      reconcileMs,
      reconcileCalls: countActions(reconcileWire, args.members),
      reconcileWireWrites: reconcileWire.filter(
        (c) => c.service === 'tablestore' && WRITE_ACTIONS.has(c.action),
      ).length,
      reconcileTally,
      memberStateWrites: sumWrites(MEMBER_STATE),
      bookkeepingWrites: sumWrites(BOOKKEEPING),
      digestsUnchanged: MEMBER_STATE.every(
        (n) => before[n]?.digest === after[n]?.digest && before[n]?.rows === after[n]?.rows,
      ),
      digestRows: Object.fromEntries(MEMBER_STATE.map((n) => [n, after[n]?.rows ?? 0])),
      reconcileUnchanged: second.unchanged,
      reconcileOther:
        second.added.length +
        second.removed.length +
        second.moved.length +
        second.updated.length +
        second.failed.length,
    };
  } finally {
    await cloud.stop();
  }
}

/** Runs one concurrency in a fresh process and reads its result. */
async function runInWorker(args: Args, concurrency: number): Promise<RunResult> {
  const child = spawnSelf([WORKER_FLAG, ...argsToArgv(args, concurrency)], 'ignore');
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
  let output = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    output += chunk;
  });
  const code = await exited;
  const line = output.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
  if (code !== 0 || !line)
    throw new Error(`the run at concurrency ${concurrency} failed (${code})`);
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as RunResult;
}

// ---------------------------------------------------------------------------------------------
// Printing

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  console.log(fmt(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(fmt(r));
}

const ms = (n: number) => `${n.toFixed(0)} ms`;

/** Whether the time target applies to this run (see GATED_CONCURRENCY). */
function gated(r: RunResult, all: readonly RunResult[]): boolean {
  return (
    r.concurrency === GATED_CONCURRENCY || !all.some((x) => x.concurrency === GATED_CONCURRENCY)
  );
}

/** Sum over one member's calls of their mean duration as the application saw it. */
function perMemberAppMs(r: RunResult): number {
  const perCall = (entry: TallyEntry | undefined) => (entry ? entry.ms / entry.calls : 0);
  const tally = new Map(r.onboardTally);
  return (
    perCall({ ...r.assumeRole, rows: r.assumeRole.calls }) +
    perCall(tally.get('putRow rdg_members')) +
    perCall(tally.get('batchWriteRows rdg_activity'))
  );
}

/** Sum over the per-member actions of localcloud's mean time per call, weighted per member. */
function perMemberServerMs(r: RunResult): number {
  return r.calls.reduce((sum, c) => sum + c.perMember * c.serverMs, 0);
}
const mean = (total: number, count: number) => (count > 0 ? (total / count).toFixed(1) : '-');

function printSummary(args: Args, results: RunResult[]): void {
  const col = (f: (r: RunResult) => string) => results.map(f);
  console.log(
    `\nOnboarding a directory scope: ${args.members} members (+1 delegated administrator), ${args.latencyMs} ms injected latency on every cloud call, localcloud in memory ${args.inProcess ? 'in the application process' : 'in a child process'}\n`,
  );
  printTable(
    ['', ...results.map((r) => `concurrency ${r.concurrency}`)],
    [
      [
        'members whose access role trusts management',
        ...col((r) => `${r.accessRoleOk} / ${r.members}`),
      ],
      ['onboard all: wall time', ...col((r) => ms(r.onboardMs))],
      [
        `  application CPU time${args.inProcess ? ' (localcloud included)' : ''}`,
        ...col((r) => ms(r.onboardCpuMs)),
      ],
      ...(args.inProcess
        ? []
        : [['  localcloud CPU time (child process)', ...col((r) => ms(r.localcloudCpuMs ?? 0))]]),
      ['  before the first member', ...col((r) => ms(r.setupMs))],
      ['  members (first AssumeRole to last member write)', ...col((r) => ms(r.memberPhaseMs))],
      ['  after the last member', ...col((r) => ms(r.tailMs))],
      [
        'members managed / failed / skipped (admins)',
        ...col((r) => `${r.managed} / ${r.failed} / ${r.skipped}`),
      ],
      ['cloud calls (of them delayed)', ...col((r) => `${r.totalCalls} (${r.delayedCalls})`)],
      ['  per member', ...col((r) => String(r.perMemberCalls))],
      ['  fixed', ...col((r) => String(r.fixedCalls))],
      [
        `ideal: members x per-member calls x ${args.latencyMs} ms / concurrency`,
        ...col((r) => ms(r.idealMs)),
      ],
      ['ratio to ideal', ...col((r) => `${r.ratio.toFixed(2)} x`)],
      [
        '  one member, its calls in sequence: as the application saw them / as localcloud took them',
        ...col((r) => `${perMemberAppMs(r).toFixed(0)} / ${perMemberServerMs(r).toFixed(0)} ms`),
      ],
      [
        '  members x that application-side time / concurrency',
        ...col((r) => ms((r.members * perMemberAppMs(r)) / r.concurrency)),
      ],
      [
        '  members phase alone / ideal',
        ...col((r) => `${(r.memberPhaseMs / r.idealMs).toFixed(2)} x`),
      ],
      [
        `target <= ${TARGET_RATIO} x ideal`,
        ...col(
          (r) =>
            `${r.ratio <= TARGET_RATIO ? 'met' : 'MISSED'}${gated(r, results) ? '' : ' (shown only)'}`,
        ),
      ],
      ['second reconcile, nothing changed: wall time', ...col((r) => ms(r.reconcileMs))],
      [
        '  members unchanged / anything else',
        ...col((r) => `${r.reconcileUnchanged} / ${r.reconcileOther}`),
      ],
      ['  cloud calls', ...col((r) => String(r.reconcileCalls.reduce((s, c) => s + c.count, 0)))],
      [
        '  Tablestore write calls (PutRow/UpdateRow/DeleteRow/BatchWriteRow)',
        ...col((r) => String(r.reconcileWireWrites)),
      ],
      [
        '  writes to member state (members, activity, role_checks, scopes)',
        ...col((r) => String(r.memberStateWrites)),
      ],
      [
        '  writes to bookkeeping (leases, reconcile_runs, idempotency)',
        ...col((r) => String(r.bookkeepingWrites)),
      ],
      [
        '  member-state rows identical before/after (digest)',
        ...col(
          (r) =>
            `${r.digestsUnchanged ? 'yes' : 'NO'} (${MEMBER_STATE.map((n) => r.digestRows[n]).join('/')} rows)`,
        ),
      ],
      [
        '  target: no member-state write',
        ...col((r) => (r.memberStateWrites === 0 && r.digestsUnchanged ? 'met' : 'MISSED')),
      ],
    ],
  );
}

function printActions(title: string, results: RunResult[], pick: (r: RunResult) => ActionCount[]) {
  console.log(`\n${title}: count (per member + fixed), localcloud's mean ms per call\n`);
  const keys = [...new Set(results.flatMap((r) => pick(r).map((c) => c.key)))];
  printTable(
    ['service action', ...results.map((r) => `concurrency ${r.concurrency}`)],
    keys.map((key) => [
      key,
      ...results.map((r) => {
        const c = pick(r).find((x) => x.key === key);
        return c ? `${c.count} (${c.perMember} + ${c.fixed}), ${c.serverMs.toFixed(1)} ms` : '-';
      }),
    ]),
  );
}

function printTally(
  title: string,
  results: RunResult[],
  pick: (r: RunResult) => Array<[string, TallyEntry]>,
  withAssumeRole: boolean,
) {
  console.log(`\n${title}: calls (rows), mean ms per call as the application saw it\n`);
  const keys = [...new Set(results.flatMap((r) => pick(r).map(([key]) => key)))].sort();
  const rows = keys.map((key) => [
    key,
    ...results.map((r) => {
      const t = pick(r).find(([k]) => k === key)?.[1];
      if (!t) return '-';
      return key.startsWith('iterateRange')
        ? `${t.calls} (pages not timed)`
        : `${t.calls} (${t.rows}), ${mean(t.ms, t.calls)} ms`;
    }),
  ]);
  if (withAssumeRole) {
    rows.unshift([
      'sts AssumeRole (MemberAccess)',
      ...results.map(
        (r) => `${r.assumeRole.calls}, ${mean(r.assumeRole.ms, r.assumeRole.calls)} ms`,
      ),
    ]);
  }
  printTable(['adapter call', ...results.map((r) => `concurrency ${r.concurrency}`)], rows);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const args = parseArgs(argv);
  if (argv.includes(SERVE_FLAG)) return serveLocalCloud(args.members);
  if (argv.includes(WORKER_FLAG)) {
    const result = await runOnce(args, args.concurrencies[0] ?? 16);
    process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
    return;
  }
  const results: RunResult[] = [];
  for (const concurrency of args.concurrencies) {
    results.push(await runInWorker(args, concurrency));
  }
  printSummary(args, results);
  printActions('Cloud calls while onboarding', results, (r) => r.calls);
  printTally('Adapter calls while onboarding, by table', results, (r) => r.onboardTally, true);
  printActions('Cloud calls of the second reconcile', results, (r) => r.reconcileCalls);
  printTally(
    'Adapter calls of the second reconcile, by table',
    results,
    (r) => r.reconcileTally,
    false,
  );
  const missed = results.filter(
    (r) =>
      (gated(r, results) && r.ratio > TARGET_RATIO) ||
      r.memberStateWrites !== 0 ||
      !r.digestsUnchanged,
  );
  if (missed.length > 0) {
    console.log(`\ntarget missed at concurrency ${missed.map((r) => r.concurrency).join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

// Bastionhost O&M sessions as log integration forwards them to the central Logstore: log groups
// of session records (the field names of localcloud/README.md "Products that write logs") with
// the provenance tags of issue 12 (rdgov_owner_account, rdgov_template=bastionhost, ...). Tests
// and the bench write these into a central Logstore themselves, so the session index is tested
// without the log-integration puller. Seeded: a failing run replays from its seed.

import type { LogGroup, LogRecord } from '../../shared/logs/model';
import { seededRandom } from './seeded-random';

export const CENTRAL_PROJECT = 'rdgov-central';
export const CENTRAL_LOGSTORE = 'rdgov-central-logs';

export interface GeneratedSession {
  ownerAccountId: string;
  sessionId: string;
  records: LogRecord[];
}

export interface SessionGeneratorOptions {
  owners: readonly string[];
  /** Epoch seconds the first session starts at. */
  startSeconds: number;
  /** Average events per session between start and end (default 3). */
  eventsPerSession?: number;
  /** Share of sessions still open (no end record), default 0.1. */
  openShare?: number;
  /** Share of records without a `protocol` field (derived instead), default 0.2. */
  withoutProtocolShare?: number;
}

interface Asset {
  name: string;
  address: string;
  port: number;
  protocol: string;
  type: string;
  accounts: string[];
}

const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'];
const ASSETS: Asset[] = [
  {
    name: 'web-01',
    address: '192.168.1.11',
    port: 22,
    protocol: 'SSH',
    type: 'command',
    accounts: ['root', 'deploy'],
  },
  {
    name: 'web-02',
    address: '192.168.1.12',
    port: 22,
    protocol: 'SSH',
    type: 'command',
    accounts: ['deploy'],
  },
  {
    name: 'files-01',
    address: '192.168.2.21',
    port: 22,
    protocol: 'SFTP',
    type: 'file_transfer',
    accounts: ['sftpuser'],
  },
  {
    name: 'win-jump',
    address: '10.8.0.31',
    port: 3389,
    protocol: 'RDP',
    type: 'graphical',
    accounts: ['Administrator'],
  },
  {
    name: 'orders-db',
    address: 'rm-bp1orders.mysql.rds.aliyuncs.com',
    port: 3306,
    protocol: 'MySQL',
    type: 'sql',
    accounts: ['app_rw', 'dba'],
  },
  {
    name: 'report-pg',
    address: 'pgm-bp1report.pg.rds.aliyuncs.com',
    port: 5432,
    protocol: 'PostgreSQL',
    type: 'sql',
    accounts: ['report_ro'],
  },
  {
    name: '=cmd|calc',
    address: '10.9.9.9',
    port: 22,
    protocol: 'SSH',
    type: 'command',
    accounts: ['+ops'],
  },
];
const CLIENT_IPS = [
  '10.20.1.5',
  '10.20.1.77',
  '10.20.7.9',
  '172.16.4.2',
  '203.0.113.50',
  '2001:db8::15',
];

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

/** A deterministic sequence of sessions with their records, in time order per session. */
export function generateSessions(
  count: number,
  seed: number,
  options: SessionGeneratorOptions,
): GeneratedSession[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const hex = (n: number) =>
    Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');
  const perSession = options.eventsPerSession ?? 3;
  const sessions: GeneratedSession[] = [];
  let clock = options.startSeconds;
  for (let i = 0; i < count; i++) {
    clock += Math.floor(random() * 20);
    const owner = pick(options.owners);
    const asset = pick(ASSETS);
    const user = pick(USERS);
    const base: Record<string, string> = {
      aliuid: owner,
      instance_id: `bastionhost-cn-hangzhou-${owner.slice(-4)}`,
      session_id: `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`,
      user_id: String(100 + USERS.indexOf(user)),
      user_name: user,
      client_ip: pick(CLIENT_IPS),
      asset_name: asset.name,
      asset_address: asset.address,
      asset_port: String(asset.port),
      asset_account: pick(asset.accounts),
    };
    const withProtocol = random() >= (options.withoutProtocolShare ?? 0.2);
    if (withProtocol) base.protocol = asset.protocol;
    const start = clock;
    base.session_start_time = iso(start);
    const records: LogRecord[] = [];
    const record = (time: number, fields: Record<string, string>): LogRecord => ({
      time,
      contents: Object.entries({ ...base, ...fields, event_time: iso(time) }).map(
        ([key, value]) => ({ key, value }),
      ),
    });
    records.push(
      record(start, { event_type: 'session_start', content: 'login', result: 'success' }),
    );
    const events = Math.max(0, Math.round(perSession * 2 * random()));
    let t = start;
    for (let e = 0; e < events; e++) {
      t += 1 + Math.floor(random() * 30);
      const blocked = random() < 0.1;
      records.push(
        record(t, {
          event_type: asset.type,
          content: asset.type === 'sql' ? 'SELECT 1' : `=HYPERLINK("x") step ${e}`,
          result: blocked ? 'blocked' : 'success',
        }),
      );
    }
    if (random() >= (options.openShare ?? 0.1)) {
      t += 1 + Math.floor(random() * 30);
      records.push(
        record(t, {
          event_type: 'session_end',
          content: `duration ${t - start}s`,
          result: 'success',
          session_end_time: iso(t),
        }),
      );
    }
    sessions.push({ ownerAccountId: owner, sessionId: base.session_id as string, records });
  }
  return sessions;
}

/** The provenance tags log integration puts on a group it forwarded from `owner`'s Bastionhost. */
export function forwardingTags(owner: string, batchId: string, template = 'bastionhost') {
  return [
    { key: 'rdgov_owner_account', value: owner },
    { key: 'rdgov_template', value: template },
    { key: 'rdgov_region', value: 'cn-hangzhou' },
    { key: 'rdgov_source_project', value: `bastionhost-project-${owner}-cn-hangzhou` },
    { key: 'rdgov_source_logstore', value: 'bastionhost-audit-logstore' },
    { key: 'rdgov_source_shard', value: '0' },
    { key: 'rdgov_batch_id', value: batchId },
  ];
}

/**
 * The sessions' records as forwarded log groups, records of all sessions interleaved in time
 * order as a member's Logstore would hold them, `perGroup` records to a group (per owner).
 */
export function forwardedGroups(
  sessions: readonly GeneratedSession[],
  perGroup: number,
): LogGroup[] {
  const byOwner = new Map<string, LogRecord[]>();
  for (const session of sessions) {
    const list = byOwner.get(session.ownerAccountId) ?? [];
    list.push(...session.records);
    byOwner.set(session.ownerAccountId, list);
  }
  const groups: LogGroup[] = [];
  let batch = 0;
  for (const [owner, records] of byOwner) {
    records.sort((a, b) => a.time - b.time);
    for (let i = 0; i < records.length; i += perGroup) {
      batch += 1;
      groups.push({
        topic: 'bastionhost_audit_log',
        source: 'bastionhost',
        logs: records.slice(i, i + perGroup),
        tags: forwardingTags(owner, `batch-${owner}-${batch}`),
      });
    }
  }
  return groups;
}

// The rules of the session index: which forwarded log groups hold Bastionhost records, how one
// record becomes a session event, and how a session is folded from the set of its events. The
// fold is a pure function of the set (events are ordered by time and id first), so whatever order
// and however often records arrive, the same events make the same session.

import { createHash } from 'node:crypto';
import type { LogContent, LogGroup, LogRecord, LogTag } from '../logs/model';
import { ipKey } from './ip';
import {
  BASTIONHOST_TEMPLATE,
  PROTOCOLS,
  PROVENANCE_TAGS,
  type Protocol,
  type ProtocolSource,
  type RecordProvenance,
  type Session,
  type SessionEvent,
} from './model';

const tagValue = (tags: readonly LogTag[], key: string) =>
  tags.find((tag) => tag.key === key)?.value;

/** True for a log group log integration forwarded from a Bastionhost Logstore. */
export function isBastionhostGroup(group: Pick<LogGroup, 'tags'>): boolean {
  return tagValue(group.tags, PROVENANCE_TAGS.template) === BASTIONHOST_TEMPLATE;
}

export function provenanceOf(tags: readonly LogTag[]): RecordProvenance {
  const out: RecordProvenance = {};
  const set = (field: keyof RecordProvenance, key: string) => {
    const value = tagValue(tags, key);
    if (value !== undefined && value !== '') out[field] = value;
  };
  set('ownerAccountId', PROVENANCE_TAGS.ownerAccount);
  set('region', PROVENANCE_TAGS.region);
  set('sourceProject', PROVENANCE_TAGS.sourceProject);
  set('sourceLogstore', PROVENANCE_TAGS.sourceLogstore);
  set('sourceShard', PROVENANCE_TAGS.sourceShard);
  set('batchId', PROVENANCE_TAGS.batchId);
  return out;
}

export type ParsedRecord = { ok: true; event: SessionEvent } | { ok: false; reason: string };

const ACCOUNT_ID = /^\d{16}$/;
const MAX_ID_LENGTH = 256;

/**
 * Epoch ms of an ISO 8601 time, or of a number of seconds (10 digits) or ms (13 digits). A time
 * without an offset is UTC: Date.parse would read it in the process's time zone, and a record
 * must mean the same time on a laptop as in Function Compute.
 */
function parseTime(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d{10}$/.test(value)) return Number(value) * 1000;
  if (/^\d{13}$/.test(value)) return Number(value);
  if (!/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(value)) return undefined;
  const ms = Date.parse(/(Z|[+-]\d{2}(:?\d{2})?)$/i.test(value) ? value : `${value}Z`);
  return Number.isFinite(ms) ? ms : undefined;
}

function eventIdOf(record: LogRecord, contents: readonly LogContent[]): string {
  const hash = createHash('sha256');
  hash.update(`${record.time}.${record.timeNs ?? ''}\n`);
  for (const { key, value } of [...contents].sort((a, b) =>
    a.key < b.key ? -1 : a.key > b.key ? 1 : a.value < b.value ? -1 : a.value > b.value ? 1 : 0,
  )) {
    hash.update(`${key.length}:${key}=${value.length}:${value}\n`);
  }
  return hash.digest('hex').slice(0, 32);
}

/**
 * One Bastionhost record as a session event. The owner account is the forwarding tag's (the
 * account whose Logstore it was read from), else the record's `aliuid`. A record without a
 * session id, an event type, a usable time or an owner is refused with the reason.
 */
export function parseRecord(record: LogRecord, provenance: RecordProvenance): ParsedRecord {
  const fields = new Map<string, string>();
  for (const { key, value } of record.contents) fields.set(key, value);
  // A blank field is no field.
  const text = (key: string) => fields.get(key)?.trim() || undefined;
  const ownerAccountId = provenance.ownerAccountId ?? text('aliuid');
  if (ownerAccountId === undefined) return { ok: false, reason: 'no owner account' };
  if (!ACCOUNT_ID.test(ownerAccountId)) {
    return { ok: false, reason: `owner account ${JSON.stringify(ownerAccountId)} is not an id` };
  }
  const sessionId = text('session_id');
  if (sessionId === undefined) return { ok: false, reason: 'no session_id' };
  if (sessionId.length > MAX_ID_LENGTH) return { ok: false, reason: 'session_id is too long' };
  const eventType = text('event_type');
  if (eventType === undefined) return { ok: false, reason: 'no event_type' };
  const eventTimeText = text('event_time');
  const eventTime = eventTimeText === undefined ? record.time * 1000 : parseTime(eventTimeText);
  if (eventTime === undefined) {
    return { ok: false, reason: `event_time ${JSON.stringify(eventTimeText)} is not a time` };
  }
  const port = text('asset_port');
  const assetPort = port !== undefined && /^\d{1,5}$/.test(port) ? Number(port) : undefined;
  const event: SessionEvent = {
    ownerAccountId,
    sessionId,
    eventId: eventIdOf(record, record.contents),
    eventTime,
    eventType,
  };
  const optional: Array<[keyof SessionEvent, string | number | undefined]> = [
    ['content', text('content')],
    ['result', text('result')],
    ['instanceId', text('instance_id')],
    ['userId', text('user_id')],
    ['userName', text('user_name')],
    ['clientIp', text('client_ip')],
    ['assetName', text('asset_name')],
    ['assetAddress', text('asset_address')],
    ['assetPort', assetPort],
    ['assetAccount', text('asset_account')],
    ['protocol', text('protocol')],
    ['sessionStartTime', parseTime(text('session_start_time'))],
    ['sessionEndTime', parseTime(text('session_end_time'))],
    ['region', provenance.region],
    ['sourceProject', provenance.sourceProject],
    ['sourceLogstore', provenance.sourceLogstore],
  ];
  for (const [key, value] of optional) {
    if (value !== undefined) (event as unknown as Record<string, unknown>)[key] = value;
  }
  return { ok: true, event };
}

const PROTOCOL_BY_NAME = new Map(PROTOCOLS.map((p) => [p.toLowerCase(), p] as const));
const PROTOCOL_ALIASES: Record<string, Protocol> = {
  postgres: 'PostgreSQL',
  pgsql: 'PostgreSQL',
  mssql: 'SQLServer',
  'sql server': 'SQLServer',
};

/** A protocol name as Bastionhost or a user writes it, as one of PROTOCOLS; undefined if none. */
export function protocolNamed(name: string): Protocol | undefined {
  const lower = name.trim().toLowerCase();
  const known = PROTOCOL_BY_NAME.get(lower) ?? PROTOCOL_ALIASES[lower];
  return known === 'unknown' ? undefined : known;
}

const PROTOCOL_BY_PORT: Record<number, Protocol> = {
  22: 'SSH',
  23: 'Telnet',
  3389: 'RDP',
  5900: 'VNC',
  3306: 'MySQL',
  5432: 'PostgreSQL',
  1433: 'SQLServer',
  1521: 'Oracle',
  6379: 'Redis',
};

const DATABASES = new Set<Protocol>(['MySQL', 'PostgreSQL', 'SQLServer', 'Oracle', 'Redis']);

/**
 * The protocol, in this order: what a record says; what the event types imply (file transfers:
 * SFTP; graphical events: RDP, or VNC on port 5900; SQL: the database the asset port names, else
 * unknown); the asset port's well-known service; else `unknown`.
 */
function deriveProtocol(events: readonly SessionEvent[]): {
  protocol: Protocol;
  source: ProtocolSource;
} {
  for (const event of events) {
    const named = event.protocol ? protocolNamed(event.protocol) : undefined;
    if (named) return { protocol: named, source: 'record' };
  }
  const port = events.find((e) => e.assetPort !== undefined)?.assetPort;
  const byPort = port === undefined ? undefined : PROTOCOL_BY_PORT[port];
  const types = new Set(events.map((e) => e.eventType));
  if (types.has('file_transfer')) return { protocol: 'SFTP', source: 'event-type' };
  if (types.has('graphical')) {
    return { protocol: byPort === 'VNC' ? 'VNC' : 'RDP', source: 'event-type' };
  }
  if (types.has('sql')) {
    return byPort && DATABASES.has(byPort)
      ? { protocol: byPort, source: 'event-type' }
      : { protocol: 'unknown', source: 'event-type' };
  }
  if (byPort) return { protocol: byPort, source: 'asset-port' };
  return { protocol: 'unknown', source: 'none' };
}

/** Events in the one order every fold uses: by time, then by id. */
export function compareEvents(a: SessionEvent, b: SessionEvent): number {
  return a.eventTime - b.eventTime || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0);
}

/**
 * The session a set of events of one session describes (at least one event). Descriptive fields
 * are each the earliest event's that has them. Start: the earliest `session_start_time` a record
 * states, else the session_start event's time, else the earliest event's. End: the latest
 * `session_end_time` stated, else the session_end event's time; a session without either is
 * open, active until its latest event.
 */
export function foldSession(unordered: readonly SessionEvent[]): Session {
  const events = [...unordered].sort(compareEvents);
  const first = events[0];
  if (!first) throw new TypeError('foldSession: a session has at least one event');
  const pick = <K extends keyof SessionEvent>(key: K): SessionEvent[K] | undefined =>
    events.find((event) => event[key] !== undefined)?.[key];
  const stated = (key: 'sessionStartTime' | 'sessionEndTime') =>
    events.map((e) => e[key]).filter((t): t is number => t !== undefined);
  const startStated = stated('sessionStartTime');
  const startEvent = events.find((e) => e.eventType === 'session_start');
  const startTime =
    startStated.length > 0 ? Math.min(...startStated) : (startEvent?.eventTime ?? first.eventTime);
  const endStated = stated('sessionEndTime');
  const endEvents = events.filter((e) => e.eventType === 'session_end');
  const endTime =
    endStated.length > 0
      ? Math.max(...endStated)
      : endEvents.length > 0
        ? Math.max(...endEvents.map((e) => e.eventTime))
        : undefined;
  const lastEventTime = Math.max(...events.map((e) => e.eventTime));
  const { protocol, source } = deriveProtocol(events);
  const count = (type: string) => events.filter((e) => e.eventType === type).length;
  const clientIp = pick('clientIp');
  const clientIpKey = clientIp === undefined ? undefined : ipKey(clientIp);
  const session: Session = {
    ownerAccountId: first.ownerAccountId,
    sessionId: first.sessionId,
    protocol,
    protocolSource: source,
    startTime,
    ended: endTime !== undefined,
    lastEventTime,
    activeUntil: Math.max(endTime ?? lastEventTime, lastEventTime, startTime),
    eventCount: events.length,
    commandCount: count('command'),
    fileTransferCount: count('file_transfer'),
    graphicalCount: count('graphical'),
    sqlCount: count('sql'),
    blockedCount: events.filter((e) => e.result === 'blocked').length,
  };
  const optional = {
    instanceId: pick('instanceId'),
    userId: pick('userId'),
    userName: pick('userName'),
    clientIp,
    clientIpKey,
    assetName: pick('assetName'),
    assetAddress: pick('assetAddress'),
    assetPort: pick('assetPort'),
    assetAccount: pick('assetAccount'),
    endTime,
    region: pick('region'),
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) (session as unknown as Record<string, unknown>)[key] = value;
  }
  return session;
}

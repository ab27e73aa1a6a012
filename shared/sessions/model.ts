// The session-audit capability's vocabulary: a Bastionhost O&M session event as read from a
// forwarded log record, a session as folded from its events, the filters a search takes, and the
// provenance tags log integration writes on every forwarded log group (names fixed by issue 12).
// Pure data and pure rules (parse.ts, fold.ts hold the rules); no SDK, no store.

/** LogTags log integration writes on every LogGroup it forwards to the central Logstore. */
export const PROVENANCE_TAGS = {
  ownerAccount: 'rdgov_owner_account',
  template: 'rdgov_template',
  region: 'rdgov_region',
  sourceProject: 'rdgov_source_project',
  sourceLogstore: 'rdgov_source_logstore',
  sourceShard: 'rdgov_source_shard',
  batchId: 'rdgov_batch_id',
} as const;

/** The `rdgov_template` value of forwarded Bastionhost logs: the only groups the index keeps. */
export const BASTIONHOST_TEMPLATE = 'bastionhost';

/**
 * Protocols a session is searched by. What a record says is kept when it is one of these (matched
 * without regard to case); otherwise the protocol is derived (README "Session audit").
 */
export const PROTOCOLS = [
  'SSH',
  'SFTP',
  'RDP',
  'VNC',
  'Telnet',
  'MySQL',
  'PostgreSQL',
  'SQLServer',
  'Oracle',
  'Redis',
  'unknown',
] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** Where a record came from: the forwarding tags of its log group. */
export interface RecordProvenance {
  ownerAccountId?: string;
  region?: string;
  sourceProject?: string;
  sourceLogstore?: string;
  sourceShard?: string;
  batchId?: string;
}

export interface SessionKey {
  ownerAccountId: string;
  sessionId: string;
}

/**
 * One event of a session, as one Bastionhost record says it. `eventId` is a digest of the record's
 * own contents and time, so the same record delivered again (a redelivered range, a duplicated
 * forwarded batch) is the same event.
 */
export interface SessionEvent extends SessionKey {
  eventId: string;
  /** Epoch milliseconds. */
  eventTime: number;
  eventType: string;
  content?: string;
  result?: string;
  instanceId?: string;
  userId?: string;
  userName?: string;
  clientIp?: string;
  assetName?: string;
  assetAddress?: string;
  assetPort?: number;
  assetAccount?: string;
  /** The record's own `protocol` field, as written. */
  protocol?: string;
  /** Epoch ms of the record's `session_start_time`, when it has one. */
  sessionStartTime?: number;
  /** Epoch ms of the record's `session_end_time`, when it has one. */
  sessionEndTime?: number;
  region?: string;
  sourceProject?: string;
  sourceLogstore?: string;
}

/** How a session's protocol was found. */
export type ProtocolSource = 'record' | 'event-type' | 'asset-port' | 'none';

/** A session as its events, all of them folded in time order, describe it. */
export interface Session extends SessionKey {
  instanceId?: string;
  userId?: string;
  userName?: string;
  clientIp?: string;
  /** The client IP as 32 hex digits (IPv4 mapped into IPv6), what CIDR searches compare. */
  clientIpKey?: string;
  assetName?: string;
  assetAddress?: string;
  assetPort?: number;
  assetAccount?: string;
  protocol: Protocol;
  protocolSource: ProtocolSource;
  /** Epoch ms. */
  startTime: number;
  /** Epoch ms; set once the session has ended (a session_end event or a session_end_time). */
  endTime?: number;
  ended: boolean;
  /** Epoch ms of its latest event. */
  lastEventTime: number;
  /**
   * The end of the time the session covers: its end, or its latest event while it is open. A
   * session overlaps [from, to) when startTime < to and activeUntil >= from.
   */
  activeUntil: number;
  eventCount: number;
  commandCount: number;
  fileTransferCount: number;
  graphicalCount: number;
  sqlCount: number;
  blockedCount: number;
  region?: string;
}

export type SessionSort = 'startTime' | '-startTime' | 'endTime' | '-endTime';
export const SESSION_SORTS: readonly SessionSort[] = [
  '-startTime',
  'startTime',
  '-endTime',
  'endTime',
];

/** An IP address or CIDR block, both as 32 hex digits of an IPv6 address (IPv4 mapped). */
export interface IpRange {
  /** Inclusive. */
  low: string;
  /** Inclusive. */
  high: string;
}

/** Filters of a session search; each one given narrows it (all apply together). */
export interface SessionFilter {
  ownerAccountIds?: readonly string[];
  /** A user name or user id, exactly. */
  user?: string;
  /** A prefix of the asset's name or of its address. */
  asset?: string;
  assetAccount?: string;
  protocol?: Protocol;
  sourceIp?: IpRange;
  /** Epoch ms, inclusive: sessions active at or after it. */
  from?: number;
  /** Epoch ms, exclusive: sessions started before it. */
  to?: number;
}

export const SUMMARY_GROUPS = ['ownerAccountId', 'user', 'protocol'] as const;
export type SummaryGroup = (typeof SUMMARY_GROUPS)[number];

export interface SummaryBucket {
  key: string;
  sessions: number;
}

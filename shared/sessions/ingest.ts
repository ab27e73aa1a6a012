// The session-index use case: read one cursor range of one shard of the central Logstore (what
// the FC log trigger hands the function), keep the log groups log integration forwarded from
// Bastionhost, turn each record into a session event, write the events, and fold every session
// they touch again from all its stored events.
//
// Idempotent per record: an event's key is a digest of its record, so a range delivered again, or
// an overlapping one, writes the same rows. A session is written in one of two ways: where none
// is stored yet, from this batch's events alone, and only while none is stored (BatchWriteRow,
// expect-not-exist: one request for up to 200 new sessions, no read); otherwise from a fold of
// every stored event (one GetRange each), and only over a fold of fewer events. Events are only
// ever added, so a fold of more events is a later view of the same set: a stale fold never
// overwrites a newer one, and the last fold of a session reads every event written before it,
// whatever order they came in. An invocation that wrote events and failed before folding is
// delivered again by the trigger (it advances its checkpoint only on success), and its second
// delivery finds the session stored and folds all events. A record that does not parse is
// counted and logged with its provenance, and the batch goes on.

import type { LogGroup, LogstoreAddress } from '../logs/model';
import type { LogSource } from '../logs/ports';
import { mapWithConcurrency } from '../runtime/concurrency';
import type { Logger } from '../runtime/logger';
import type { Session, SessionEvent, SessionKey } from './model';
import type { SessionEventStore } from './ports';
import { foldSession, isBastionhostGroup, parseRecord, provenanceOf } from './records';

export interface SessionIngestReport {
  /** Log groups read from the range. */
  groups: number;
  /** Of them, forwarded from Bastionhost (tag rdgov_template=bastionhost). */
  bastionhostGroups: number;
  /** Records in those groups. */
  records: number;
  /** Records that became events (duplicates within the range counted once). */
  events: number;
  /** Records that did not parse: logged with their provenance, not indexed. */
  unparseable: number;
  /** Sessions written from a new fold. */
  sessionsWritten: number;
  /** Sessions whose stored fold already held as many events (nothing new for them). */
  sessionsUnchanged: number;
}

export interface SessionIngestDependencies {
  store: SessionEventStore;
  logger: Logger;
  /** Sessions folded at once (default 16). */
  concurrency?: number;
}

/** Where a group was read in the central Logstore, for the provenance of a bad record. */
export interface GroupPosition {
  project: string;
  logstore: string;
  shardId: number;
  cursor: string;
}

const emptyReport = (): SessionIngestReport => ({
  groups: 0,
  bastionhostGroups: 0,
  records: 0,
  events: 0,
  unparseable: 0,
  sessionsWritten: 0,
  sessionsUnchanged: 0,
});

function add(into: SessionIngestReport, more: SessionIngestReport): void {
  for (const key of Object.keys(into) as Array<keyof SessionIngestReport>) into[key] += more[key];
}

const sessionKeyOf = (key: SessionKey) => `${key.ownerAccountId}/${key.sessionId}`;

/** Indexes decoded log groups: parse, write events, fold the sessions they touch. */
export async function indexLogGroups(
  groups: readonly LogGroup[],
  deps: SessionIngestDependencies,
  position?: GroupPosition,
): Promise<SessionIngestReport> {
  const report = emptyReport();
  const events = new Map<string, SessionEvent>();
  for (const group of groups) {
    report.groups += 1;
    if (!isBastionhostGroup(group)) continue;
    report.bastionhostGroups += 1;
    const provenance = provenanceOf(group.tags);
    group.logs.forEach((record, index) => {
      report.records += 1;
      const parsed = parseRecord(record, provenance);
      if (!parsed.ok) {
        report.unparseable += 1;
        deps.logger.warn('session index: a Bastionhost record does not parse; not indexed', {
          reason: parsed.reason,
          provenance,
          recordIndex: index,
          recordTime: record.time,
          fields: record.contents.map((c) => c.key),
          ...(position ? { central: position } : {}),
        });
        return;
      }
      const { event } = parsed;
      events.set(`${sessionKeyOf(event)}/${event.eventId}`, event);
    });
  }
  report.events = events.size;
  if (events.size === 0) return report;
  await deps.store.putEvents([...events.values()]);
  const bySession = new Map<string, SessionEvent[]>();
  for (const event of events.values()) {
    const key = sessionKeyOf(event);
    const list = bySession.get(key);
    if (list) list.push(event);
    else bySession.set(key, [event]);
  }
  // A session nobody has folded yet is written from this batch's events alone, only while no
  // fold is stored: whoever comes second (another range of it, or this range again) finds one
  // and folds every stored event, which it reads after the first fold was written, so after
  // the first fold's events too.
  const batchFolds = [...bySession.values()].map((list) => foldSession(list));
  const created = await deps.store.createSessions(batchFolds);
  const existing = batchFolds.filter((_, i) => !created[i]);
  const folds = await mapWithConcurrency(existing, deps.concurrency ?? 16, async (key) => {
    const stored = await deps.store.eventsOf(key);
    // Read after this batch's own writes, so never empty; a TTL could only shorten it.
    return stored.length === 0 ? undefined : foldSession(stored);
  });
  const saved = await deps.store.saveSessions(
    folds.filter((fold): fold is Session => fold !== undefined),
  );
  const written = [...created.filter(Boolean), ...saved];
  report.sessionsWritten = written.filter(Boolean).length;
  report.sessionsUnchanged = written.length - report.sessionsWritten;
  return report;
}

export interface LogRange {
  address: LogstoreAddress;
  shardId: number;
  beginCursor: string;
  endCursor: string;
}

/**
 * Indexes one cursor range of a shard (what an FC log trigger invocation hands over): pulls it
 * to its end cursor, indexing each pull's groups before the next. Throws when the range cannot
 * be read; the trigger then delivers it again (every write so far is idempotent).
 */
export async function indexSessionRange(
  range: LogRange,
  deps: SessionIngestDependencies & { source: LogSource },
): Promise<SessionIngestReport> {
  const report = emptyReport();
  let cursor = range.beginCursor;
  while (cursor !== range.endCursor) {
    const pulled = await deps.source.pull(range.address, range.shardId, {
      cursor,
      endCursor: range.endCursor,
    });
    const groups = pulled.groups.map((group) =>
      // Only Bastionhost groups are read out; the rest are counted by their tags alone.
      isBastionhostGroup(group) ? deps.source.decode(group) : { logs: [], tags: group.tags },
    );
    add(
      report,
      await indexLogGroups(groups, deps, {
        project: range.address.project,
        logstore: range.address.logstore,
        shardId: range.shardId,
        cursor,
      }),
    );
    if (pulled.nextCursor === cursor || pulled.groups.length === 0) break;
    cursor = pulled.nextCursor;
  }
  return report;
}

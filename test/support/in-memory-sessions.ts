// An in-memory SessionEventStore (shared/sessions/ports.ts), for unit tests of the session-index
// use case. It keeps the port's contract as the Tablestore implementation does (shared/store/
// sessions.ts): an event row is written only where absent, events are read in primary-key order
// (time, then id), a session is created only where none is stored and saved only over a fold of
// fewer events. Every call is recorded, a test can fail the next call of one method, make the
// TTL remove a session's events (before a read, with beforeRead), and read how many event reads ran at once.

import type { Session, SessionEvent, SessionKey } from '../../shared/sessions/model';
import type { SessionEventStore } from '../../shared/sessions/ports';
import { compareEvents } from '../../shared/sessions/records';

type Method = 'putEvents' | 'eventsOf' | 'saveSessions' | 'createSessions';

const keyOf = (key: SessionKey) => `${key.ownerAccountId}/${key.sessionId}`;

export class InMemorySessionEventStore implements SessionEventStore {
  readonly calls: string[] = [];
  /** The most `eventsOf` calls that were running at once. */
  maxConcurrentReads = 0;
  /** Called as each `eventsOf` starts (a test lets the TTL remove events here). */
  beforeRead: (key: SessionKey) => void = () => {};
  private runningReads = 0;
  private readonly events = new Map<string, Map<string, SessionEvent>>();
  private readonly sessions = new Map<string, Session>();
  private readonly failures = new Map<Method, unknown[]>();

  failNext(method: Method, error: unknown): void {
    this.failures.set(method, [...(this.failures.get(method) ?? []), error]);
  }

  /** The TTL removed every event of a session (its session row stays). */
  expireEvents(key: SessionKey): void {
    this.events.delete(keyOf(key));
  }

  /** The stored session, if any. */
  session(key: SessionKey): Session | undefined {
    const session = this.sessions.get(keyOf(key));
    return session && structuredClone(session);
  }

  /** Every stored session, by key. */
  allSessions(): Session[] {
    return [...this.sessions.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, session]) => structuredClone(session));
  }

  /** Events stored, over all sessions. */
  eventCount(): number {
    let count = 0;
    for (const events of this.events.values()) count += events.size;
    return count;
  }

  async putEvents(events: readonly SessionEvent[]): Promise<void> {
    this.calls.push(`putEvents ${events.length}`);
    this.failIfAsked('putEvents');
    for (const event of events) {
      const held = this.events.get(keyOf(event)) ?? new Map<string, SessionEvent>();
      const rowKey = `${event.eventTime}/${event.eventId}`;
      if (!held.has(rowKey)) held.set(rowKey, structuredClone(event));
      this.events.set(keyOf(event), held);
    }
  }

  async eventsOf(key: SessionKey): Promise<SessionEvent[]> {
    this.calls.push(`eventsOf ${keyOf(key)}`);
    this.beforeRead(key);
    this.runningReads += 1;
    this.maxConcurrentReads = Math.max(this.maxConcurrentReads, this.runningReads);
    try {
      // A read takes a turn of the event loop, as a GetRange does: reads started together overlap.
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.failIfAsked('eventsOf');
      const held = this.events.get(keyOf(key));
      return held ? [...held.values()].sort(compareEvents).map((e) => structuredClone(e)) : [];
    } finally {
      this.runningReads -= 1;
    }
  }

  async saveSessions(sessions: readonly Session[]): Promise<boolean[]> {
    this.calls.push(`saveSessions ${sessions.map(keyOf).join(' ')}`.trim());
    this.failIfAsked('saveSessions');
    return sessions.map((session) => {
      const stored = this.sessions.get(keyOf(session));
      if (stored && stored.eventCount >= session.eventCount) return false;
      this.sessions.set(keyOf(session), structuredClone(session));
      return true;
    });
  }

  async createSessions(sessions: readonly Session[]): Promise<boolean[]> {
    this.calls.push(`createSessions ${sessions.map(keyOf).join(' ')}`.trim());
    this.failIfAsked('createSessions');
    return sessions.map((session) => {
      if (this.sessions.has(keyOf(session))) return false;
      this.sessions.set(keyOf(session), structuredClone(session));
      return true;
    });
  }

  private failIfAsked(method: Method): void {
    const queued = this.failures.get(method);
    if (queued && queued.length > 0) throw queued.shift();
  }
}

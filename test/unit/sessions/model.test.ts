// The sorts a session search takes (the API's `sort` values): each of a session's two time
// fields, ascending and descending, and nothing else.

import { describe, expect, it } from 'vitest';
import { SESSION_SORTS, type Session } from '../../../shared/sessions/model';
import { foldSession, parseRecord } from '../../../shared/sessions/records';

describe('session sorts', () => {
  it('sort by the start or the end time, both ways, each a time an ended session has', () => {
    const fields = (time: number, type: string) => ({
      time,
      contents: [
        { key: 'session_id', value: 's' },
        { key: 'event_type', value: type },
      ],
    });
    const events = [fields(100, 'session_start'), fields(160, 'session_end')].map((r) => {
      const parsed = parseRecord(r, { ownerAccountId: '1234567890123456' });
      if (!parsed.ok) throw new Error(parsed.reason);
      return parsed.event;
    });
    const session = foldSession(events);
    const fieldsSorted = new Set(SESSION_SORTS.map((sort) => sort.replace(/^-/, '')));

    expect(SESSION_SORTS).toHaveLength(4);
    expect(new Set(SESSION_SORTS).size).toBe(4);
    expect([...fieldsSorted].sort()).toEqual(['endTime', 'startTime']);
    for (const field of fieldsSorted) {
      expect(SESSION_SORTS).toContain(`-${field}`);
      expect(typeof session[field as keyof Session], field).toBe('number');
    }
    expect(session).toMatchObject({ startTime: 100_000, endTime: 160_000 });
  });
});

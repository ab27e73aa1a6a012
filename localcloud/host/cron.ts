// FC timer schedules. FC takes either `@every <duration>` (e.g. @every 5m, @every 1h30m) or a
// 6-field cron with seconds — `seconds minutes hours day-of-month month day-of-week` — in UTC
// unless prefixed `CRON_TZ=<IANA zone> `. `?` means "no specific value" (Quartz), which croner
// would instead replace with the current time, so it is rewritten to `*` first.

import { Cron } from 'croner';

export type FcSchedule =
  | { kind: 'cron'; expression: string; pattern: string; timezone: string }
  | { kind: 'every'; expression: string; intervalMs: number };

export class CronExpressionError extends Error {
  constructor(expression: string, reason: string) {
    super(`invalid FC cron expression "${expression}": ${reason}`);
    this.name = 'CronExpressionError';
  }
}

const DURATION_UNITS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000 };

function parseEvery(expression: string, spec: string): number {
  const parts = [...spec.matchAll(/(\d+(?:\.\d+)?)(h|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== spec) {
    throw new CronExpressionError(expression, 'expected @every <n>h<n>m<n>s, e.g. @every 5m');
  }
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * (DURATION_UNITS[p[2] ?? ''] ?? 0), 0);
  if (ms <= 0) throw new CronExpressionError(expression, 'the interval must be positive');
  return ms;
}

function isTimezone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export function parseFcCron(expression: string): FcSchedule {
  const text = expression.trim();
  const every = text.match(/^@every\s+(\S+)$/);
  if (every)
    return { kind: 'every', expression, intervalMs: parseEvery(expression, every[1] ?? '') };

  let timezone = 'UTC';
  let rest = text;
  const tz = text.match(/^CRON_TZ=(\S+)\s+(.*)$/);
  if (tz) {
    timezone = tz[1] ?? 'UTC';
    rest = tz[2] ?? '';
    if (!isTimezone(timezone)) {
      throw new CronExpressionError(expression, `unknown time zone ${timezone}`);
    }
  }
  const fields = rest.split(/\s+/).filter(Boolean);
  if (fields.length !== 6) {
    throw new CronExpressionError(
      expression,
      `expected 6 fields (seconds minutes hours day-of-month month day-of-week), got ${fields.length}`,
    );
  }
  const pattern = fields.map((f) => (f === '?' ? '*' : f)).join(' ');
  try {
    // Parsing only: no callback, so croner schedules nothing.
    new Cron(pattern, { timezone, mode: '6-part', sloppyRanges: true, paused: true });
  } catch (error) {
    throw new CronExpressionError(expression, (error as Error).message);
  }
  return { kind: 'cron', expression, pattern, timezone };
}

/**
 * The first fire time strictly after `after`. `@every` schedules count from `anchor` (when the
 * trigger was set up), as FC counts from the trigger's creation.
 */
export function nextFireTime(schedule: FcSchedule, after: Date, anchor: Date = after): Date {
  if (schedule.kind === 'every') {
    const elapsed = after.getTime() - anchor.getTime();
    const periods = Math.floor(elapsed / schedule.intervalMs) + 1;
    return new Date(anchor.getTime() + Math.max(1, periods) * schedule.intervalMs);
  }
  const job = new Cron(schedule.pattern, {
    timezone: schedule.timezone,
    mode: '6-part',
    sloppyRanges: true,
    paused: true,
  });
  const next = job.nextRun(after);
  if (!next) throw new CronExpressionError(schedule.expression, 'never fires');
  return next;
}

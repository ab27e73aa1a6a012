import { describe, expect, it } from 'vitest';
import { CronExpressionError, nextFireTime, parseFcCron } from '../../../../localcloud/host/cron';

const next = (expression: string, after: string, anchor?: string) =>
  nextFireTime(
    parseFcCron(expression),
    new Date(after),
    anchor ? new Date(anchor) : undefined,
  ).toISOString();

describe('FC cron expressions', () => {
  it('reads 6 fields with seconds, in UTC by default', () => {
    expect(next('0 */5 * * * *', '2024-01-01T00:03:00Z')).toBe('2024-01-01T00:05:00.000Z');
    expect(next('30 0 4 * * *', '2024-01-01T05:00:00Z')).toBe('2024-01-02T04:00:30.000Z');
  });

  it('honours CRON_TZ', () => {
    // 04:00 in Shanghai (UTC+8) is 20:00 UTC the day before.
    expect(next('CRON_TZ=Asia/Shanghai 0 0 4 * * *', '2024-01-06T00:03:00Z')).toBe(
      '2024-01-06T20:00:00.000Z',
    );
    expect(parseFcCron('CRON_TZ=Asia/Shanghai 0 */5 * * * *')).toMatchObject({
      kind: 'cron',
      timezone: 'Asia/Shanghai',
      pattern: '0 */5 * * * *',
    });
  });

  it('treats ? as "no specific value" rather than the current time', () => {
    // Saturday 2024-01-06: the next weekday 04:00 UTC is Monday.
    expect(next('0 0 4 ? * MON-FRI', '2024-01-06T00:00:00Z')).toBe('2024-01-08T04:00:00.000Z');
    expect(next('0 0 12 15 * ?', '2024-01-16T00:00:00Z')).toBe('2024-02-15T12:00:00.000Z');
  });

  it('accepts Quartz-style n/step', () => {
    expect(next('0 0/15 * * * *', '2024-01-01T00:01:00Z')).toBe('2024-01-01T00:15:00.000Z');
  });

  it('counts @every intervals from the anchor', () => {
    expect(next('@every 5m', '2024-01-01T00:07:00Z', '2024-01-01T00:00:00Z')).toBe(
      '2024-01-01T00:10:00.000Z',
    );
    expect(next('@every 1h30m', '2024-01-01T03:00:00Z', '2024-01-01T00:00:00Z')).toBe(
      '2024-01-01T04:30:00.000Z',
    );
  });

  it('refuses what FC refuses, saying why', () => {
    expect(() => parseFcCron('0 */5 * * *')).toThrow(/expected 6 fields/);
    expect(() => parseFcCron('CRON_TZ=Mars/Olympus 0 * * * * *')).toThrow(/unknown time zone/);
    expect(() => parseFcCron('0 61 * * * *')).toThrow(CronExpressionError);
    expect(() => parseFcCron('@every 5 minutes')).toThrow(/@every/);
  });
});

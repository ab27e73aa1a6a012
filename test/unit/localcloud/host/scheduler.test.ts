import { describe, expect, it } from 'vitest';
import { parseFcCron } from '../../../../localcloud/host/cron';
import { ManualSchedulerClock, TimerScheduler } from '../../../../localcloud/host/scheduler';

describe('timer scheduler', () => {
  it('fires at each cron time as the clock moves, and nothing in between', () => {
    const clock = new ManualSchedulerClock(new Date('2024-01-01T00:03:00Z'));
    const scheduler = new TimerScheduler(clock);
    const fired: string[] = [];
    scheduler.add('fn/every5', parseFcCron('CRON_TZ=Asia/Shanghai 0 */5 * * * *'), (time) =>
      fired.push(time.toISOString()),
    );
    expect(scheduler.nextFireTimes()['fn/every5']?.toISOString()).toBe('2024-01-01T00:05:00.000Z');

    clock.advanceTo(new Date('2024-01-01T00:04:59Z'));
    expect(fired).toEqual([]);
    clock.advanceTo(new Date('2024-01-01T00:16:00Z'));
    expect(fired).toEqual([
      '2024-01-01T00:05:00.000Z',
      '2024-01-01T00:10:00.000Z',
      '2024-01-01T00:15:00.000Z',
    ]);
    scheduler.stop();
    expect(clock.pending()).toBe(0);
    clock.advanceBy(3_600_000);
    expect(fired).toHaveLength(3);
  });

  it('keeps each timer on its own schedule', () => {
    const clock = new ManualSchedulerClock(new Date('2024-01-01T00:00:30Z'));
    const scheduler = new TimerScheduler(clock);
    const fired: string[] = [];
    scheduler.add('a', parseFcCron('0 * * * * *'), (t) => fired.push(`a ${t.toISOString()}`));
    scheduler.add('b', parseFcCron('@every 90s'), (t) => fired.push(`b ${t.toISOString()}`));
    clock.advanceBy(150_000);
    expect(fired).toEqual([
      'a 2024-01-01T00:01:00.000Z',
      'b 2024-01-01T00:02:00.000Z',
      'a 2024-01-01T00:02:00.000Z',
      'a 2024-01-01T00:03:00.000Z',
    ]);
    scheduler.stop();
  });

  it('refuses the same key twice', () => {
    const scheduler = new TimerScheduler(new ManualSchedulerClock(0));
    scheduler.add('x', parseFcCron('0 * * * * *'), () => undefined);
    expect(() => scheduler.add('x', parseFcCron('0 * * * * *'), () => undefined)).toThrow(
      /already scheduled/,
    );
    scheduler.stop();
  });
});

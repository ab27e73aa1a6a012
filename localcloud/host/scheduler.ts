// Fires timer triggers on their FC schedules. Time comes from a SchedulerClock so tests can move
// it instead of sleeping: the real clock uses Date.now/setTimeout, ManualSchedulerClock fires
// what is due when a test advances it.

import { type FcSchedule, nextFireTime } from './cron';

export interface SchedulerClock {
  now(): number;
  setTimer(callback: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
}

// setTimeout overflows above 2^31-1 ms (~24.8 days); longer waits are taken in steps.
const MAX_TIMER_MS = 2_147_483_647;

export const systemSchedulerClock: SchedulerClock = {
  now: () => Date.now(),
  setTimer: (callback, delayMs) => {
    const handle = setTimeout(callback, delayMs);
    handle.unref();
    return handle;
  },
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** A clock that only moves when told to; `advanceTo`/`advanceBy` run due timers in time order. */
export class ManualSchedulerClock implements SchedulerClock {
  private current: number;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; callback: () => void }>();

  constructor(start: Date | number) {
    this.current = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.current;
  }

  setTimer(callback: () => void, delayMs: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.current + Math.max(0, delayMs), callback });
    return id;
  }

  clearTimer(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Moves time forward to `time`, firing every timer due on the way, earliest first. */
  advanceTo(time: Date | number): void {
    const target = typeof time === 'number' ? time : time.getTime();
    for (;;) {
      let dueId: number | undefined;
      let dueAt = Number.POSITIVE_INFINITY;
      for (const [id, timer] of this.timers) {
        if (timer.at <= target && (timer.at < dueAt || (timer.at === dueAt && id < (dueId ?? 0)))) {
          dueId = id;
          dueAt = timer.at;
        }
      }
      if (dueId === undefined) break;
      const timer = this.timers.get(dueId);
      this.timers.delete(dueId);
      this.current = Math.max(this.current, dueAt);
      timer?.callback();
    }
    this.current = Math.max(this.current, target);
  }

  advanceBy(ms: number): void {
    this.advanceTo(this.current + ms);
  }

  /** Number of timers waiting (for tests asserting nothing is left scheduled). */
  pending(): number {
    return this.timers.size;
  }
}

export type FireCallback = (fireTime: Date) => void;

interface ScheduledTimer {
  schedule: FcSchedule;
  anchor: Date;
  onFire: FireCallback;
  handle: unknown;
  /** The fire time the pending timer is waiting for. */
  next: Date;
}

export class TimerScheduler {
  private readonly timers = new Map<string, ScheduledTimer>();
  private stopped = false;

  constructor(private readonly clock: SchedulerClock = systemSchedulerClock) {}

  /** Starts firing `onFire` at each time the schedule names, from now on. */
  add(key: string, schedule: FcSchedule, onFire: FireCallback): void {
    if (this.timers.has(key)) throw new Error(`timer ${key} is already scheduled`);
    const anchor = new Date(this.clock.now());
    const next = nextFireTime(schedule, anchor, anchor);
    const timer: ScheduledTimer = { schedule, anchor, onFire, handle: undefined, next };
    this.timers.set(key, timer);
    this.arm(key, timer);
  }

  /** The next time each timer will fire, by key. */
  nextFireTimes(): Record<string, Date> {
    const out: Record<string, Date> = {};
    for (const [key, timer] of this.timers) out[key] = timer.next;
    return out;
  }

  private arm(key: string, timer: ScheduledTimer): void {
    if (this.stopped) return;
    const delay = timer.next.getTime() - this.clock.now();
    if (delay > MAX_TIMER_MS) {
      timer.handle = this.clock.setTimer(() => this.arm(key, timer), MAX_TIMER_MS);
      return;
    }
    timer.handle = this.clock.setTimer(
      () => {
        if (this.stopped || this.timers.get(key) !== timer) return;
        const fireTime = timer.next;
        // The next fire time counts from the one just due, so a late wake-up neither skips a
        // fire time nor fires twice for the same one.
        const now = new Date(Math.max(this.clock.now(), fireTime.getTime()));
        timer.next = nextFireTime(timer.schedule, now, timer.anchor);
        this.arm(key, timer);
        timer.onFire(fireTime);
      },
      Math.max(0, delay),
    );
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) this.clock.clearTimer(timer.handle);
    this.timers.clear();
  }
}

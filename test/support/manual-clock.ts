// The application's Clock (shared/domain/clock.ts) as tests hold it: time moves only when the
// test moves it.

import type { Clock } from '../../shared/domain/clock';

export class ManualClock implements Clock {
  constructor(private t = Date.UTC(2025, 0, 1)) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

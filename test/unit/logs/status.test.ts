// A data source's status and snapshot as pure rules: the precedence of the statuses and the
// no-data boundary, the per-minute window's edges, and how a snapshot sums up the current
// generation's checkpoints (newest times, largest lag, latest error, planning's own error) and
// how a live one takes the planner's shard count only for the same generation.

import { describe, expect, it } from 'vitest';
import type {
  DataSourceSnapshot,
  LogError,
  LogGap,
  ShardCheckpoint,
} from '../../../shared/logs/model';
import {
  countMinute,
  dataSourceStatus,
  liveSnapshot,
  ratePerMinute,
  summarizeCheckpoints,
} from '../../../shared/logs/status';
import { freshCheckpoint } from '../../support/log-store';

const NOW = Date.UTC(2026, 0, 2, 12, 0, 30);
const MINUTE = Math.floor(NOW / 60_000);
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const source = { name: 'WAF_cn-hangzhou_2000000000000001', generation: 2 };

function checkpoint(shardId: number, extra: Partial<ShardCheckpoint> = {}): ShardCheckpoint {
  return freshCheckpoint(
    { dataSource: source.name, project: 'p', logstore: 'l', shardId },
    { generation: 2, ...extra },
  );
}

const gap = (shardId: number): LogGap => ({
  project: 'p',
  logstore: 'l',
  shardId,
  from: 1,
  to: 2,
  estimatedCount: null,
  recordedAt: iso(NOW),
});

const snapshot = (extra: Partial<DataSourceSnapshot>): DataSourceSnapshot => ({
  name: source.name,
  at: iso(NOW),
  generation: 2,
  shards: 1,
  shardsFinished: 0,
  logsPerMinute: 0,
  bytesPerMinute: 0,
  logsForwarded: 0,
  gapCount: 0,
  ...extra,
});

describe('status', () => {
  const enabled = { enabled: true, generation: 2, consumeFrom: iso(NOW - 2 * HOUR) };
  const ok = { ok: true } as const;

  it('is no-data only once nothing arrived for more than noDataAfterMs', () => {
    const pulled = { lastPullAt: iso(NOW) };
    expect(
      dataSourceStatus(enabled, snapshot({ ...pulled, lastDataAt: iso(NOW - HOUR) }), ok, NOW, HOUR)
        .status,
    ).toBe('normal');
    expect(
      dataSourceStatus(
        enabled,
        snapshot({ ...pulled, lastDataAt: iso(NOW - HOUR - 1) }),
        ok,
        NOW,
        HOUR,
      ).status,
    ).toBe('no-data');
    // Without data yet, from when it started consuming.
    expect(
      dataSourceStatus(
        { ...enabled, consumeFrom: iso(NOW - HOUR) },
        snapshot(pulled),
        ok,
        NOW,
        HOUR,
      ),
    ).toEqual({ status: 'normal' });
  });

  it('a disabled data source is disabled even when not integrable; not integrable is failed with the reason', () => {
    expect(
      dataSourceStatus(
        { ...enabled, enabled: false },
        undefined,
        { ok: false, reason: 'r' },
        NOW,
        HOUR,
      ),
    ).toEqual({ status: 'disabled' });
    expect(dataSourceStatus(enabled, undefined, { ok: false, reason: 'left' }, NOW, HOUR)).toEqual({
      status: 'failed',
      error: { code: 'NotIntegrable', message: 'left', at: iso(NOW) },
    });
  });

  it("ignores an older generation's error", () => {
    const error: LogError = { code: 'X', message: 'old', at: iso(NOW) };
    expect(dataSourceStatus(enabled, snapshot({ generation: 1, error }), ok, NOW, HOUR)).toEqual({
      status: 'initializing',
    });
  });
});

describe('the per-minute window', () => {
  it('keeps the last five minutes, adding to the current one', () => {
    const at = (m: number) => m * 60_000 + 5_000;
    let window = countMinute([], at(MINUTE - 5), 1, 10);
    window = countMinute(window, at(MINUTE - 4), 2, 20);
    expect(window).toEqual([
      { minute: MINUTE - 5, logs: 1, bytes: 10 },
      { minute: MINUTE - 4, logs: 2, bytes: 20 },
    ]);
    window = countMinute(window, at(MINUTE), 3, 30);
    expect(window).toEqual([
      { minute: MINUTE - 4, logs: 2, bytes: 20 },
      { minute: MINUTE, logs: 3, bytes: 30 },
    ]);
    window = countMinute(window, at(MINUTE) + 1_000, 4, 40);
    expect(window.at(-1)).toEqual({ minute: MINUTE, logs: 7, bytes: 70 });
    expect(window).toHaveLength(2);
  });

  it('averages over five minutes, leaving out older minutes, across shards', () => {
    const a = [
      { minute: MINUTE - 5, logs: 1000, bytes: 1000 },
      { minute: MINUTE - 4, logs: 10, bytes: 100 },
    ];
    const b = [{ minute: MINUTE, logs: 5, bytes: 50 }];
    expect(ratePerMinute([a, b], NOW)).toEqual({ logs: 3, bytes: 30 });
    expect(ratePerMinute([], NOW)).toEqual({ logs: 0, bytes: 0 });
  });
});

describe('snapshots', () => {
  it("sums up the current generation's checkpoints", () => {
    const early: LogError = { code: 'Throttled', message: 'a', at: iso(NOW - 2_000) };
    const late: LogError = { code: 'Failed', message: 'b', at: iso(NOW - 1_000) };
    const checkpoints = [
      checkpoint(0, {
        finished: true,
        logsForwarded: 5,
        lastPullAt: iso(NOW - 30_000),
        lastDataAt: iso(NOW - 40_000),
        lagSeconds: 3,
        window: [{ minute: MINUTE, logs: 3, bytes: 7 }],
        lastError: late,
        gaps: [gap(0)],
      }),
      checkpoint(1, {
        logsForwarded: 7,
        lastPullAt: iso(NOW - 10_000),
        lastDataAt: iso(NOW - 50_000),
        lagSeconds: 9,
        window: [{ minute: MINUTE - 1, logs: 1, bytes: 1 }],
        lastError: early,
      }),
      checkpoint(2, { lagSeconds: 0 }),
      // An older generation: only its gaps count.
      checkpoint(3, {
        generation: 1,
        finished: true,
        logsForwarded: 100,
        lastPullAt: iso(NOW),
        lagSeconds: 99,
        gaps: [gap(3), gap(3)],
        lastError: { code: 'Old', message: 'c', at: iso(NOW) },
      }),
    ];
    expect(summarizeCheckpoints(source, checkpoints, { at: NOW, shards: 4 })).toEqual({
      name: source.name,
      at: iso(NOW),
      generation: 2,
      shards: 4,
      shardsFinished: 1,
      logsPerMinute: 0.8,
      bytesPerMinute: 2,
      logsForwarded: 12,
      gapCount: 3,
      lastPullAt: iso(NOW - 10_000),
      lastDataAt: iso(NOW - 40_000),
      lagSeconds: 9,
      error: late,
    });
  });

  it("keeps planning's error, and the latest of it and the shards' errors as the error", () => {
    const shardError: LogError = { code: 'Failed', message: 'b', at: iso(NOW - 1_000) };
    const planningError: LogError = { code: 'ProjectNotExist', message: 'p', at: iso(NOW - 5_000) };
    const result = summarizeCheckpoints(source, [checkpoint(0, { lastError: shardError })], {
      at: NOW,
      shards: 1,
      error: planningError,
    });
    expect(result.error).toEqual(shardError);
    expect(result.planningError).toEqual(planningError);
    const later = { ...planningError, at: iso(NOW) };
    expect(
      summarizeCheckpoints(source, [checkpoint(0, { lastError: shardError })], {
        at: NOW,
        shards: 1,
        error: later,
      }).error,
    ).toEqual(later);
    const empty = summarizeCheckpoints(source, [], { at: NOW, shards: 0 });
    expect(empty).not.toHaveProperty('error');
    expect(empty).not.toHaveProperty('planningError');
    expect(empty).not.toHaveProperty('lastPullAt');
    expect(empty).not.toHaveProperty('lastDataAt');
    expect(empty).not.toHaveProperty('lagSeconds');
  });

  it('takes the latest error whatever order the shards come in', () => {
    const e = (code: string, ms: number): LogError => ({ code, message: code, at: iso(NOW - ms) });
    const checkpoints = [
      checkpoint(0, { lastError: e('third', 1_000) }),
      checkpoint(1, { lastError: e('first', 3_000) }),
      checkpoint(2, { lastError: e('second', 2_000) }),
    ];
    for (const order of [checkpoints, [...checkpoints].reverse()]) {
      const result = summarizeCheckpoints(source, order, {
        at: NOW,
        shards: 3,
        error: e('planning', 4_000),
      });
      expect(result.error?.code).toBe('third');
    }
  });

  it("a live snapshot takes the planner's shard count and error only for the same generation", () => {
    const planningError: LogError = { code: 'X', message: 'p', at: iso(NOW) };
    const planned = snapshot({ shards: 8, planningError });
    const checkpoints = [checkpoint(0), checkpoint(1), checkpoint(2, { generation: 1 })];
    expect(liveSnapshot(source, planned, checkpoints, NOW)).toMatchObject({
      shards: 8,
      planningError,
      error: planningError,
      at: iso(NOW),
    });
    const stale = liveSnapshot(source, { ...planned, generation: 1 }, checkpoints, NOW);
    expect(stale.shards).toBe(2);
    expect(stale).not.toHaveProperty('planningError');
    expect(liveSnapshot(source, undefined, checkpoints, NOW).shards).toBe(2);
    expect(liveSnapshot(source, snapshot({ shards: 8 }), [], NOW)).not.toHaveProperty(
      'planningError',
    );
  });
});

// A data source's status, from what the planner last saw of it (its snapshot) and from its
// policy: pure rules, one place.
//
//   disabled      the policy is disabled
//   failed        the member cannot be integrated any more, planning failed (member unreachable,
//                 Logstore gone), or a shard is failing (throttled 3 times in a row, or any other
//                 failure): the error says why
//   initializing  enabled, not pulled yet in this generation
//   no-data       pulls succeed, nothing new for LOG_NO_DATA_MINUTES
//   normal        otherwise

import {
  type DataSource,
  type DataSourceSnapshot,
  type DataSourceStatus,
  LOG_RATE_WINDOW_MINUTES,
  type LogError,
  type MinuteCount,
  type ShardCheckpoint,
} from './model';

export interface StatusVerdict {
  status: DataSourceStatus;
  error?: LogError;
}

export function dataSourceStatus(
  source: Pick<DataSource, 'enabled' | 'generation' | 'consumeFrom'>,
  snapshot: DataSourceSnapshot | undefined,
  integrable: { ok: true } | { ok: false; reason: string },
  now: number,
  noDataAfterMs: number,
): StatusVerdict {
  if (!source.enabled) return { status: 'disabled' };
  if (!integrable.ok) {
    return {
      status: 'failed',
      error: { code: 'NotIntegrable', message: integrable.reason, at: new Date(now).toISOString() },
    };
  }
  const current = snapshot && snapshot.generation === source.generation ? snapshot : undefined;
  if (current?.error) return { status: 'failed', error: current.error };
  if (current?.lastPullAt === undefined) return { status: 'initializing' };
  const lastData = Date.parse(current?.lastDataAt ?? source.consumeFrom);
  if (now - lastData > noDataAfterMs) return { status: 'no-data' };
  return { status: 'normal' };
}

/** Adds `logs` and `bytes` to the minute of `at`, keeping the last LOG_RATE_WINDOW_MINUTES. */
export function countMinute(
  window: readonly MinuteCount[],
  at: number,
  logs: number,
  bytes: number,
): MinuteCount[] {
  const minute = Math.floor(at / 60_000);
  const kept = window.filter((m) => m.minute > minute - LOG_RATE_WINDOW_MINUTES);
  const last = kept[kept.length - 1];
  if (last && last.minute === minute) {
    kept[kept.length - 1] = { minute, logs: last.logs + logs, bytes: last.bytes + bytes };
  } else {
    kept.push({ minute, logs, bytes });
  }
  return kept;
}

/** Average logs and bytes per minute over the window's last LOG_RATE_WINDOW_MINUTES minutes. */
export function ratePerMinute(
  windows: ReadonlyArray<readonly MinuteCount[]>,
  now: number,
): { logs: number; bytes: number } {
  const minute = Math.floor(now / 60_000);
  let logs = 0;
  let bytes = 0;
  for (const window of windows) {
    for (const m of window) {
      if (m.minute > minute - LOG_RATE_WINDOW_MINUTES) {
        logs += m.logs;
        bytes += m.bytes;
      }
    }
  }
  return { logs: logs / LOG_RATE_WINDOW_MINUTES, bytes: bytes / LOG_RATE_WINDOW_MINUTES };
}

const latest = (times: Array<string | undefined>): string | undefined =>
  times.reduce<string | undefined>(
    (best, time) => (time !== undefined && (best === undefined || time > best) ? time : best),
    undefined,
  );

/**
 * The snapshot of a data source: its current generation's checkpoints summed up, and the error
 * planning ran into (a member it could not reach, a Logstore that is gone), if any.
 */
export function summarizeCheckpoints(
  source: Pick<DataSource, 'name' | 'generation'>,
  checkpoints: readonly ShardCheckpoint[],
  planning: { at: number; shards: number; error?: LogError },
): DataSourceSnapshot {
  const current = checkpoints.filter((c) => c.generation === source.generation);
  const { logs, bytes } = ratePerMinute(
    current.map((c) => c.window),
    planning.at,
  );
  const errors = current.flatMap((c) => (c.lastError ? [c.lastError] : []));
  if (planning.error) errors.push(planning.error);
  errors.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const lags = current.flatMap((c) => (c.lagSeconds === undefined ? [] : [c.lagSeconds]));
  const snapshot: DataSourceSnapshot = {
    name: source.name,
    at: new Date(planning.at).toISOString(),
    generation: source.generation,
    shards: planning.shards,
    shardsFinished: current.filter((c) => c.finished).length,
    logsPerMinute: Math.round(logs * 10) / 10,
    bytesPerMinute: Math.round(bytes),
    logsForwarded: current.reduce((sum, c) => sum + c.logsForwarded, 0),
    gapCount: checkpoints.reduce((sum, c) => sum + c.gaps.length, 0),
  };
  const lastPullAt = latest(current.map((c) => c.lastPullAt));
  const lastDataAt = latest(current.map((c) => c.lastDataAt));
  if (lastPullAt !== undefined) snapshot.lastPullAt = lastPullAt;
  if (lastDataAt !== undefined) snapshot.lastDataAt = lastDataAt;
  if (lags.length > 0) snapshot.lagSeconds = Math.max(...lags);
  const error = errors[errors.length - 1];
  if (error) snapshot.error = error;
  if (planning.error) snapshot.planningError = planning.error;
  return snapshot;
}

/**
 * One data source as of now: its checkpoints summed up live, with what the last planning run saw
 * (its shard count and its own error), so a pull since that run shows at once.
 */
export function liveSnapshot(
  source: Pick<DataSource, 'name' | 'generation'>,
  planned: DataSourceSnapshot | undefined,
  checkpoints: readonly ShardCheckpoint[],
  now: number,
): DataSourceSnapshot {
  const current = planned?.generation === source.generation ? planned : undefined;
  return summarizeCheckpoints(source, checkpoints, {
    at: now,
    shards: current?.shards ?? checkpoints.filter((c) => c.generation === source.generation).length,
    ...(current?.planningError ? { error: current.planningError } : {}),
  });
}

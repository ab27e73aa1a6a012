// The log functions' trigger handlers: the planner timer plans (and skips while another run holds
// its lease), the worker decodes its chunk (refusing a malformed one before touching anything),
// pulls it, and logs one summary line counting the shards by outcome.

import { beforeEach, expect, it } from 'vitest';
import { handlePlannerTimer, handleWorkerChunk } from '../../../shared/logs/handlers';
import { shardLeaseName, type WorkItem } from '../../../shared/logs/planner';
import { DEFAULT_PULLER_SETTINGS, type PullerDeps } from '../../../shared/logs/puller';
import { createLogger } from '../../../shared/runtime/logger';
import { MalformedTriggerEvent } from '../../../shared/runtime/trigger-events';
import { type LogStoreFixture, logStoreFixture } from '../../support/log-store';

const A = '2000000000000001';
let f: LogStoreFixture;
let lines: Array<Record<string, unknown>>;
let deps: PullerDeps;
let memberCalls: number;

beforeEach(async () => {
  f = await logStoreFixture();
  lines = [];
  memberCalls = 0;
  deps = {
    store: f.logs,
    memberLogs: async () => {
      memberCalls += 1;
      return { ok: false, roleArn: 'arn', reason: 'not in this test', code: 'Test' };
    },
    central: {
      sink: {
        put: async () => {
          throw new Error('nothing is forwarded in this test');
        },
      },
      address: { project: 'central', logstore: 'integrated' },
    },
    clock: f.clock,
    logger: createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line)) }),
    settings: DEFAULT_PULLER_SETTINGS,
  };
});

const item = (shardId: number): WorkItem => ({
  dataSource: `WAF_cn-hangzhou_${A}`,
  templateId: 'waf',
  accountId: A,
  region: 'cn-hangzhou',
  project: `waf-project-${A}-cn-hangzhou`,
  logstore: 'waf-logstore',
  shardId,
  readonly: false,
  generation: 1,
  consumeFrom: '2026-01-01T00:00:00Z',
});

it('pulls a chunk and logs one line counting its shards by outcome', async () => {
  const chunk = {
    runId: 'run-1',
    chunk: 2,
    chunks: 3,
    // Any later generation, and a start time with its offset, are valid.
    items: [
      item(0),
      { ...item(1), generation: 3 },
      { ...item(2), consumeFrom: '2026-01-01T08:00:00+08:00' },
    ],
  };
  // No time left before the reserve: every shard is answered without being read.
  const deadline = f.clock.now() + DEFAULT_PULLER_SETTINGS.reserveMs;
  const outcome = await handleWorkerChunk(deps, JSON.stringify(chunk), deadline);
  expect(outcome).toMatchObject({ runId: 'run-1', chunk: 2, logs: 0, bytes: 0 });
  expect(outcome.shards.map((s) => [s.shardId, s.outcome])).toEqual([
    [0, 'no-time'],
    [1, 'no-time'],
    [2, 'no-time'],
  ]);
  expect(memberCalls).toBe(0);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatchObject({
    level: 'info',
    message: 'log worker chunk finished',
    runId: 'run-1',
    chunk: 2,
    shards: 3,
    logs: 0,
    bytes: 0,
    'no-time': 3,
  });
});

it('counts busy shards (another worker holds their lease)', async () => {
  for (const i of [item(0), item(1)]) {
    const held = await f.logs.leases.acquire(shardLeaseName(i), 'other-worker', { ttlMs: 60_000 });
    expect(held.acquired).toBe(true);
  }
  const chunk = { runId: 'run-2', chunk: 0, chunks: 1, items: [item(0), item(1)] };
  const outcome = await handleWorkerChunk(deps, chunk, f.clock.now() + 600_000);
  expect(outcome.shards.map((s) => s.outcome)).toEqual(['busy', 'busy']);
  expect(lines.at(-1)).toMatchObject({ shards: 2, busy: 2 });
  expect(lines.at(-1)).not.toHaveProperty('no-time');
});

it('refuses a malformed chunk before reading anything', async () => {
  await expect(
    handleWorkerChunk(deps, JSON.stringify({ runId: 'r', chunk: 0, chunks: 1, items: [] }), 0),
  ).rejects.toThrow(/^The log worker chunk event is malformed/);
  await expect(handleWorkerChunk(deps, '{}', 0)).rejects.toBeInstanceOf(MalformedTriggerEvent);
  for (const accountId of ['x2000000000000001', '2000000000000001x']) {
    const chunk = { runId: 'r', chunk: 0, chunks: 1, items: [{ ...item(0), accountId }] };
    await expect(handleWorkerChunk(deps, chunk, 0)).rejects.toThrow(/accountId/);
  }
  expect(memberCalls).toBe(0);
  expect(lines).toEqual([]);
});

it('the planner timer plans, and skips while another run holds the planner lease', async () => {
  await f.logs.leases.acquire('log-planner', 'other-planner', { ttlMs: 120_000 });
  const summary = await handlePlannerTimer({
    store: f.logs,
    memberLogs: deps.memberLogs,
    fanOut: {
      invokeAsync: async () => {
        throw new Error('no fan-out in this test');
      },
    },
    clock: f.clock,
    logger: deps.logger,
    settings: {
      regions: ['cn-hangzhou'],
      functionsAccountId: '1000000000000000',
      workerFunction: 'log-worker',
      shardsPerWorker: 10,
      memberConcurrency: 2,
    },
  });
  expect(summary.skipped).toMatch(/Log planning/);
  expect(summary.dataSources).toBe(0);
});

// The SLS (log) trigger of the local function host: per shard with new data, FC's log trigger
// event with the cursor range; the checkpoint advances only on success; failures are retried
// maxRetryTime times and the range is delivered again on the next run, never skipped; runs follow
// triggerInterval on the host's clock; children of a split are read from their beginning.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FunctionHost,
  ManualSchedulerClock,
  startFunctionHost,
} from '../../../localcloud/host/index';
import type { LocalCloud } from '../../../localcloud/index';
import { eventually, LogCapture } from '../../support/function-host';
import { HOST_APP_S_YAML, startHostTestCloud } from '../../support/host-cloud';
import { RawSlsClient } from '../../support/sls-client';

const PROJECT = 'host-app-logs';
const realEvent = JSON.parse(
  readFileSync(new URL('../../fixtures/fc3-events/sls.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

interface TriggerEvent {
  parameter: Record<string, unknown>;
  source: {
    endpoint: string;
    projectName: string;
    logstoreName: string;
    shardId: number;
    beginCursor: string;
    endCursor: string;
  };
  jobName: string;
  taskId: string;
  cursorTime: number;
}

/** The shape of a JSON value: keys and value types, recursively. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, shape(v)]),
    );
  }
  return typeof value;
}

describe('SLS log trigger', () => {
  let cloud: LocalCloud;
  let host: FunctionHost;
  let raw: RawSlsClient;
  const clock = new ManualSchedulerClock(new Date('2024-01-01T00:00:00Z'));
  const output = new LogCapture();
  const dir = mkdtempSync(join(tmpdir(), 'log-trigger-'));
  const failMarker = join(dir, 'fail');

  const events = (status: 'OK' | 'FAIL'): TriggerEvent[] =>
    output.lines
      .filter((line) => line.startsWith(`[host-logs] LOGTRIGGER ${status} `))
      .map((line) => JSON.parse(line.slice(`[host-logs] LOGTRIGGER ${status} `.length)));

  /** The function's output reaches the host after its result: wait for the lines. */
  const untilEvents = (status: 'OK' | 'FAIL', count: number) =>
    eventually(
      async () => events(status).length >= count,
      10_000,
      `${count} ${status} log trigger events`,
    );

  const write = async (shardKey: string, value: string) => {
    const res = await raw.putLogs(
      PROJECT,
      'source',
      { logs: [{ time: Math.floor(Date.now() / 1000), contents: { value } }] },
      { hashKey: shardKey },
    );
    expect(res.status, res.body.toString()).toBe(200);
  };

  beforeAll(async () => {
    cloud = await startHostTestCloud();
    const management = cloud.env.accounts.find((a) => a.kind === 'management');
    if (!management) throw new Error('no management account');
    raw = new RawSlsClient(cloud.url, management);
    const project = cloud.sls.model.createProject({
      region: 'cn-hangzhou',
      name: PROJECT,
      owner: management.id,
    });
    cloud.sls.model.createLogstore(project, { name: 'source', shardCount: 2 });
    cloud.sls.model.createLogstore(project, { name: 'trigger-runs', shardCount: 1 });
    await write('00', 'before the trigger started');
    host = await startFunctionHost({
      sYamlPath: HOST_APP_S_YAML,
      cloud: cloud.env,
      clock,
      log: output.log,
      logs: cloud.sls.triggerSource,
      sYamlEnv: { HOST_APP_LOG_FAIL_MARKER: failMarker },
    });
  });

  afterAll(async () => {
    await host?.stop();
    await cloud?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts at the end: data written before the trigger is not delivered', async () => {
    expect(await host.runLogTrigger('host-logs')).toEqual({ delivered: 0, failed: 0 });
    expect(events('OK')).toEqual([]);
  });

  it('invokes once per shard with new data, with FC’s event and the range holding the data', async () => {
    await write('00', 'a');
    await write('80', 'b');
    await write('81', 'c');
    expect(await host.runLogTrigger('host-logs')).toEqual({ delivered: 2, failed: 0 });
    await untilEvents('OK', 2);
    const delivered = events('OK').sort((x, y) => x.source.shardId - y.source.shardId);
    expect(delivered.map((e) => e.source.shardId)).toEqual([0, 1]);
    const event = delivered[0] as TriggerEvent;
    expect(shape({ ...event, parameter: {} })).toEqual(shape(realEvent));
    expect(event).toMatchObject({
      parameter: { purpose: 'test' },
      source: {
        endpoint: 'http://cn-hangzhou-intranet.log.aliyuncs.com',
        projectName: PROJECT,
        logstoreName: 'source',
      },
    });
    expect(event.jobName).toMatch(/^[0-9a-f]{40}$/);
    expect(Math.abs(event.cursorTime - Date.now() / 1000)).toBeLessThan(120);
    const values = [];
    for (const e of delivered) {
      const pulled = await raw.pullLogs(PROJECT, 'source', e.source.shardId, e.source.beginCursor, {
        endCursor: e.source.endCursor,
      });
      values.push(...pulled.groups.map((g) => g.logs[0]?.contents.value));
    }
    expect(values).toEqual(['a', 'b', 'c']);
    expect(await host.runLogTrigger('host-logs')).toEqual({ delivered: 0, failed: 0 });
  });

  it('retries a failure maxRetryTime times and delivers the same range again later', async () => {
    writeFileSync(failMarker, '');
    await write('00', 'd');
    expect(await host.runLogTrigger('host-logs')).toEqual({ delivered: 0, failed: 1 });
    await untilEvents('FAIL', 3);
    const failed = events('FAIL');
    expect(failed).toHaveLength(3); // the first attempt and maxRetryTime: 2 retries
    expect(new Set(failed.map((e) => e.source.beginCursor)).size).toBe(1);
    expect(output.lines.some((l) => /shard 0 failed 3 time\(s\), range kept/.test(l))).toBe(true);

    rmSync(failMarker);
    await write('00', 'e');
    const okBefore = events('OK').length;
    expect(await host.runLogTrigger('host-logs')).toEqual({ delivered: 1, failed: 0 });
    await untilEvents('OK', okBefore + 1);
    const retried = events('OK').at(-1) as TriggerEvent;
    expect(retried.source.beginCursor).toBe(failed[0]?.source.beginCursor);
    const pulled = await raw.pullLogs(PROJECT, 'source', 0, retried.source.beginCursor, {
      endCursor: retried.source.endCursor,
    });
    expect(pulled.groups.map((g) => g.logs[0]?.contents.value)).toEqual(['d', 'e']);
  });

  it('runs every triggerInterval on the host’s clock', async () => {
    const before = events('OK').length;
    await write('80', 'scheduled');
    clock.advanceBy(29_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(events('OK')).toHaveLength(before);
    clock.advanceBy(1_000);
    await eventually(
      async () => events('OK').length > before,
      10_000,
      'the scheduled log trigger run',
    );
    const fired = events('OK').slice(before);
    expect(fired.map((e) => e.source.shardId)).toEqual([1]);
  });

  it('reads the children of a split from their beginning', async () => {
    const split = await raw.request({
      method: 'POST',
      project: PROJECT,
      path: '/logstores/source/shards/0',
      query: { action: 'split', key: '40' },
    });
    expect(split.status, split.body.toString()).toBe(200);
    await write('10', 'child-low');
    await write('50', 'child-high');
    const before = events('OK').length;
    expect(await host.runLogTrigger('host-logs')).toEqual({ delivered: 2, failed: 0 });
    await untilEvents('OK', before + 2);
    const children = events('OK').slice(before);
    expect(children.map((e) => e.source.shardId).sort()).toEqual([2, 3]);
  });

  it('writes its run log to logConfig’s Logstore', async () => {
    const runs = await fetch(
      `${cloud.env.control}/sls/projects/${PROJECT}/logstores/trigger-runs/logs`,
    );
    const body = (await runs.json()) as {
      groups: Array<{ logs: Array<{ contents: Record<string, string> }> }>;
    };
    const statuses = body.groups.flatMap((g) => g.logs.map((l) => l.contents.status));
    expect(statuses.filter((s) => s === 'Failed')).toHaveLength(3);
    expect(statuses.filter((s) => s === 'Success').length).toBeGreaterThanOrEqual(5);
  });
});

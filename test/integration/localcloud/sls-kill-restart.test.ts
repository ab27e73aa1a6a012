// SLS durability as a user meets it: the real localcloud process (`localcloud/cli.ts cloud
// --data-dir`, a product writing live) is killed with SIGKILL while four writers are sending
// PutLogs, restarted on the same data directory, written to and killed again. Every PutLogs that
// was answered 200 is read back exactly once; groups in flight at the kill are there at most
// once; cursors handed out before a kill read the same groups after it; data that TTL removed
// before a kill stays removed although localcloud's clock starts again from real time.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type CloudProcess, killHard, startCloudProcess } from '../../support/localcloud-process';
import { RawSlsClient, type TestLogGroup } from '../../support/sls-client';

const LOGSTORE = 'acked';
const ORGANIZATION = fileURLToPath(
  new URL('../../fixtures/localcloud/sls-kill-organization.yaml', import.meta.url),
);

function clientOf(cloud: CloudProcess): { client: RawSlsClient; member: string } {
  const member = cloud.env.accounts.find((a) => a.kind !== 'management');
  if (!member) throw new Error('env.json lists no member');
  return { client: new RawSlsClient(cloud.url, member), member: member.id };
}

async function control(cloud: CloudProcess, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${cloud.env.control}/${path}`, {
    method: 'POST',
    body: JSON.stringify(body),
  });
  expect(res.status, await res.text()).toBeLessThan(300);
}

function group(id: string): TestLogGroup {
  return {
    tags: { id },
    logs: [{ time: Math.floor(Date.now() / 1000), contents: { id, pad: 'p'.repeat(200) } }],
  };
}

/** Writers that put groups until told to stop or the connection fails; ids answered 200. */
function startWriters(client: RawSlsClient, project: string, round: number) {
  const acknowledged: string[] = [];
  const sent: string[] = [];
  let stopped = false;
  const done = Promise.all(
    Array.from({ length: 4 }, async (_, writer) => {
      for (let i = 0; !stopped; i++) {
        const id = `${round}-${writer}-${i}`;
        sent.push(id);
        try {
          const res = await client.putLogs(project, LOGSTORE, group(id), {
            compress: i % 2 === 0 ? 'lz4' : 'deflate',
          });
          if (res.status !== 200) throw new Error(`PutLogs ${res.status} ${res.body.toString()}`);
          acknowledged.push(id);
        } catch (error) {
          if (stopped) return;
          // The kill: the connection is refused or reset.
          if ((error as NodeJS.ErrnoException).code) return;
          throw error;
        }
      }
    }),
  );
  return {
    acknowledged,
    sent,
    done,
    stop: () => {
      stopped = true;
    },
  };
}

async function readAll(client: RawSlsClient, project: string): Promise<string[]> {
  const ids: string[] = [];
  for (const shard of [0, 1]) {
    let cursor = await client.cursor(project, LOGSTORE, shard, 'begin');
    for (;;) {
      const pulled = await client.pullLogs(project, LOGSTORE, shard, cursor, { count: 1000 });
      expect(pulled.res.status, pulled.res.body.toString()).toBe(200);
      for (const g of pulled.groups) ids.push(g.tags?.id ?? '');
      if (pulled.next === cursor) break;
      cursor = pulled.next;
    }
  }
  return ids;
}

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('SLS in a localcloud killed with SIGKILL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rdg-sls-kill-'));
  const dataDir = join(dir, 'data');
  const envFile = join(dir, 'env.json');
  const running: CloudProcess[] = [];

  afterAll(() => {
    for (const cloud of running) if (cloud.child.exitCode === null) cloud.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses no acknowledged PutLogs, keeps cursors and TTL removals across kills', async () => {
    let cloud = await startCloudProcess(dataDir, envFile, { organization: ORGANIZATION });
    running.push(cloud);
    let { client, member } = clientOf(cloud);
    const project = `kill-${member}`;
    await control(cloud, 'sls/projects', { name: project, accountId: member });
    for (const [name, ttl, shardCount] of [
      [LOGSTORE, 7, 2],
      ['expiring', 1, 1],
    ] as const) {
      const res = await client.createLogstore(project, name, { ttl, shardCount });
      expect(res.status, res.body.toString()).toBe(200);
    }
    // TTL removes a group (the clock moved two days); the removal must survive the kill.
    expect((await client.putLogs(project, 'expiring', group('old'))).status).toBe(200);
    const expiredCursor = await client.cursor(project, 'expiring', 0, 'begin');
    await control(cloud, 'clock/advance', { seconds: 2 * 86_400 });
    expect((await client.pullLogs(project, 'expiring', 0, expiredCursor)).res.status).toBe(400);

    const acknowledged: string[] = [];
    const sent: string[] = [];
    let saved: { cursor: string; groups: string[] } | undefined;
    for (let round = 0; round < 2; round++) {
      const writers = startWriters(client, project, round);
      await waitFor(() => writers.acknowledged.length >= 150);
      if (!saved) {
        // A cursor in the middle of shard 0 and what it reads, to compare after the kills.
        const begin = await client.cursor(project, LOGSTORE, 0, 'begin');
        const first = await client.pullLogs(project, LOGSTORE, 0, begin, { count: 20 });
        const next = await client.pullLogs(project, LOGSTORE, 0, first.next, { count: 30 });
        saved = { cursor: first.next, groups: next.groups.map((g) => g.tags?.id ?? '') };
        expect(saved.groups).toHaveLength(30);
      }
      await waitFor(() => writers.acknowledged.length >= 400);
      // Killed while the writers are still sending.
      await killHard(cloud);
      writers.stop();
      await writers.done;
      acknowledged.push(...writers.acknowledged);
      sent.push(...writers.sent);

      cloud = await startCloudProcess(dataDir, envFile, { organization: ORGANIZATION });
      running.push(cloud);
      ({ client } = clientOf(cloud));
      const ids = await readAll(client, project);
      expect(new Set(ids).size).toBe(ids.length);
      const read = new Set(ids);
      expect(acknowledged.filter((id) => !read.has(id))).toEqual([]);
      const sentIds = new Set(sent);
      expect(ids.filter((id) => !sentIds.has(id))).toEqual([]);
      const again = await client.pullLogs(project, LOGSTORE, 0, saved.cursor, { count: 30 });
      expect(again.groups.map((g) => g.tags?.id)).toEqual(saved.groups);
    }
    const expired = await client.pullLogs(project, 'expiring', 0, expiredCursor);
    expect(expired.res.status).toBe(400);
    expect(expired.res.json()).toMatchObject({ errorCode: 'InvalidCursor' });
    const left = await client.pullLogs(
      project,
      'expiring',
      0,
      await client.cursor(project, 'expiring', 0, 'begin'),
    );
    expect(left.groups).toEqual([]);
    await killHard(cloud);
  }, 120_000);
});

// A split and a merge under continuous writes: a reader that follows shards in order (a parent to
// its end, then its children) reads every log written exactly once.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../../localcloud/index';
import { spreadHashKey as hashKey, LineageReader, RawSlsClient } from '../../support/sls-client';

let cloud: LocalCloud;
let client: RawSlsClient;
let project: string;
const LOGSTORE = 'reshard';

beforeAll(async () => {
  cloud = await startLocalCloud({
    port: 0,
    organization: { seed: 'sls-reshard', management: { name: 'm' }, members: [{ name: 'writer' }] },
    // The reader polls as fast as it can: the cloud's 100 reads/s per shard would throttle it.
    slsQuotas: { readRequestsPerSecond: 1_000_000, writeRequestsPerSecond: 1_000_000 },
  });
  const member = cloud.env.accounts.find((a) => a.name === 'writer');
  if (!member) throw new Error('no member');
  client = new RawSlsClient(cloud.url, member);
  project = `reshard-${member.id}`;
  const created = cloud.sls.model.createProject({
    region: 'cn-hangzhou',
    name: project,
    owner: member.id,
  });
  cloud.sls.model.createLogstore(created, { name: LOGSTORE, shardCount: 2, ttl: 1 });
});

afterAll(async () => {
  await cloud?.stop();
});

describe('resharding under continuous writes', () => {
  it('reads every log exactly once following parents before children', async () => {
    const total = 600;
    let written = 0;
    const writer = (async () => {
      for (let i = 0; i < total; i++) {
        const res = await client.putLogs(
          project,
          LOGSTORE,
          { logs: [{ time: Math.floor(Date.now() / 1000), contents: { seq: String(i) } }] },
          { hashKey: hashKey(i), compress: i % 2 === 0 ? 'lz4' : 'deflate' },
        );
        if (res.status !== 200) throw new Error(`PutLogs ${res.status} ${res.body.toString()}`);
        written = i + 1;
        if (i === 150) {
          const split = await client.request({
            method: 'POST',
            project,
            path: `/logstores/${LOGSTORE}/shards/0`,
            query: { action: 'split', key: '40000000000000000000000000000000' },
          });
          expect(split.status, split.body.toString()).toBe(200);
        }
        if (i === 350) {
          // Merge the split's two children back (2 = [0, 4…), 3 = [4…, 8…)).
          const merge = await client.request({
            method: 'POST',
            project,
            path: `/logstores/${LOGSTORE}/shards/2`,
            query: { action: 'merge' },
          });
          expect(merge.status, merge.body.toString()).toBe(200);
        }
      }
    })();
    // If the reader fails first, the writer's rejection is reported through `await writer` only.
    writer.catch(() => undefined);

    const seen: number[] = [];
    const lineage = new LineageReader(client, project, LOGSTORE);
    const reader = () =>
      lineage.pass((group) => {
        for (const log of group.logs) seen.push(Number(log.contents.seq));
      });

    while (written < total) await reader();
    await writer;
    // Drain: twice, so children unblocked by the last pass are read too.
    await reader();
    await reader();

    const shards = await client.listShards(project, LOGSTORE);
    expect(shards.map((s) => `${s.shardID}:${s.status}`)).toEqual([
      '0:readonly',
      '1:readwrite',
      '2:readonly',
      '3:readonly',
      '4:readwrite',
    ]);
    expect(seen).toHaveLength(total);
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i));
    // Within a key range no reshard divided ([0,4…), [4…,8…), [8…,f…]), logs come out in the
    // order they were written.
    const perShardOrder = new Map<number, number[]>();
    for (const seq of seen) {
      const k = hashKey(seq);
      const key = k < '4' ? 0 : k < '8' ? 1 : 2;
      perShardOrder.set(key, [...(perShardOrder.get(key) ?? []), seq]);
    }
    for (const order of perShardOrder.values()) {
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
  });
});

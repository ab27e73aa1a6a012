// Durability as a user meets it: the real localcloud process (`localcloud/cli.ts cloud --data-dir`)
// is killed with SIGKILL mid-use and restarted on the same data directory; every write the store
// saw acknowledged is there afterwards, read back through the same repositories.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_TABLESTORE_INSTANCE } from '../../../localcloud';
import { createTablestoreClient } from '../../../shared/cloud/tablestore';
import { createStore, ensureStoreTables, type Store } from '../../../shared/store';
import { type CloudProcess, killHard, startCloudProcess } from '../../support/localcloud-process';

function storeOf(cloud: CloudProcess): { store: Store; ensure: () => Promise<unknown> } {
  const management = cloud.env.accounts.find((a) => a.kind === 'management');
  if (!management) throw new Error('env.json lists no management account');
  const client = createTablestoreClient({
    endpoint: cloud.url,
    instanceName: DEFAULT_TABLESTORE_INSTANCE,
    credentials: () => ({
      accessKeyId: management.accessKeyId,
      accessKeySecret: management.accessKeySecret,
    }),
  });
  return {
    store: createStore({ client }),
    ensure: () => ensureStoreTables(client, {}),
  };
}

describe('localcloud killed with SIGKILL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rdg-kill-'));
  const dataDir = join(dir, 'data');
  const envFile = join(dir, 'env.json');
  const running: CloudProcess[] = [];

  afterAll(() => {
    for (const cloud of running) if (cloud.child.exitCode === null) cloud.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged write across a kill and restart', async () => {
    const first = await startCloudProcess(dataDir, envFile);
    running.push(first);
    const before = storeOf(first);
    await before.ensure();

    const acknowledged: string[] = [];
    for (let i = 0; i < 40; i++) {
      const accountId = String(1_000_000_000_000_000n + BigInt(i));
      await before.store.members.create({
        accountId,
        status: 'managed',
        scopeIds: ['scope-a'],
        displayName: `member ${i}`,
      });
      acknowledged.push(accountId);
    }
    // One member updated, one deleted: both must stay as acknowledged.
    const updated = await before.store.members.get(acknowledged[0]!);
    await before.store.members.update({ ...updated!, status: 'unreachable' });
    const deleted = await before.store.members.get(acknowledged[1]!);
    await before.store.members.delete(deleted!.accountId, deleted!.version);

    await killHard(first);

    const second = await startCloudProcess(dataDir, envFile);
    running.push(second);
    const after = storeOf(second);
    // Table setup is idempotent: a second run finds the tables and changes nothing.
    await after.ensure();

    const members = await after.store.members.list();
    const ids = members.map((m) => m.accountId).sort();
    expect(ids).toEqual(acknowledged.filter((id) => id !== acknowledged[1]).sort());
    expect(members.find((m) => m.accountId === acknowledged[0])?.status).toBe('unreachable');
    expect(members.find((m) => m.accountId === acknowledged[2])?.displayName).toBe('member 2');
  }, 60_000);
});

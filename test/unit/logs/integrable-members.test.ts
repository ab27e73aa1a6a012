// Who can be integrated (IntegrableMembers) and how a data source is made to follow its policy
// (ensureDataSource): each refusal's reason, members in account order, and the conditional
// write retried a bounded number of times when it loses to a concurrent one.

import { beforeEach, describe, expect, it } from 'vitest';
import { ConcurrentModification, RecordAlreadyExists } from '../../../shared/domain/records';
import { ensureDataSource, IntegrableMembers } from '../../../shared/logs/integration';
import { DATA_SOURCE_TYPE, type DataSource } from '../../../shared/logs/model';
import type { DataSourceRepository, LogIntegrationStore } from '../../../shared/logs/ports';
import { type LogStoreFixture, logStoreFixture } from '../../support/log-store';

const MANAGEMENT = '1000000000000000';
const A = '2000000000000001';
const B = '2000000000000002';
const C = '2000000000000003';

let f: LogStoreFixture;

beforeEach(async () => {
  f = await logStoreFixture();
  await f.scope('folder:fd-logs', ['log-integration']);
  await f.scope('folder:fd-plain', ['security-center']);
});

describe('integrable members', () => {
  it('says why each account cannot be integrated', async () => {
    await f.member(B, ['folder:fd-logs'], { status: 'onboarding' });
    await f.member(C, ['folder:fd-plain', 'folder:gone']);
    await f.member(MANAGEMENT, ['folder:fd-logs']);
    await f.member('2000000000000004', [], { status: 'offboarding' });
    await f.member('2000000000000005', []);
    const members = await IntegrableMembers.read(f.logs, MANAGEMENT);
    expect(members.check(MANAGEMENT)).toEqual({
      ok: false,
      reason:
        'the account the functions run in (the management account or a delegated administrator) is never integrated',
    });
    expect(members.check(A)).toEqual({
      ok: false,
      reason:
        'not a managed member (the management account and delegated administrators never are): add a scope that covers it',
    });
    expect(members.check(B)).toMatchObject({
      ok: false,
      reason: 'the member is onboarding',
      member: { accountId: B },
    });
    expect(members.check('2000000000000004')).toMatchObject({
      ok: false,
      reason: 'the member is offboarding',
    });
    expect(members.check(C)).toMatchObject({
      ok: false,
      reason:
        'no scope covering it (folder:fd-plain, folder:gone) enables the log-integration service',
      member: { accountId: C },
    });
    expect(members.check('2000000000000005')).toMatchObject({
      reason: 'no scope covering it (none) enables the log-integration service',
    });
    expect(members.scopesOf(C).map((s) => s.id)).toEqual(['folder:fd-plain']);
    expect(members.scopesOf(A)).toEqual([]);
  });

  it('lists the integrable ones in account order', async () => {
    await f.member(C, ['folder:fd-logs']);
    await f.member(A, ['folder:fd-plain', 'folder:fd-logs']);
    await f.member(B, ['folder:fd-plain']);
    const members = await IntegrableMembers.read(f.logs, MANAGEMENT);
    expect(members.all().map((m) => m.accountId)).toEqual([A, C]);
    expect(members.check(A)).toMatchObject({ ok: true, member: { accountId: A } });
  });

  it('keeps account order whatever order the members are read in', async () => {
    await f.member(C, ['folder:fd-logs']);
    await f.member(A, ['folder:fd-logs']);
    const listed = await f.logs.management.members.list();
    const reversed: Pick<LogIntegrationStore, 'management'> = {
      management: {
        ...f.logs.management,
        members: { ...f.logs.management.members, list: async () => [...listed].reverse() },
      },
    };
    const members = await IntegrableMembers.read(reversed, MANAGEMENT);
    expect(members.all().map((m) => m.accountId)).toEqual([A, C]);
  });
});

describe('ensureDataSource', () => {
  const wanted = {
    name: `WAF_cn-hangzhou_${A}`,
    type: DATA_SOURCE_TYPE,
    templateId: 'waf',
    accountId: A,
    region: 'cn-hangzhou',
    enabled: true,
    autoAddNewLogstores: true,
    generation: 1,
    consumeFrom: '2026-01-01T00:00:00.000Z',
    logstores: [],
  } satisfies Omit<DataSource, 'version' | 'createdAt' | 'updatedAt'>;

  it('creates it, then changes only what follows the policy, keeping its Logstores', async () => {
    const created = await ensureDataSource(f.logs, wanted);
    expect(created).toMatchObject(wanted);
    const withLogstore = await f.logs.dataSources.update({
      ...created,
      logstores: [{ project: 'p', logstore: 'l' }],
    });
    expect(await ensureDataSource(f.logs, wanted)).toEqual(withLogstore);
    for (const change of [
      { enabled: false },
      { autoAddNewLogstores: false },
      { generation: 2 },
      { consumeFrom: '2026-01-02T00:00:00.000Z' },
      { accountName: 'Alpha' },
    ]) {
      const before = await f.logs.dataSources.get(wanted.name);
      const after = await ensureDataSource(f.logs, {
        ...wanted,
        ...before,
        ...change,
        logstores: [],
      });
      expect(after).toMatchObject({ ...change, logstores: [{ project: 'p', logstore: 'l' }] });
      expect(after.version).not.toBe(before?.version);
    }
    // A name once known is kept when the policy does not give one.
    const kept = await ensureDataSource(f.logs, { ...wanted, enabled: true });
    expect(kept.accountName).toBe('Alpha');
  });

  it('retries a write that lost to a concurrent one, at most five times', async () => {
    let failures = 4;
    let creates = 0;
    const racing: Pick<typeof f.logs, 'dataSources'> = {
      dataSources: {
        // Only get and create are used when the data source does not exist yet.
        get: (name: string) => f.logs.dataSources.get(name),
        create: async (entity: Parameters<DataSourceRepository['create']>[0]) => {
          creates += 1;
          if (failures-- > 0)
            throw creates % 2 ? new RecordAlreadyExists('x') : new ConcurrentModification('x', 1);
          return f.logs.dataSources.create(entity);
        },
      } as unknown as DataSourceRepository,
    };
    expect(await ensureDataSource(racing, wanted)).toMatchObject({ name: wanted.name });
    expect(creates).toBe(5);
    failures = 5;
    creates = 0;
    await expect(
      ensureDataSource(racing, { ...wanted, name: `WAF_cn-shanghai_${A}` }),
    ).rejects.toBeInstanceOf(RecordAlreadyExists);
    expect(creates).toBe(5);
    const boom = new Error('store down');
    let broke = 0;
    const broken = {
      dataSources: {
        ...racing.dataSources,
        create: () => {
          broke += 1;
          return Promise.reject(boom);
        },
      } as DataSourceRepository,
    };
    await expect(ensureDataSource(broken, { ...wanted, name: 'other' })).rejects.toBe(boom);
    // Any other failure is not a lost race: no retry.
    expect(broke).toBe(1);
  });
});

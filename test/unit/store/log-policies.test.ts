// The log integration policies' repository (shared/store/log-policies.ts) on the in-memory
// double: a policy read back holds exactly what was written, its key is `<template>/<account>`,
// refusals name the policy, and a template's policies page in account order with cursors bound
// to that template.

import { beforeEach, describe, expect, it } from 'vitest';
import { InvalidCursor } from '../../../shared/domain/cursor';
import type { IntegrationPolicy } from '../../../shared/logs/model';
import type { Store } from '../../../shared/store';
import type { ManualClock } from '../../support/manual-clock';
import { iso, memoryStore, T0 } from '../../support/memory-store';

let clock: ManualClock;
let store: Store;

beforeEach(async () => {
  ({ clock, store } = await memoryStore());
});

function policy(
  templateId: string,
  accountId: string,
  extra: Partial<IntegrationPolicy> = {},
): Omit<IntegrationPolicy, 'version' | 'createdAt' | 'updatedAt'> {
  return {
    templateId,
    accountId,
    enabled: true,
    autoAddNewLogstores: false,
    consumeFrom: iso(T0 - 3_600_000),
    generation: 3,
    changedBy: 'user alice',
    ...extra,
  };
}

describe('log integration policies', () => {
  it('a policy read back holds exactly the fields it was written with', async () => {
    const created = await store.logPolicies.create(policy('WAF', '1111111111111111'));
    expect(created).toStrictEqual({
      ...policy('WAF', '1111111111111111'),
      version: 1,
      createdAt: iso(T0),
      updatedAt: iso(T0),
    });
    expect(await store.logPolicies.get('WAF/1111111111111111')).toStrictEqual(created);

    const flipped = await store.logPolicies.create(
      policy('SLB', '2222222222222222', {
        enabled: false,
        autoAddNewLogstores: true,
        generation: 7,
        changedBy: 'timer t',
      }),
    );
    expect(await store.logPolicies.get('SLB/2222222222222222')).toStrictEqual(flipped);
    expect(flipped).toMatchObject({ enabled: false, autoAddNewLogstores: true, generation: 7 });

    clock.advance(60_000);
    const updated = await store.logPolicies.update({ ...created, generation: 4 });
    expect(updated).toMatchObject({ version: 2, generation: 4, updatedAt: iso(T0 + 60_000) });
    expect(await store.logPolicies.get('WAF/1111111111111111')).toStrictEqual(updated);
  });

  it('its key is <template>/<account>: the account is all that follows the first slash', async () => {
    await store.logPolicies.create(policy('WAF', 'acc/with/slashes'));
    expect(await store.logPolicies.get('WAF/acc/with/slashes')).toMatchObject({
      templateId: 'WAF',
      accountId: 'acc/with/slashes',
    });
    expect(await store.logPolicies.get('WAF/acc')).toBeUndefined();
    await expect(store.logPolicies.get('WAF')).rejects.toThrow(
      new TypeError('WAF is not a policy key <templateId>/<accountId>'),
    );
    await expect(store.logPolicies.delete('no-slash', 1)).rejects.toBeInstanceOf(TypeError);
  });

  it('refusals name the policy', async () => {
    const created = await store.logPolicies.create(policy('WAF', '111'));
    await expect(store.logPolicies.create(policy('WAF', '111'))).rejects.toMatchObject({
      code: 'AlreadyExists',
      message: 'log integration policy WAF/111 already exists',
    });
    await store.logPolicies.update(created);
    await expect(store.logPolicies.update(created)).rejects.toMatchObject({
      code: 'ConcurrentModification',
      details: { record: 'log integration policy WAF/111', expectedVersion: 1 },
    });
    await expect(store.logPolicies.delete('WAF/111', 1)).rejects.toMatchObject({
      details: { record: 'log integration policy WAF/111' },
    });
    await store.logPolicies.delete('WAF/111', 2);
    expect(await store.logPolicies.get('WAF/111')).toBeUndefined();
  });

  it('times that are not ISO 8601 are refused naming the field', async () => {
    await expect(
      store.logPolicies.create(policy('WAF', '111', { consumeFrom: 'soon' })),
    ).rejects.toThrow('consumeFrom: "soon" is not an ISO 8601 time');
    const created = await store.logPolicies.create(policy('WAF', '111'));
    await expect(store.logPolicies.update({ ...created, createdAt: 'then' })).rejects.toThrow(
      'createdAt: "then" is not an ISO 8601 time',
    );
  });

  it("pages one template's policies in account order, following the cursor", async () => {
    for (const account of ['103', '101', '104', '102']) {
      await store.logPolicies.create(policy('WAF', account));
    }
    await store.logPolicies.create(policy('SLB', '100'));
    await store.logPolicies.create(policy('WAFX', '100'));
    const first = await store.logPolicies.pageForTemplate('WAF', { limit: 3 });
    expect(first.items.map((p) => p.accountId)).toEqual(['101', '102', '103']);
    expect(first.items[0]).toStrictEqual(await store.logPolicies.get('WAF/101'));
    const rest = await store.logPolicies.pageForTemplate('WAF', {
      limit: 3,
      cursor: first.nextCursor,
    });
    expect(rest).toStrictEqual({ items: [expect.objectContaining({ accountId: '104' })] });
    expect(
      (await store.logPolicies.pageForTemplate('SLB', { limit: 10 })).items.map(
        (p) => p.templateId,
      ),
    ).toEqual(['SLB']);
    expect(await store.logPolicies.pageForTemplate('NONE', { limit: 10 })).toStrictEqual({
      items: [],
    });
    // A cursor belongs to its template.
    await expect(
      store.logPolicies.pageForTemplate('WAFX', { limit: 3, cursor: first.nextCursor }),
    ).rejects.toThrow(/issued for another query/);
    await expect(
      store.logPolicies.pageForTemplate('WAF', { limit: 3, cursor: 'x.y' }),
    ).rejects.toBeInstanceOf(InvalidCursor);
  });
});

// The role sweep fans every managed member out to workers, a chunk each; a chunk FC refused is
// reported and left to the next sweep. And what the sweep timer and the worker do with their
// trigger.

import { describe, expect, it } from 'vitest';
import type { FanOut } from '../../../shared/domain/fan-out';
import type { ManagedMember } from '../../../shared/onboarding/model';
import {
  decodeSweepChunk,
  handleRoleCheckChunk,
  handleRoleSweepTimer,
} from '../../../shared/roles/handlers';
import type {
  MemberRoleReport,
  ServiceLinkedRoles,
} from '../../../shared/roles/service-linked-roles';
import {
  chunkMembers,
  DEFAULT_CHUNK_SIZE,
  type SweepChunk,
  startSweep,
} from '../../../shared/roles/sweep';
import { capturingLogger } from '../../support/invocation';

const T = '2026-01-01T00:00:00.000Z';
const members = (n: number): ManagedMember[] =>
  Array.from({ length: n }, (_, i) => ({
    accountId: String(2000000000000000 + n - i),
    status: 'managed' as const,
    scopeIds: ['s'],
    version: 1,
    createdAt: T,
    updatedAt: T,
  }));

function recordingFanOut(refuse: (chunk: number) => Error | string | undefined = () => undefined) {
  const invoked: Array<{ functionName: string; payload: SweepChunk }> = [];
  const fanOut: FanOut = {
    async invokeAsync(functionName, payload) {
      const chunk = payload as SweepChunk;
      // Earlier chunks answer later: the order of answers is not the order of chunks.
      await new Promise((resolve) => setTimeout(resolve, 20 - chunk.chunk * 5));
      const refusal = refuse(chunk.chunk);
      if (refusal !== undefined) throw refusal;
      invoked.push({ functionName, payload: chunk });
      return { requestId: `req-${chunk.chunk}` };
    },
  };
  return { fanOut, invoked };
}

describe('startSweep', () => {
  it('sends every member once, in account order, in chunks of 48 by default, to the worker', async () => {
    const { fanOut, invoked } = recordingFanOut();
    const all = members(100);
    const started = await startSweep({
      store: { members: { list: async () => all } },
      fanOut,
      workerFunction: 'worker',
    });
    expect(DEFAULT_CHUNK_SIZE).toBe(48);
    expect(started).toEqual({
      sweepId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      members: 100,
      chunks: 3,
      invoked: 3,
      failed: [],
    });
    const sorted = invoked.sort((a, b) => a.payload.chunk - b.payload.chunk);
    expect(sorted.map((i) => i.functionName)).toEqual(['worker', 'worker', 'worker']);
    expect(sorted.map((i) => i.payload.accountIds.length)).toEqual([48, 48, 4]);
    expect(sorted.flatMap((i) => i.payload.accountIds)).toEqual(all.map((m) => m.accountId).sort());
    for (const { payload } of sorted) {
      expect(payload).toStrictEqual({
        sweepId: started.sweepId,
        chunk: payload.chunk,
        chunks: 3,
        accountIds: payload.accountIds,
      });
    }
  });

  it('passes the chunk size and the repair flag on', async () => {
    const { fanOut, invoked } = recordingFanOut();
    const started = await startSweep(
      { store: { members: { list: async () => members(5) } }, fanOut, workerFunction: 'w' },
      { chunkSize: 2, repair: false },
    );
    expect(started.chunks).toBe(3);
    expect(invoked.every((i) => i.payload.repair === false)).toBe(true);
  });

  it('lists chunks FC refused, in chunk order, and counts the rest', async () => {
    const { fanOut } = recordingFanOut((chunk) =>
      chunk === 2 ? new Error('Throttling') : chunk === 0 ? 'plain refusal' : undefined,
    );
    const started = await startSweep(
      { store: { members: { list: async () => members(7) } }, fanOut, workerFunction: 'w' },
      { chunkSize: 2 },
    );
    expect(started).toMatchObject({
      members: 7,
      chunks: 4,
      invoked: 2,
      failed: [
        { chunk: 0, reason: 'plain refusal' },
        { chunk: 2, reason: 'Throttling' },
      ],
    });
  });

  it('a sweep of no members invokes nothing', async () => {
    const { fanOut, invoked } = recordingFanOut();
    expect(
      await startSweep({
        store: { members: { list: async () => [] } },
        fanOut,
        workerFunction: 'w',
      }),
    ).toMatchObject({ members: 0, chunks: 0, invoked: 0, failed: [] });
    expect(invoked).toEqual([]);
  });

  it('chunks of exactly the size leave no empty chunk', () => {
    expect(chunkMembers(['3', '1', '2', '4'], 2)).toEqual([
      ['1', '2'],
      ['3', '4'],
    ]);
    expect(chunkMembers([], 2)).toEqual([]);
  });
});

describe('handleRoleSweepTimer', () => {
  it('starts the sweep and logs it, and each chunk FC refused', async () => {
    const { logger, lines } = capturingLogger();
    const started = {
      sweepId: 's-1',
      members: 3,
      chunks: 2,
      invoked: 1,
      failed: [{ chunk: 1, reason: 'Throttling' }],
    };
    expect(await handleRoleSweepTimer({ startSweep: async () => started, logger })).toBe(started);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'info',
        message: 'role sweep fanned out',
        sweepId: 's-1',
        members: 3,
        chunks: 2,
        invoked: 1,
        failed: 1,
      }),
      expect.objectContaining({
        level: 'warn',
        message: 'role sweep chunk not invoked',
        chunk: 1,
        reason: 'Throttling',
      }),
    ]);
  });
});

describe('handleRoleCheckChunk', () => {
  const report = (
    accountId: string,
    roles: MemberRoleReport['roles'],
    reachable = true,
  ): MemberRoleReport => ({
    accountId,
    reachable,
    roles,
  });
  const role = (
    roleName: string,
    state: 'present' | 'missing' | 'unreachable',
    repaired?: boolean,
  ) => ({
    roleName,
    services: ['s'],
    serviceName: null,
    state,
    checkedAt: T,
    ...(repaired === undefined ? {} : { repaired }),
  });

  function recordingRoles(
    results: Array<MemberRoleReport | { accountId: string; skipped: string }>,
  ) {
    const asked: Array<{ accountIds: readonly string[]; caller: unknown; options: unknown }> = [];
    const roles = {
      async checkAccounts(accountIds: readonly string[], caller: unknown, options: unknown) {
        asked.push({ accountIds, caller, options });
        return results;
      },
    } as unknown as ServiceLinkedRoles;
    return { roles, asked };
  }

  it('checks the chunk as the sweep and sums up what it found', async () => {
    const { roles, asked } = recordingRoles([
      report('1', [role('A', 'present'), role('B', 'missing')]),
      report('2', [role('A', 'unreachable')], false),
      report('3', [role('A', 'present', true), role('B', 'present', false)]),
      report('4', []),
      { accountId: '5', skipped: 'not a managed member' },
    ]);
    const { logger, lines } = capturingLogger();
    const outcome = await handleRoleCheckChunk(
      { roles, logger },
      { sweepId: 'sw', chunk: 2, chunks: 3, accountIds: ['1', '2', '3', '4', '5'] },
    );
    expect(asked).toStrictEqual([
      {
        accountIds: ['1', '2', '3', '4', '5'],
        caller: { cause: { kind: 'timer', trigger: 'role-sweep/sw' } },
        options: {},
      },
    ]);
    expect(outcome).toEqual({
      sweepId: 'sw',
      chunk: 2,
      checked: 4,
      unreachable: ['2'],
      missing: [{ accountId: '1', roles: ['B'] }],
      repaired: [{ accountId: '3', roles: ['A'] }],
      skipped: [{ accountId: '5', reason: 'not a managed member' }],
    });
    expect(lines).toEqual([
      expect.objectContaining({
        message: 'role check chunk finished',
        sweepId: 'sw',
        chunk: 2,
        checked: 4,
        unreachable: 1,
        missing: 1,
        repaired: 1,
        skipped: 1,
      }),
    ]);
  });

  it('passes the sweep repair flag on when the chunk carries one', async () => {
    const { roles, asked } = recordingRoles([]);
    await handleRoleCheckChunk(
      { roles, logger: capturingLogger().logger },
      { sweepId: 'sw', chunk: 0, chunks: 1, accountIds: ['1'], repair: true },
    );
    expect(asked[0]?.options).toEqual({ repair: true });
  });

  it('refuses a chunk that is not one', async () => {
    const { roles, asked } = recordingRoles([]);
    await expect(
      handleRoleCheckChunk({ roles, logger: capturingLogger().logger }, { sweepId: 'sw' }),
    ).rejects.toThrow(/role check chunk/);
    expect(asked).toEqual([]);
    const bad = (patch: Record<string, unknown>) => () =>
      decodeSweepChunk({ sweepId: 's', chunk: 0, chunks: 1, accountIds: ['1'], ...patch });
    expect(bad({})).not.toThrow();
    for (const patch of [
      { sweepId: '' },
      { chunk: -1 },
      { chunk: 0.5 },
      { chunks: 0 },
      { accountIds: ['x1'] },
      { accountIds: ['1'.repeat(33)] },
      { accountIds: Array.from({ length: 501 }, (_, i) => String(i)) },
      { repair: 'yes' },
      { extra: 1 },
    ]) {
      expect(bad(patch), JSON.stringify(patch).slice(0, 40)).toThrow();
    }
    expect(bad({ accountIds: Array.from({ length: 500 }, (_, i) => String(i)) })).not.toThrow();
  });
});

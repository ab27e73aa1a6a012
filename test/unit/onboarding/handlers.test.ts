// What the event and timer functions do with their trigger: each directory event reconciles the
// accounts it names once (by its event id), skipped events are reported, and the timer gives way
// to a reconcile already running instead of waiting for it.

import { describe, expect, it } from 'vitest';
import {
  type AcquireOutcome,
  IdempotencyPayloadMismatch,
  type IdempotencyStore,
} from '../../../shared/domain/idempotency';
import { LeaseBusy } from '../../../shared/domain/lease';
import {
  decodeOnboardingWork,
  EVENT_LOCK_SECONDS,
  EVENT_RECORD_TTL_SECONDS,
  handleDirectoryEvents,
  handleOnboardingWork,
  handleReconcileTimer,
} from '../../../shared/onboarding/handlers';
import type { Membership } from '../../../shared/onboarding/membership';
import type { ReconcileSummary } from '../../../shared/onboarding/model';
import type { OnboardingWork, WorkOutcome } from '../../../shared/onboarding/runs';
import { MalformedTriggerEvent } from '../../../shared/runtime/trigger-events';
import { createStore } from '../../../shared/store';
import { ensureStoreTables } from '../../../shared/store/tables';
import { capturingLogger } from '../../support/invocation';
import { MemoryTablestore } from '../../support/memory-tablestore';

const MEMBER = '1798765432109876';

function summary(kind: 'full' | 'accounts', runId: string): ReconcileSummary {
  return {
    runId,
    kind,
    cause: { kind: 'timer', trigger: 't' },
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:01.000Z',
    added: [MEMBER],
    removed: [],
    moved: [],
    updated: ['1'],
    unchanged: 4,
    failed: [],
    skipped: [],
  };
}

/** A Membership that records what it was asked to reconcile. */
function recordingMembership(reconcile?: () => Promise<ReconcileSummary>) {
  const calls: Array<{ op: string; caller: unknown; arg: unknown }> = [];
  let runs = 0;
  const membership = {
    async reconcileAccounts(caller: unknown, accountIds: readonly string[]) {
      calls.push({ op: 'reconcileAccounts', caller, arg: accountIds });
      runs++;
      return summary('accounts', `run-${runs}`);
    },
    async reconcile(caller: unknown, options: unknown) {
      calls.push({ op: 'reconcile', caller, arg: options });
      return reconcile ? reconcile() : summary('full', 'run-full');
    },
  } as unknown as Membership;
  return { membership, calls };
}

function event(id: string, eventName: string, data: Record<string, unknown> = {}) {
  return {
    specversion: '1.0',
    id: `ce-${id}`,
    source: 'acs.resourcemanager',
    type: 'resourcemanager:ActionTrail:ApiCall',
    time: '2024-05-01T08:00:01Z',
    data: { eventId: id, eventName, ...data },
  };
}

async function idempotency() {
  const client = new MemoryTablestore();
  await ensureStoreTables(client);
  return createStore({ client }).idempotency;
}

describe('handleDirectoryEvents', () => {
  it('reconciles the accounts each change names, reports skipped events, and keeps the result small', async () => {
    const { membership, calls } = recordingMembership();
    const { logger, lines } = capturingLogger();
    const outcomes = await handleDirectoryEvents(
      { membership, idempotency: await idempotency(), logger },
      [
        event('e1', 'MoveAccount', { requestParameters: { AccountId: MEMBER } }),
        event('e2', 'CreateFolder'),
      ],
    );
    expect(calls).toEqual([
      {
        op: 'reconcileAccounts',
        caller: { cause: { kind: 'event', eventId: 'e1', eventName: 'MoveAccount' } },
        arg: [MEMBER],
      },
    ]);
    expect(outcomes).toStrictEqual([
      {
        eventId: 'e1',
        eventName: 'MoveAccount',
        accountIds: [MEMBER],
        summary: {
          runId: 'run-1',
          kind: 'accounts',
          added: [MEMBER],
          removed: [],
          moved: [],
          failed: [],
        },
      },
      {
        eventId: 'e2',
        eventName: 'CreateFolder',
        skipped: 'CreateFolder is not a Resource Directory membership change',
      },
    ]);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'info',
        message: 'directory event skipped',
        eventId: 'e2',
        eventName: 'CreateFolder',
        reason: 'CreateFolder is not a Resource Directory membership change',
      }),
    ]);
  });

  it('a repeated event id answers with the first run, without reconciling again', async () => {
    const { membership, calls } = recordingMembership();
    const deps = { membership, idempotency: await idempotency(), logger: capturingLogger().logger };
    const moved = event('e1', 'MoveAccount', { requestParameters: { AccountId: MEMBER } });
    const [first] = await handleDirectoryEvents(deps, [moved]);
    const [again] = await handleDirectoryEvents(deps, [moved, moved]);
    expect(calls).toHaveLength(1);
    expect(again).toEqual(first);
    // The same id naming other accounts is not a repeat.
    await expect(
      handleDirectoryEvents(deps, [
        event('e1', 'MoveAccount', { requestParameters: { AccountId: '1' } }),
      ]),
    ).rejects.toBeInstanceOf(IdempotencyPayloadMismatch);
  });

  it('keeps each event a day, and holds it longer than the function may run', async () => {
    const asked: Array<{ lockMs: number; ttlMs: number }> = [];
    const store: IdempotencyStore = {
      async acquire(_key, _hash, options): Promise<AcquireOutcome> {
        asked.push({ lockMs: options.lockMs, ttlMs: options.ttlMs });
        return { kind: 'completed', resultJson: '{"runId":"stored"}' };
      },
      complete: async () => undefined,
      release: async () => undefined,
    };
    const { membership } = recordingMembership();
    const [outcome] = await handleDirectoryEvents(
      { membership, idempotency: store, logger: capturingLogger().logger },
      [event('e1', 'MoveAccount')],
    );
    expect(outcome).toMatchObject({ summary: { runId: 'stored' } });
    expect(asked).toEqual([{ lockMs: 330_000, ttlMs: 86_400_000 }]);
    expect(EVENT_RECORD_TTL_SECONDS).toBe(86_400);
    expect(EVENT_LOCK_SECONDS).toBeGreaterThan(300);
  });
});

describe('handleReconcileTimer', () => {
  it('reconciles everything as the timer, without waiting for a running change', async () => {
    const { membership, calls } = recordingMembership();
    const outcome = await handleReconcileTimer(
      { membership, logger: capturingLogger().logger },
      'nightly',
    );
    expect(outcome).toEqual({ reconciled: summary('full', 'run-full') });
    expect(calls).toEqual([
      {
        op: 'reconcile',
        caller: { cause: { kind: 'timer', trigger: 'nightly' } },
        arg: { waitMs: 0 },
      },
    ]);
  });

  it('gives way to a run that holds the lease, saying so', async () => {
    const busy = new LeaseBusy('membership', 'reconcile/1', 0, 'A reconcile');
    const { membership } = recordingMembership(() => Promise.reject(busy));
    const { logger, lines } = capturingLogger();
    expect(await handleReconcileTimer({ membership, logger }, 'nightly')).toEqual({
      skipped: busy.message,
    });
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'info',
        message: 'reconcile skipped: another run holds the lease',
        trigger: 'nightly',
      }),
    ]);
  });

  it('any other failure fails the tick', async () => {
    const boom = new Error('directory unreachable');
    const { membership } = recordingMembership(() => Promise.reject(boom));
    await expect(
      handleReconcileTimer({ membership, logger: capturingLogger().logger }, 'nightly'),
    ).rejects.toBe(boom);
  });
});

describe('the onboarding worker', () => {
  const runId = '3f0c9a52-8d1e-4a57-9c1b-2b7d3e4f5a60';

  it('takes its work as FC delivers it and refuses what is not work, naming the field', () => {
    const chunk = { step: 'chunk', runId, chunk: 2, lane: 1, assumeRoleRate: 47 };
    expect(decodeOnboardingWork(Buffer.from(JSON.stringify(chunk)))).toEqual(chunk);
    expect(decodeOnboardingWork(Buffer.from(JSON.stringify({ step: 'plan', runId })))).toEqual({
      step: 'plan',
      runId,
    });
    expect(() => decodeOnboardingWork(Buffer.from('{nope'))).toThrow(MalformedTriggerEvent);
    expect(() => decodeOnboardingWork({ ...chunk, assumeRoleRate: 101 })).toThrow(
      /onboarding work.*assumeRoleRate/,
    );
    expect(() => decodeOnboardingWork({ step: 'plan', runId: 'not-a-uuid' })).toThrow(/runId/);
  });

  it('answers what the run did and logs it as done, or as skipped with the reason', async () => {
    const answers: WorkOutcome[] = [
      { step: 'chunk', runId, chunk: 2, accounts: 3, failed: 1 },
      { step: 'plan', runId, skipped: 'already planned' },
    ];
    const seen: OnboardingWork[] = [];
    const runs = {
      async work(work: OnboardingWork): Promise<WorkOutcome> {
        seen.push(work);
        const next = answers.shift();
        if (!next) throw new Error('no more answers');
        return next;
      },
    };
    const { logger, lines } = capturingLogger();
    const chunk: OnboardingWork = { step: 'chunk', runId, chunk: 2, lane: 1, assumeRoleRate: 47 };
    expect(await handleOnboardingWork({ runs, logger }, chunk)).toEqual({
      step: 'chunk',
      runId,
      chunk: 2,
      accounts: 3,
      failed: 1,
    });
    expect(await handleOnboardingWork({ runs, logger }, { step: 'plan', runId })).toEqual({
      step: 'plan',
      runId,
      skipped: 'already planned',
    });
    expect(seen).toEqual([chunk, { step: 'plan', runId }]);
    expect(
      lines.map(({ level, message, step, skipped, accounts }) => ({
        level,
        message,
        step,
        skipped,
        accounts,
      })),
    ).toEqual([
      {
        level: 'info',
        message: 'onboarding work done',
        step: 'chunk',
        skipped: undefined,
        accounts: 3,
      },
      {
        level: 'info',
        message: 'onboarding work skipped',
        step: 'plan',
        skipped: 'already planned',
        accounts: undefined,
      },
    ]);
  });
});

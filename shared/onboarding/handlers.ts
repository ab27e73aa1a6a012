// What the event, timer and onboarding-worker functions do with their trigger: directory events
// reconcile the accounts they name (each event once, by its id); the timer reconciles everything
// unless a run is already going; the worker plans a run or works one of its chunks.

import { type IdempotencyStore, makeIdempotent } from '../domain/idempotency';
import { LeaseBusy } from '../domain/lease';
import type { Logger } from '../runtime/logger';
import { decodeJsonEvent } from '../runtime/trigger-events';
import { type DirectoryEvent, decodeDirectoryEvents } from './directory-events';
import type { Membership } from './membership';
import type { ReconcileSummary } from './model';
import {
  type OnboardingRuns,
  type OnboardingWork,
  onboardingWorkSchema,
  type WorkOutcome,
} from './runs';

/** How long a handled event id answers repeats (EventBridge retries for up to a day). */
export const EVENT_RECORD_TTL_SECONDS = 24 * 3600;
/** Must outlast the function's timeout (s.yaml: 300 s). */
export const EVENT_LOCK_SECONDS = 330;

export type EventOutcome =
  | {
      eventId: string;
      eventName: string;
      accountIds: string[];
      summary: Pick<ReconcileSummary, 'runId' | 'kind' | 'added' | 'removed' | 'moved' | 'failed'>;
    }
  | { eventId: string; eventName: string; skipped: string };

export async function handleDirectoryEvents(
  deps: { membership: Membership; idempotency: IdempotencyStore; logger: Logger },
  payload: unknown,
): Promise<EventOutcome[]> {
  const events = decodeDirectoryEvents(payload);
  const reconcileOnce = makeIdempotent(
    async (event: Extract<DirectoryEvent, { kind: 'change' }>) => {
      const summary = await deps.membership.reconcileAccounts(
        { cause: { kind: 'event', eventId: event.eventId, eventName: event.eventName } },
        event.accountIds,
      );
      // Kept as the record's result: the counts and what changed, not every unchanged id.
      const { runId, kind, added, removed, moved, failed } = summary;
      return { runId, kind, added, removed, moved, failed };
    },
    {
      store: deps.idempotency,
      name: 'directory-event',
      keyOf: (event) => event.eventId,
      payloadOf: (event) => ({ eventName: event.eventName, accountIds: event.accountIds }),
      ttlSeconds: EVENT_RECORD_TTL_SECONDS,
      lockSeconds: EVENT_LOCK_SECONDS,
    },
  );
  const outcomes: EventOutcome[] = [];
  // One at a time, in delivery order: every event takes the membership lease anyway.
  for (const event of events) {
    if (event.kind === 'skipped') {
      deps.logger.info('directory event skipped', {
        eventId: event.eventId,
        eventName: event.eventName,
        reason: event.reason,
      });
      outcomes.push({ eventId: event.eventId, eventName: event.eventName, skipped: event.reason });
      continue;
    }
    const summary = await reconcileOnce(event);
    outcomes.push({
      eventId: event.eventId,
      eventName: event.eventName,
      accountIds: event.accountIds,
      summary,
    });
  }
  return outcomes;
}

export type TimerOutcome = { reconciled: ReconcileSummary } | { skipped: string };

/** The timer's reconcile: when another run holds the lease, this tick has nothing to add. */
export async function handleReconcileTimer(
  deps: { membership: Membership; logger: Logger },
  trigger: string,
): Promise<TimerOutcome> {
  try {
    return {
      reconciled: await deps.membership.reconcile(
        { cause: { kind: 'timer', trigger } },
        { waitMs: 0 },
      ),
    };
  } catch (error) {
    if (!(error instanceof LeaseBusy)) throw error;
    deps.logger.info('reconcile skipped: another run holds the lease', { trigger });
    return { skipped: error.message };
  }
}

export function decodeOnboardingWork(event: unknown): OnboardingWork {
  return decodeJsonEvent(event, onboardingWorkSchema, 'onboarding work');
}

/** One invocation of the onboarding worker: plan a run, or work one of its chunks. */
export async function handleOnboardingWork(
  deps: { runs: Pick<OnboardingRuns, 'work'>; logger: Logger },
  work: OnboardingWork,
): Promise<WorkOutcome> {
  const outcome = await deps.runs.work(work);
  if ('skipped' in outcome) {
    deps.logger.info('onboarding work skipped', { ...outcome });
  } else {
    deps.logger.info('onboarding work done', { ...outcome });
  }
  return outcome;
}

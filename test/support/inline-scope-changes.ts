// A scope change as the API makes it (OnboardingRuns: stored under the run's lease, then the run
// onboards), with its worker invocations run in the test's own process until none is left, so a
// test of the membership rules reads the change's summary as the run recorded it.

import type { Caller } from '../../shared/domain/caller';
import type { Clock } from '../../shared/domain/clock';
import type { Membership } from '../../shared/onboarding/membership';
import type { ReconcileSummary, Scope } from '../../shared/onboarding/model';
import {
  type OnboardingRuns,
  type OnboardingRunsDeps,
  onboardingWorkSchema,
  OnboardingRuns as Runs,
} from '../../shared/onboarding/runs';
import { InlineFanOut } from './inline-fan-out';

export interface InlineScopeChanges {
  runs: OnboardingRuns;
  fanOut: InlineFanOut;
  addScope(
    input: Parameters<OnboardingRuns['startScopeAddition']>[0],
    caller: Caller,
  ): Promise<{ scope: Scope; created: boolean; summary: ReconcileSummary }>;
  removeScope(
    scopeId: string,
    caller: Caller,
  ): Promise<{ scope: Scope; summary: ReconcileSummary }>;
}

export function inlineScopeChanges(
  membership: Membership,
  store: OnboardingRunsDeps['store'],
  clock?: Clock,
): InlineScopeChanges {
  const fanOut = new InlineFanOut();
  const runs = new Runs({
    membership,
    store,
    fanOut,
    workerFunction: 'rdgov-onboarding-worker',
    assumeRoleRate: 95,
    startWaitMs: 0,
    ...(clock ? { clock } : {}),
  });
  async function settle(runId: string): Promise<ReconcileSummary> {
    await fanOut.drain((payload) => runs.work(onboardingWorkSchema.parse(payload)));
    const finished = await runs.progress(runId);
    if (!finished.summary) throw new Error(`run ${runId} did not finish: ${finished.state}`);
    return finished.summary;
  }
  return {
    runs,
    fanOut,
    async addScope(input, caller) {
      const { run, ...started } = await runs.startScopeAddition(input, caller);
      return { ...started, summary: await settle(run.runId) };
    },
    async removeScope(scopeId, caller) {
      const { run, scope } = await runs.startScopeRemoval(scopeId, caller);
      return { scope, summary: await settle(run.runId) };
    },
  };
}

// The onboarding-worker function's wiring: the management scope's use cases with FC async
// invocation (a run's planner starts its lanes, each chunk invokes the next of its lane), and a
// chunk's AssumeRole calls paced at its lane's share of the account's rate.

import { createFcInvoker } from '../cloud/fc/invoke';
import { decodeOnboardingWork, handleOnboardingWork } from '../onboarding/handlers';
import type { WorkOutcome } from '../onboarding/runs';
import type { FunctionDefinition } from '../runtime/function';
import {
  MEMBERSHIP_CONFIG_SECTIONS,
  type MembershipConfig,
  type MembershipRuntime,
  membershipRuntime,
} from './membership';

/** Plans an onboarding run, or works one chunk of it (invoked asynchronously). */
export const onboardingWorkerFunction: FunctionDefinition<
  (typeof MEMBERSHIP_CONFIG_SECTIONS)[number],
  MembershipRuntime,
  WorkOutcome
> = {
  name: 'onboarding-worker',
  config: MEMBERSHIP_CONFIG_SECTIONS,
  start: (config: MembershipConfig) =>
    membershipRuntime(config, { memberSessions: 'onboarding-worker', fanOut: createFcInvoker }),
  invoke(event, invocation, runtime, logger) {
    const work = decodeOnboardingWork(event);
    const lane =
      work.step === 'chunk' ? { lane: work.lane, assumeRoleRate: work.assumeRoleRate } : undefined;
    const { runs } = runtime.forInvocation(invocation, logger, lane);
    return handleOnboardingWork({ runs: runs(), logger }, work);
  },
};

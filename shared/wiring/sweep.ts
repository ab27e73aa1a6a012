// The role-sweep function's wiring: it lists members and fans them out; it reaches no member
// itself, so it loads only the Tablestore and FC SDKs.

import { createFcInvoker } from '../cloud/fc/invoke';
import type { Config } from '../config';
import { handleRoleSweepTimer } from '../roles/handlers';
import { type SweepStarted, startSweep } from '../roles/sweep';
import type { Invocation } from '../runtime/context';
import type { FunctionDefinition } from '../runtime/function';
import { decodeTimerEvent } from '../runtime/trigger-events';
import { storeRuntime } from './store';

export const SWEEP_CONFIG_SECTIONS = ['cloud', 'fc', 'tablestore', 'roles', 'logging'] as const;
type SweepSection = (typeof SWEEP_CONFIG_SECTIONS)[number];

interface SweepRuntime {
  forInvocation(invocation: Invocation): { startSweep(): Promise<SweepStarted> };
}

function sweepRuntime(config: Config<SweepSection>): SweepRuntime {
  const { store, useCredentialsOf } = storeRuntime(config);
  return {
    forInvocation(invocation) {
      const credentials = useCredentialsOf(invocation);
      const fanOut = createFcInvoker({
        endpoint: config.fc.endpoint,
        protocol: config.cloud.protocol,
        credentials,
        accountId: invocation.accountId,
      });
      return {
        startSweep: () =>
          startSweep({ store, fanOut, workerFunction: config.roles.workerFunction }),
      };
    },
  };
}

/** The hourly sweep: every managed member, in chunks, to role-check-worker. */
export const roleSweepFunction: FunctionDefinition<SweepSection, SweepRuntime, SweepStarted> = {
  name: 'role-sweep',
  config: SWEEP_CONFIG_SECTIONS,
  start: (config) => sweepRuntime(config),
  invoke(event, invocation, runtime, logger) {
    decodeTimerEvent(event);
    const { startSweep } = runtime.forInvocation(invocation);
    return handleRoleSweepTimer({ startSweep, logger });
  },
};

// The role-sweep function's wiring: it lists members and fans them out; it reaches no member
// itself, so it loads only the Tablestore and FC SDKs.

import { createFcInvoker } from '../cloud/fc/invoke';
import type { Config } from '../config';
import { type SweepStarted, startSweep } from '../roles/sweep';
import type { Invocation } from '../runtime/context';
import { storeRuntime } from './store';

export const SWEEP_CONFIG_SECTIONS = ['cloud', 'fc', 'tablestore', 'roles', 'logging'] as const;
export type SweepConfig = Config<(typeof SWEEP_CONFIG_SECTIONS)[number]>;

export function sweepRuntime(config: SweepConfig) {
  const { store, useCredentialsOf } = storeRuntime(config);
  return {
    forInvocation(invocation: Invocation): { startSweep(): Promise<SweepStarted> } {
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

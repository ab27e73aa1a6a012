// Builds the management-scope use cases from configuration for one invocation: the process keeps
// the Tablestore client and the member credential cache (warm instances reuse both); each
// invocation brings the function role's current credentials and its request id.

import { createResourceManagerDirectory } from '../cloud/resourcemanager/directory-source';
import { createMemberCredentialCache, memberAccessFor, memberProbe } from '../cloud/sts';
import { createTablestoreClient } from '../cloud/tablestore';
import type { Config } from '../config';
import type { DirectorySource } from '../directory/ports';
import { FunctionMisconfigured } from '../errors';
import { Membership } from '../onboarding/membership';
import type { OnboardingStep } from '../onboarding/ports';
import type { PrerequisiteSettings } from '../onboarding/prerequisites';
import type { CloudCredentials, Invocation } from '../runtime/context';
import type { Logger } from '../runtime/logger';
import { createStore, type Store } from '../store';

export const MEMBERSHIP_CONFIG_SECTIONS = [
  'cloud',
  'resourceManager',
  'sts',
  'tablestore',
  'membership',
  'logging',
] as const;
export type MembershipConfig = Config<(typeof MEMBERSHIP_CONFIG_SECTIONS)[number]>;

export interface MembershipInvocation {
  membership: Membership;
  directory: DirectorySource;
  store: Store;
  settings: PrerequisiteSettings;
}

export interface MembershipRuntime {
  store: Store;
  forInvocation(invocation: Invocation, logger: Logger): MembershipInvocation;
}

function requireCredentials(invocation: Invocation): CloudCredentials {
  if (!invocation.credentials) {
    throw new FunctionMisconfigured(
      `Function ${invocation.functionName} has no role credentials; set "role" in s.yaml to the role deploy/function-role-policy.json describes`,
    );
  }
  return invocation.credentials;
}

export function membershipRuntime(
  config: MembershipConfig,
  options: { steps?: readonly OnboardingStep[] } = {},
): MembershipRuntime {
  let credentials: CloudCredentials | undefined;
  const client = createTablestoreClient({
    endpoint: config.tablestore.endpoint,
    instanceName: config.tablestore.instance,
    credentials: () => {
      if (!credentials)
        throw new FunctionMisconfigured('No function role credentials for Tablestore');
      return credentials;
    },
  });
  const store = createStore({ client });
  const credentialCache = createMemberCredentialCache();
  return {
    store,
    forInvocation(invocation, logger) {
      credentials = requireCredentials(invocation);
      const directory = createResourceManagerDirectory({
        endpoint: config.resourceManager.endpoint,
        protocol: config.cloud.protocol,
        credentials,
        accountId: invocation.accountId,
      });
      const settings: PrerequisiteSettings = {
        callerAccountId: invocation.accountId,
        memberAccessRole: config.sts.memberAccessRole,
        ...(config.membership.delegatedServicePrincipal
          ? { servicePrincipal: config.membership.delegatedServicePrincipal }
          : {}),
      };
      const access = memberAccessFor(config, invocation, credentialCache);
      const membership = new Membership({
        store,
        directory,
        probe: memberProbe(access),
        settings,
        concurrency: config.membership.reconcileConcurrency,
        logger,
        ...(options.steps ? { steps: options.steps } : {}),
      });
      return { membership, directory, store, settings };
    },
  };
}

// One member's roles through the official SDKs, with that member's temporary credentials: RAM
// GetRole (@alicloud/ram20150501) reads a role, ResourceManager CreateServiceLinkedRole
// (@alicloud/resourcemanager20200331) creates a service-linked role. Both act on the account the
// credentials belong to, so every answer that carries a role ARN is checked against the member
// it is meant for: credentials wired to the wrong member give an error, never another account's
// roles. Throttling, 5xx and lost connections are retried; what is left becomes an `error` /
// `created: false` result naming the API, the account and the cloud's code, never a throw.

import * as Ram from '@alicloud/ram20150501';
import * as ResourceManager from '@alicloud/resourcemanager20200331';
import type { CloudProtocol } from '../../config';
import { CloudApiError } from '../../errors';
import type { MemberRoles, RoleCreation, RoleLookup } from '../../roles/ports';
import type { CloudCredentials } from '../../runtime/context';
import {
  createOpenApiClient,
  describeFailure,
  type RetryOptions,
  readSdkFailure,
  type SdkFailure,
  withRetry,
} from '../openapi';

export type { MemberRoles, RoleCreation, RoleLookup } from '../../roles/ports';

/** RAM GetRole's answer for a role the account does not have. */
export const ROLE_NOT_FOUND_CODE = 'EntityNotExist.Role';
/**
 * CreateServiceLinkedRole's answer when the account already has the role (the code RAM uses for
 * an existing role; the Alibaba Cloud Terraform team's service-linked-role module documents it
 * for service-linked roles created twice).
 */
export const ROLE_EXISTS_CODE = 'EntityAlreadyExists.Role';
/** Our code for an answer about another account than the member asked for. */
export const ACCOUNT_MISMATCH_CODE = 'AccountMismatch';

export interface MemberRolesOptions extends RetryOptions {
  /** host[:port] of RAM (ram.aliyuncs.com). */
  ramEndpoint: string;
  /** host[:port] of ResourceManager (resourcemanager.aliyuncs.com). */
  resourceManagerEndpoint: string;
  protocol: CloudProtocol;
  /** The member's temporary credentials (AssumeRole into its access role). */
  credentials: CloudCredentials;
  /** The member the credentials are for. */
  accountId: string;
}

function hintFor(api: string, permission: string) {
  return (failure: SdkFailure, kind: string): string | undefined => {
    if (kind === 'denied') {
      return `The member's access role (and the session policy, if any) must allow ${permission}; ${api} acts in the account the credentials belong to.`;
    }
    if (kind === 'throttled') return 'The API is throttling this account; retry shortly.';
    if (failure.code === 'InvalidParameter.ServiceName') {
      return 'The service name is not one CreateServiceLinkedRole knows; correct it in the role catalog (ROLE_CATALOG_EXTRA).';
    }
    return undefined;
  };
}

/** The account id in `acs:ram::<account>:role/<name>`, if the ARN has that form. */
export function roleArnAccount(arn: string | undefined): string | undefined {
  return arn ? /^acs:ram::(\d+):role\//i.exec(arn)?.[1] : undefined;
}

export function createMemberRoles(options: MemberRolesOptions): MemberRoles {
  const ram = createOpenApiClient(
    Ram.default,
    { endpoint: options.ramEndpoint, protocol: options.protocol },
    options.credentials,
  );
  const resourceManager = createOpenApiClient(
    ResourceManager.default,
    { endpoint: options.resourceManagerEndpoint, protocol: options.protocol },
    options.credentials,
  );

  function failed(service: string, api: string, permission: string, error: unknown) {
    const failure = describeFailure(
      service,
      api,
      options.accountId,
      error,
      hintFor(api, permission),
    );
    return { reason: new CloudApiError(failure).message, code: failure.cloudCode };
  }

  function mismatch(api: string, arn: string, found: string) {
    return {
      reason: `${api} as account ${options.accountId} answered for account ${found} (${arn}): the credentials belong to another account; obtain them by AssumeRole into acs:ram::${options.accountId}:role/<access role>.`,
      code: ACCOUNT_MISMATCH_CODE,
    };
  }

  return {
    async getRole(roleName: string): Promise<RoleLookup> {
      try {
        const response = await withRetry(
          () => ram.getRole(new Ram.GetRoleRequest({ roleName })),
          options,
        );
        const arn = response.body?.role?.arn;
        const account = roleArnAccount(arn);
        if (arn && account && account !== options.accountId) {
          return { state: 'error', ...mismatch('RAM GetRole', arn, account) };
        }
        return { state: 'present' };
      } catch (error) {
        if (readSdkFailure(error).code === ROLE_NOT_FOUND_CODE) return { state: 'missing' };
        return { state: 'error', ...failed('RAM', 'GetRole', 'ram:GetRole', error) };
      }
    },

    async createServiceLinkedRole(serviceName: string): Promise<RoleCreation> {
      try {
        // Safe to repeat: a retry after a lost answer finds the role and counts it as created.
        const response = await withRetry(
          () =>
            resourceManager.createServiceLinkedRole(
              new ResourceManager.CreateServiceLinkedRoleRequest({ serviceName }),
            ),
          options,
        );
        const role = response.body?.role;
        const account = roleArnAccount(role?.arn);
        if (role?.arn && account && account !== options.accountId) {
          return {
            created: false,
            ...mismatch('ResourceManager CreateServiceLinkedRole', role.arn, account),
          };
        }
        return role?.roleName ? { created: true, roleName: role.roleName } : { created: true };
      } catch (error) {
        if (readSdkFailure(error).code === ROLE_EXISTS_CODE) return { created: true };
        return {
          created: false,
          ...failed(
            'ResourceManager',
            'CreateServiceLinkedRole',
            'ram:CreateServiceLinkedRole',
            error,
          ),
        };
      }
    },
  };
}

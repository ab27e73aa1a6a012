// One member's roles through the official SDKs, with that member's temporary credentials: RAM
// GetRole (@alicloud/ram20150501) reads a role, ResourceManager CreateServiceLinkedRole
// (@alicloud/resourcemanager20200331) creates a service-linked role. Both act on the account the
// credentials belong to, so every answer that carries a role ARN is checked against the member
// it is meant for: credentials wired to the wrong member give an error, never another account's
// roles. Throttling, 5xx and lost connections are retried; what is left becomes an `error` /
// `created: false` result naming the API, the account and the cloud's code, never a throw.
//
// createMemberRolesAccess reaches the member through MemberAccess (credentials cached per
// member): when the member refuses the cached credentials (an access-denied answer: its access
// role deleted or created again, the session ended early), they are dropped and the role is
// assumed again, once; a member whose role cannot be assumed any more is `unreachable`, with the
// role ARN and STS's refusal.

import * as Ram from '@alicloud/ram20150501';
import * as ResourceManager from '@alicloud/resourcemanager20200331';
import type { CloudProtocol } from '../../config';
import { CloudApiError } from '../../errors';
import type { AccessRefusal } from '../../onboarding/model';
import type { MemberRoles, MemberRolesAccess, RoleCreation, RoleLookup } from '../../roles/ports';
import type { CloudCredentials } from '../../runtime/context';
import {
  createOpenApiClient,
  describeFailure,
  failureKind,
  type RetryOptions,
  readSdkFailure,
  type SdkFailure,
  withRetry,
} from '../openapi';
import { accessRefusal, type MemberAccess, type TemporaryCredentials } from '../sts';

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

interface MemberRolesEndpoints extends RetryOptions {
  /** host[:port] of RAM (ram.aliyuncs.com). */
  ramEndpoint: string;
  /** host[:port] of ResourceManager (resourcemanager.aliyuncs.com). */
  resourceManagerEndpoint: string;
  protocol: CloudProtocol;
}

export interface MemberRolesOptions extends MemberRolesEndpoints {
  /** The member's temporary credentials (AssumeRole into its access role). */
  credentials: CloudCredentials;
  /** The member the credentials are for. */
  accountId: string;
}

export interface MemberRolesAccessOptions extends MemberRolesEndpoints {
  /** AssumeRole into members' access role, credentials cached per member. */
  access: MemberAccess;
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

/** The SDK clients of one session in one member. */
interface SessionClients {
  ram: InstanceType<typeof Ram.default>;
  resourceManager: InstanceType<typeof ResourceManager.default>;
}

function clientsFor(
  endpoints: MemberRolesEndpoints,
  credentials: CloudCredentials,
): SessionClients {
  return {
    ram: createOpenApiClient(
      Ram.default,
      { endpoint: endpoints.ramEndpoint, protocol: endpoints.protocol },
      credentials,
    ),
    resourceManager: createOpenApiClient(
      ResourceManager.default,
      { endpoint: endpoints.resourceManagerEndpoint, protocol: endpoints.protocol },
      credentials,
    ),
  };
}

/**
 * The calls of one member's roles with one session's clients. A role that is absent (GetRole)
 * or already there (CreateServiceLinkedRole) is an answer; every other failure is thrown, for
 * the caller to read (a refused session, or an error to report).
 */
function roleCalls(accountId: string, retry: RetryOptions) {
  function mismatch(api: string, arn: string, found: string) {
    return {
      reason: `${api} as account ${accountId} answered for account ${found} (${arn}): the credentials belong to another account; obtain them by AssumeRole into acs:ram::${accountId}:role/<access role>.`,
      code: ACCOUNT_MISMATCH_CODE,
    };
  }
  return {
    async getRole(clients: SessionClients, roleName: string): Promise<RoleLookup> {
      try {
        const response = await withRetry(
          () => clients.ram.getRole(new Ram.GetRoleRequest({ roleName })),
          retry,
        );
        const arn = response.body?.role?.arn;
        const account = roleArnAccount(arn);
        if (arn && account && account !== accountId) {
          return { state: 'error', ...mismatch('RAM GetRole', arn, account) };
        }
        return { state: 'present' };
      } catch (error) {
        if (readSdkFailure(error).code === ROLE_NOT_FOUND_CODE) return { state: 'missing' };
        throw error;
      }
    },

    async createServiceLinkedRole(
      clients: SessionClients,
      serviceName: string,
    ): Promise<RoleCreation> {
      try {
        // Safe to repeat: a retry after a lost answer finds the role and counts it as created.
        const response = await withRetry(
          () =>
            clients.resourceManager.createServiceLinkedRole(
              new ResourceManager.CreateServiceLinkedRoleRequest({ serviceName }),
            ),
          retry,
        );
        const role = response.body?.role;
        const account = roleArnAccount(role?.arn);
        if (role?.arn && account && account !== accountId) {
          return {
            created: false,
            ...mismatch('ResourceManager CreateServiceLinkedRole', role.arn, account),
          };
        }
        return role?.roleName ? { created: true, roleName: role.roleName } : { created: true };
      } catch (error) {
        if (readSdkFailure(error).code === ROLE_EXISTS_CODE) return { created: true };
        throw error;
      }
    },
  };
}

/** What a failed call reports: the cloud's error, named by service, API and account. */
function failed(
  accountId: string,
  service: string,
  api: string,
  permission: string,
  error: unknown,
) {
  const failure = describeFailure(service, api, accountId, error, hintFor(api, permission));
  return { reason: new CloudApiError(failure).message, code: failure.cloudCode };
}

/** The RAM actions a role check calls in a member: what its session policy must allow. */
export const ROLE_CHECK_ACTIONS = ['ram:GetRole'] as const;
/**
 * What a repair calls besides. CreateServiceLinkedRole is a ResourceManager API, authorized as
 * resourcemanager:CreateServiceLinkedRole by its product's name; RAM's documentation speaks of the
 * permission to create a service-linked role as ram:CreateServiceLinkedRole (the
 * AliyunServiceRolePolicyFor... policies grant it). A session policy only narrows the role, so
 * allowing both names grants nothing else.
 */
export const ROLE_REPAIR_ACTIONS = [
  'resourcemanager:CreateServiceLinkedRole',
  'ram:CreateServiceLinkedRole',
] as const;

const GET_ROLE = ['RAM', 'GetRole', 'ram:GetRole'] as const;
const CREATE_SERVICE_LINKED_ROLE = [
  'ResourceManager',
  'CreateServiceLinkedRole',
  'resourcemanager:CreateServiceLinkedRole (ram:CreateServiceLinkedRole in RAM documentation)',
] as const;

/** One member's roles with fixed credentials (the caller obtained them). */
export function createMemberRoles(options: MemberRolesOptions): MemberRoles {
  const clients = clientsFor(options, options.credentials);
  const calls = roleCalls(options.accountId, options);
  return {
    async getRole(roleName) {
      try {
        return await calls.getRole(clients, roleName);
      } catch (error) {
        return { state: 'error', ...failed(options.accountId, ...GET_ROLE, error) };
      }
    },
    async createServiceLinkedRole(serviceName) {
      try {
        return await calls.createServiceLinkedRole(clients, serviceName);
      } catch (error) {
        return {
          created: false,
          ...failed(options.accountId, ...CREATE_SERVICE_LINKED_ROLE, error),
        };
      }
    },
  };
}

/** The member could not be reached again after it refused a session. */
class MemberUnreachable extends Error {
  constructor(readonly refusal: AccessRefusal) {
    super(refusal.reason);
  }
}

interface Session {
  credentials: TemporaryCredentials;
  clients: SessionClients;
  /** Obtained after the member refused the session before it: not renewed again. */
  renewed: boolean;
}

/** Members' roles through MemberAccess: the MemberRolesAccess port of the roles capability. */
export function createMemberRolesAccess(options: MemberRolesAccessOptions): MemberRolesAccess {
  const { access } = options;
  return async (accountId) => {
    let current: Session;
    try {
      const credentials = await access.credentialsFor(accountId);
      current = { credentials, clients: clientsFor(options, credentials), renewed: false };
    } catch (error) {
      const refusal = accessRefusal(access, accountId, error);
      if (!refusal) throw error;
      return { ok: false, ...refusal };
    }
    const calls = roleCalls(accountId, options);
    // One renewal per refused session, whichever of the concurrent calls found it refused.
    let renewal: { from: Session; next: Promise<Session> } | undefined;

    function renewed(used: Session): Promise<Session> {
      if (renewal?.from !== used) {
        const next = access.renew(accountId, used.credentials).then(
          (credentials): Session => ({
            credentials,
            clients: clientsFor(options, credentials),
            renewed: true,
          }),
          (error: unknown) => {
            const refusal = accessRefusal(access, accountId, error);
            throw refusal ? new MemberUnreachable(refusal) : error;
          },
        );
        renewal = { from: used, next };
      }
      return renewal.next;
    }

    /**
     * Runs `call` with the current session. An access-denied answer to a session that was not
     * itself just renewed renews it and runs `call` again; a denial of the renewed session is
     * the member's permissions, thrown for the caller to report.
     */
    async function send<T>(call: (clients: SessionClients) => Promise<T>): Promise<T> {
      const used = current;
      try {
        return await call(used.clients);
      } catch (error) {
        if (used.renewed || failureKind(readSdkFailure(error)) !== 'denied') throw error;
        const fresh = await renewed(used);
        current = fresh;
        return await call(fresh.clients);
      }
    }

    return {
      ok: true,
      roles: {
        async getRole(roleName) {
          try {
            return await send((clients) => calls.getRole(clients, roleName));
          } catch (error) {
            if (error instanceof MemberUnreachable) {
              return { state: 'unreachable', refusal: error.refusal };
            }
            return { state: 'error', ...failed(accountId, ...GET_ROLE, error) };
          }
        },
        async createServiceLinkedRole(serviceName) {
          try {
            return await send((clients) => calls.createServiceLinkedRole(clients, serviceName));
          } catch (error) {
            if (error instanceof MemberUnreachable) {
              return {
                created: false,
                reason: error.refusal.reason,
                ...(error.refusal.code ? { code: error.refusal.code } : {}),
                unreachable: error.refusal,
              };
            }
            return {
              created: false,
              ...failed(accountId, ...CREATE_SERVICE_LINKED_ROLE, error),
            };
          }
        },
      },
    };
  };
}

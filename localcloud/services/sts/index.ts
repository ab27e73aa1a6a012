// STS 2015-04-01: AssumeRole and GetCallerIdentity. AssumeRole enforces what the cloud does:
// no root callers, the role exists, its trust policy names the caller, RoleSessionName and
// DurationSeconds are valid, a session Policy parses; the token it issues expires against
// localcloud's clock and carries the session policy. It also enforces STS's rate limit: 100
// AssumeRole calls per second per Alibaba Cloud account, the calls of its RAM users and roles
// counted together (Alibaba Cloud's notice of 2022-08-29: "100 requests per second instead of
// 6000 requests per minute"); the excess gets POP's flow-control answer, 400 Throttling.User.
// Cloud services assuming a role for a customer (FC for a function's role) are not counted.

import { isoSeconds } from '../../core/clock';
import type { LocalService, Principal } from '../../core/contracts';
import type { LocalCredentialStore } from '../../core/credentials';
import { evaluateTrustPolicy, parsePolicy, type TrustRequester } from '../../core/policy';
import { createPopService, type PopCall, type PopDependencies, PopError } from '../../core/pop';
import type { PerSecondRateLimit } from '../../core/rate-limit';
import type { Organization } from '../../org/organization';
import { mapOrganizationError } from '../../org/role-api';

export const STS_VERSION = '2015-04-01';

const ROLE_ARN = /^acs:ram::(\d+):role\/(.+)$/i;
const SESSION_NAME = /^[a-zA-Z0-9.@\-_]{2,64}$/;
const MAX_SESSION_POLICY_LENGTH = 2048;
/** A role session assuming another role may ask for at most this long. */
const CHAINED_MAX_DURATION = 3600;

export interface StsDependencies extends PopDependencies {
  organization: Organization;
  credentials: LocalCredentialStore;
  /** AssumeRole calls per second per calling account (absent: not limited). */
  assumeRoleLimit?: PerSecondRateLimit;
}

/** STS's documented AssumeRole limit per account and second. */
export const ASSUME_ROLE_LIMIT_PER_SECOND = 100;

export function trustRequesterOf(principal: Principal): TrustRequester {
  return {
    type: principal.type,
    accountId: principal.accountId,
    ...(principal.userName ? { userName: principal.userName } : {}),
    ...(principal.roleName ? { roleName: principal.roleName } : {}),
    ...(principal.serviceName ? { serviceName: principal.serviceName } : {}),
  };
}

function describeCaller(principal: Principal): string {
  if (principal.type === 'AssumedRoleUser')
    return `${principal.arn}/${principal.sessionName ?? ''}`;
  return principal.arn;
}

export function parseRoleArn(roleArn: string): { accountId: string; roleName: string } | undefined {
  const match = ROLE_ARN.exec(roleArn.trim());
  if (!match) return undefined;
  const [, accountId = '', path = ''] = match;
  // A path such as aliyun-service-role/ precedes the name.
  const roleName = path.split('/').pop() ?? '';
  return roleName === '' ? undefined : { accountId, roleName };
}

function assumeRole(call: PopCall, deps: StsDependencies): Record<string, unknown> {
  const caller = call.caller;
  if (caller.type !== 'Service' && deps.assumeRoleLimit?.admit(caller.accountId) === false) {
    throw new PopError(400, 'Throttling.User', 'Request was denied due to user flow control.');
  }
  if (caller.type === 'Account') {
    throw new PopError(403, 'NoPermission', 'Roles may not be assumed by root accounts.');
  }
  const roleArn = call.required('RoleArn');
  const sessionName = call.required('RoleSessionName');
  const target = parseRoleArn(roleArn);
  if (!target) {
    throw new PopError(
      400,
      'InvalidParameter.RoleArn',
      `The parameter RoleArn is wrongly formed: "${roleArn}" (expected acs:ram::<account id>:role/<role name>).`,
    );
  }
  const role = deps.organization.findRole(target.accountId, target.roleName);
  if (!role) {
    throw new PopError(404, 'EntityNotExist.Role', `The specified Role not exists: ${roleArn}`);
  }
  if (!SESSION_NAME.test(sessionName)) {
    throw new PopError(
      400,
      'InvalidParameter.RoleSessionName',
      'The parameter RoleSessionName is wrongly formed: 2 to 64 characters of letters, digits, and . @ - _',
    );
  }
  const maxDuration =
    caller.type === 'AssumedRoleUser' ? CHAINED_MAX_DURATION : role.maxSessionDuration;
  const rawDuration = call.param('DurationSeconds');
  const durationSeconds =
    rawDuration === undefined || rawDuration === '' ? 3600 : Number(rawDuration);
  if (
    !Number.isInteger(durationSeconds) ||
    durationSeconds < 900 ||
    durationSeconds > maxDuration
  ) {
    throw new PopError(
      400,
      'InvalidParameter.DurationSeconds',
      `The Min/Max value of DurationSeconds is 15min/${maxDuration / 3600}hr for role ${role.name}; got ${rawDuration}.`,
    );
  }
  const sessionPolicy = call.param('Policy');
  if (sessionPolicy !== undefined && sessionPolicy !== '') {
    if (sessionPolicy.length > MAX_SESSION_POLICY_LENGTH) {
      throw new PopError(
        400,
        'InvalidParameter.PolicyLength',
        `The session Policy is ${sessionPolicy.length} characters; at most ${MAX_SESSION_POLICY_LENGTH} are allowed.`,
      );
    }
    const parsed = parsePolicy(sessionPolicy, 'permission');
    if (!parsed.ok) {
      throw new PopError(
        400,
        'InvalidParameter.PolicyGrammar',
        `The parameter Policy has not passed grammar check: ${parsed.reason}.`,
      );
    }
  }
  const trust = parsePolicy(role.trustPolicy, 'trust');
  const externalId = call.param('ExternalId');
  const decision = trust.ok
    ? evaluateTrustPolicy(trust.policy, trustRequesterOf(caller), target.accountId, {
        ...(externalId ? { externalId } : {}),
      })
    : { allowed: false, reason: `the trust policy is malformed: ${trust.reason}` };
  if (!decision.allowed) {
    throw new PopError(
      403,
      'NoPermission',
      `No permission perform sts:AssumeRole on this Role. Maybe you should check the role's trust policy, or the permission of this role. (role ${deps.organization.roleArn(target.accountId, role)}, caller ${describeCaller(caller)}: ${decision.reason})`,
    );
  }
  const session = deps.credentials.issueSession({
    accountId: target.accountId,
    roleName: role.name,
    roleId: role.roleId,
    sessionName,
    durationSeconds,
    ...(sessionPolicy ? { sessionPolicy } : {}),
  });
  return {
    Credentials: {
      AccessKeyId: session.accessKeyId,
      AccessKeySecret: session.accessKeySecret,
      SecurityToken: session.securityToken,
      Expiration: isoSeconds(session.expiresAt),
    },
    AssumedRoleUser: {
      Arn: `acs:ram::${target.accountId}:role/${role.name.toLowerCase()}/${sessionName}`,
      AssumedRoleId: `${role.roleId}:${sessionName}`,
    },
  };
}

function getCallerIdentity(call: PopCall): Record<string, unknown> {
  const caller = call.caller;
  switch (caller.type) {
    case 'AssumedRoleUser': {
      const roleName = (caller.roleName ?? '').toLowerCase();
      return {
        AccountId: caller.accountId,
        Arn: `acs:ram::${caller.accountId}:assumed-role/${roleName}/${caller.sessionName ?? ''}`,
        IdentityType: 'AssumedRoleUser',
        PrincipalId: `${caller.roleId ?? ''}:${caller.sessionName ?? ''}`,
        RoleId: caller.roleId ?? '',
      };
    }
    case 'RAMUser':
      return {
        AccountId: caller.accountId,
        Arn: caller.arn,
        IdentityType: 'RAMUser',
        PrincipalId: caller.userId ?? '',
        UserId: caller.userId ?? '',
      };
    case 'Service':
      return {
        AccountId: caller.accountId,
        Arn: caller.arn,
        IdentityType: 'Service',
        PrincipalId: caller.serviceName ?? '',
      };
    default:
      return {
        AccountId: caller.accountId,
        Arn: caller.arn,
        IdentityType: 'Account',
        PrincipalId: caller.accountId,
        UserId: caller.accountId,
      };
  }
}

export function createStsService(deps: StsDependencies): LocalService {
  return createPopService(
    {
      name: 'sts',
      version: STS_VERSION,
      product: 'sts',
      hostId: 'sts.aliyuncs.com',
      actions: {
        AssumeRole: (call) => assumeRole(call, deps),
        GetCallerIdentity: (call) => getCallerIdentity(call),
      },
      unrestrictedActions: ['GetCallerIdentity'],
      resourceOf: (action, call) => {
        if (action !== 'AssumeRole') return undefined;
        const target = parseRoleArn(call.param('RoleArn') ?? '');
        return target
          ? `acs:ram::${target.accountId}:role/${target.roleName.toLowerCase()}`
          : undefined;
      },
      mapError: mapOrganizationError,
    },
    deps,
  );
}

// Builds the management-scope and service-linked-role use cases from configuration for one
// invocation: the process keeps the Tablestore client, the role catalog and the member
// credential cache (warm instances reuse them); each invocation brings the function role's
// current credentials and its request id. Also the definitions of the functions that run them
// without HTTP and without FC: directory-events, reconcile and role-check-worker
// (onboarding-worker, which fans out, is in onboarding-worker.ts).

import type { FcInvokerOptions } from '../cloud/fc/invoke';
import { OPENAPI_RETRY_POLICY } from '../cloud/openapi';
import { createMemberRolesAccess } from '../cloud/ram/member-roles';
import { createResourceManagerDirectory } from '../cloud/resourcemanager/directory-source';
import { createMemberCredentialCache, memberAccessFor, memberProbe } from '../cloud/sts';
import type { Config } from '../config';
import type { DirectorySource } from '../directory/ports';
import { isoNow, systemClock } from '../domain/clock';
import type { FanOut } from '../domain/fan-out';
import type { IdempotencyStore } from '../domain/idempotency';
import { FunctionMisconfigured } from '../errors';
import { handleDirectoryEvents, handleReconcileTimer } from '../onboarding/handlers';
import { Membership } from '../onboarding/membership';
import type { OnboardingStep } from '../onboarding/ports';
import type { PrerequisiteSettings } from '../onboarding/prerequisites';
import { MembershipQueries } from '../onboarding/queries';
import { OnboardingRuns } from '../onboarding/runs';
import { loadRoleCatalog, roleCatalogPort } from '../roles/catalog';
import { handleRoleCheckChunk } from '../roles/handlers';
import { type RoleReport, type RoleReportLine, readRoleReport } from '../roles/report';
import { ServiceLinkedRoles } from '../roles/service-linked-roles';
import { type SweepStarted, startSweep } from '../roles/sweep';
import type { CloudCredentials, Invocation } from '../runtime/context';
import type { FunctionDefinition } from '../runtime/function';
import type { Logger } from '../runtime/logger';
import type { RetryPolicy } from '../runtime/retry';
import { decodeTimerEvent } from '../runtime/trigger-events';
import type { SessionSearch } from '../sessions/ports';
import { type MemberSessionFunction, memberSessionPolicy } from './member-sessions';
import { storeRuntime } from './store';

export const MEMBERSHIP_CONFIG_SECTIONS = [
  'cloud',
  'resourceManager',
  'sts',
  'ram',
  'fc',
  'tablestore',
  'membership',
  'roles',
  'logging',
] as const;
type MembershipSection = (typeof MEMBERSHIP_CONFIG_SECTIONS)[number];
export type MembershipConfig = Config<MembershipSection>;

/** The use cases of one invocation. */
export interface MembershipInvocation {
  membership: Membership;
  /** Onboarding runs (scope changes carried on asynchronously); only where fanOut is given. */
  runs(): OnboardingRuns;
  queries: MembershipQueries;
  roles: ServiceLinkedRoles;
  /** The organization-wide role report, as of now. */
  roleReport(
    visible?: (accountId: string) => boolean,
  ): Promise<{ report: RoleReport; lines: RoleReportLine[] }>;
  startSweep(options: { repair?: boolean }): Promise<SweepStarted>;
  /** Directory events are handled once per event id. */
  idempotency: IdempotencyStore;
  /** The session-audit index (searches, for the API). */
  sessions: SessionSearch;
}

/** A lane of an onboarding run: its share of the account's AssumeRole rate. */
export interface RunLane {
  lane: number;
  assumeRoleRate: number;
}

export interface MembershipRuntime {
  forInvocation(invocation: Invocation, logger: Logger, lane?: RunLane): MembershipInvocation;
}

/** The Resource Directory as the function's own role reads it. */
export function directoryFor(
  config: Config<'cloud' | 'resourceManager'>,
  invocation: Invocation,
  credentials: CloudCredentials,
): DirectorySource {
  return createResourceManagerDirectory({
    endpoint: config.resourceManager.endpoint,
    protocol: config.cloud.protocol,
    credentials,
    accountId: invocation.accountId,
  });
}

/**
 * AssumeRole, role reads and creations are idempotent, and a verdict should not hinge on a
 * throttled call: more attempts than the default (six: a call failing one time in five still
 * ends wrong less than once in 15,000).
 */
const MEMBER_ROLES_RETRY: RetryPolicy = { ...OPENAPI_RETRY_POLICY, maxAttempts: 6 };

/**
 * The role check every newly managed member gets (repairing per ROLE_REPAIR_POLICY); an
 * offboarded member's checks are cleared.
 */
function roleCheckStep(roles: ServiceLinkedRoles): OnboardingStep {
  return {
    name: 'role-check',
    async onboard(member) {
      await roles.checkMember(member, { cause: { kind: 'timer', trigger: 'onboarding' } });
    },
    async offboard(accountId) {
      await roles.forgetMember(accountId);
    },
  };
}

export function membershipRuntime(
  config: MembershipConfig,
  options: {
    /** Which function this is: its member sessions carry that function's session policy. */
    memberSessions: MemberSessionFunction;
    steps?: readonly OnboardingStep[];
    /**
     * FC async invocation, for the functions that fan work out (api: sweeps and onboarding runs;
     * onboarding-worker: a run's next chunks). Passed in rather than imported here so that the
     * other functions' bundles do not carry the FC SDK.
     */
    fanOut?: (options: FcInvokerOptions) => FanOut;
  },
): MembershipRuntime {
  // A malformed ROLE_CATALOG_EXTRA stops the cold start, naming the entry and field.
  const catalog = roleCatalogPort(loadRoleCatalog(config.roles.catalogExtra));
  const { store, sessions, useCredentialsOf } = storeRuntime(config);
  const credentialCache = createMemberCredentialCache();
  const sessionPolicy = memberSessionPolicy(options.memberSessions, config.roles);
  return {
    forInvocation(invocation, logger, lane) {
      const credentials = useCredentialsOf(invocation);
      const directory = directoryFor(config, invocation, credentials);
      const settings: PrerequisiteSettings = {
        callerAccountId: invocation.accountId,
        memberAccessRole: config.sts.memberAccessRole,
        ...(config.membership.delegatedServicePrincipal
          ? { servicePrincipal: config.membership.delegatedServicePrincipal }
          : {}),
      };
      // STS allows 100 AssumeRole calls a second per account: a sweep's burst may be throttled,
      // and a throttled member must not be reported unreachable.
      // A lane of an onboarding run paces its AssumeRole calls at its share of the rate (the
      // lanes of a run together stay under STS's limit); everything else at STS_ASSUME_ROLE_RATE.
      const access = memberAccessFor(config, invocation, credentialCache, {
        retry: MEMBER_ROLES_RETRY,
        sessionPolicy,
        ...(lane
          ? {
              assumeRoleRate: {
                ratePerSecond: lane.assumeRoleRate,
                share: `onboarding-lane-${lane.lane}`,
              },
            }
          : {}),
      });
      // Roles report what their checks found about reaching a member to the member's record,
      // which onboarding keeps (the Membership below; roles are built first, as one of its steps).
      let membership: Membership | undefined;
      const roles = new ServiceLinkedRoles({
        store,
        access: createMemberRolesAccess({
          access,
          ramEndpoint: config.ram.endpoint,
          resourceManagerEndpoint: config.resourceManager.endpoint,
          protocol: config.cloud.protocol,
          retry: MEMBER_ROLES_RETRY,
        }),
        catalog,
        policy: config.roles.repairPolicy,
        reachability: {
          record: (accountId, observation, caller) =>
            membership?.recordReachability(accountId, observation, caller) ?? Promise.resolve(),
        },
        logger,
      });
      membership = new Membership({
        store,
        directory,
        probe: memberProbe(access),
        settings,
        steps: [roleCheckStep(roles), ...(options.steps ?? [])],
        concurrency: config.membership.reconcileConcurrency,
        logger,
      });
      const fanOutOptions: FcInvokerOptions = {
        endpoint: config.fc.endpoint,
        protocol: config.cloud.protocol,
        credentials,
        accountId: invocation.accountId,
      };
      const { fanOut } = options;
      return {
        membership,
        runs() {
          if (!fanOut) {
            throw new FunctionMisconfigured(
              `Function ${invocation.functionName} does not run onboarding; the api and onboarding-worker functions do`,
            );
          }
          return new OnboardingRuns({
            membership,
            store,
            fanOut: fanOut(fanOutOptions),
            workerFunction: config.membership.workerFunction,
            assumeRoleRate: config.sts.assumeRoleRatePerSecond,
            lanes: config.membership.lanes,
            concurrency: config.membership.reconcileConcurrency,
            logger,
          });
        },
        queries: new MembershipQueries({ store, directory, settings }),
        roles,
        roleReport: (visible) => readRoleReport(store, catalog, isoNow(systemClock), visible),
        idempotency: store.idempotency,
        sessions,
        startSweep: (sweep) => {
          if (!fanOut) {
            throw new FunctionMisconfigured(
              `Function ${invocation.functionName} does not fan sweeps out; the api and role-sweep functions do`,
            );
          }
          return startSweep(
            {
              store,
              fanOut: fanOut(fanOutOptions),
              workerFunction: config.roles.workerFunction,
            },
            sweep.repair === undefined ? {} : { repair: sweep.repair },
          );
        },
      };
    },
  };
}

/** What the functions that run the management scope without HTTP share. */
function membershipFunction(memberSessions: MemberSessionFunction) {
  return {
    config: MEMBERSHIP_CONFIG_SECTIONS,
    start: (config: MembershipConfig) => membershipRuntime(config, { memberSessions }),
  };
}

/** Resource Directory changes recorded by ActionTrail reconcile the accounts they concern. */
export const directoryEventsFunction: FunctionDefinition<
  MembershipSection,
  MembershipRuntime,
  Awaited<ReturnType<typeof handleDirectoryEvents>>
> = {
  ...membershipFunction('directory-events'),
  name: 'directory-events',
  invoke(event, invocation, runtime, logger) {
    const { membership, idempotency } = runtime.forInvocation(invocation, logger);
    return handleDirectoryEvents({ membership, idempotency, logger }, event);
  },
};

/** The timer's reconcile of every scope against the directory. */
export const reconcileFunction: FunctionDefinition<
  MembershipSection,
  MembershipRuntime,
  Awaited<ReturnType<typeof handleReconcileTimer>>
> = {
  ...membershipFunction('reconcile'),
  name: 'reconcile',
  invoke(event, invocation, runtime, logger) {
    const timer = decodeTimerEvent(event);
    const { membership } = runtime.forInvocation(invocation, logger);
    return handleReconcileTimer({ membership, logger }, timer.triggerName);
  },
};

/** The role check of one chunk of members a sweep fanned out. */
export const roleCheckWorkerFunction: FunctionDefinition<
  MembershipSection,
  MembershipRuntime,
  Awaited<ReturnType<typeof handleRoleCheckChunk>>
> = {
  ...membershipFunction('role-check-worker'),
  name: 'role-check-worker',
  invoke(event, invocation, runtime, logger) {
    const { roles } = runtime.forInvocation(invocation, logger);
    return handleRoleCheckChunk({ roles, logger }, event);
  },
};

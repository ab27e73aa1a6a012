// Test controls: the typed `control` object on the LocalCloud handle, and the same operations as
// JSON under /__localcloud/ on the server (no signature, loopback only).

import type { ActionTrailEntry, ActionTrailLog } from '../org/actiontrail';
import type {
  Account,
  NewRole,
  Organization,
  OrganizationSnapshot,
  Role,
} from '../org/organization';
import { OrganizationError } from '../org/organization';
import type { CallFilter, CallLog } from './call-log';
import type { LocalClock } from './clock';
import { isoSeconds } from './clock';
import type { CallRecord, LocalCloudEnv, LocalRequest, LocalResponse } from './contracts';
import { type FaultInjector, type FaultRule, FaultRuleError, type NewFaultRule } from './faults';
import type { PerSecondRateLimit } from './rate-limit';

export const CONTROL_PREFIX = '/__localcloud';

export type EnvAccount = LocalCloudEnv['accounts'][number];

export interface RoleView {
  accountId: string;
  name: string;
  arn: string;
  roleId: string;
  trustPolicy: string;
  serviceName?: string;
  maxSessionDuration: number;
}

export interface LocalCloudControl {
  env(): LocalCloudEnv;
  calls(filter?: CallFilter): CallRecord[];
  clearCalls(): void;
  addFault(rule: NewFaultRule): FaultRule;
  faults(): FaultRule[];
  clearFaults(): void;
  /** Moves localcloud's clock forward (tokens expire against it). */
  advanceClock(seconds: number): { now: string; offsetSeconds: number };
  /** localcloud's current time, epoch ms. */
  now(): number;
  /** STS AssumeRole calls admitted per second per account (null: not limited). */
  stsAssumeRoleLimit(): number | null;
  /** Changes it (null lifts it), e.g. for a test that needs more calls than STS allows. */
  setStsAssumeRoleLimit(perSecond: number | null): void;
  /** CreateResourceAccount. Returns the new member with its keys. */
  createMember(input: {
    name: string;
    folderId?: string;
    type?: 'CloudAccount' | 'ResourceAccount';
    displayName?: string;
  }): EnvAccount;
  /** An existing cloud account accepts an invitation (re-joins when `id` names a removed member). */
  inviteMember(input: {
    name: string;
    folderId?: string;
    displayName?: string;
    id?: string;
  }): EnvAccount;
  moveMember(accountId: string, folderId: string): EnvAccount;
  removeMember(accountId: string): EnvAccount;
  registerDelegatedAdministrator(accountId: string, servicePrincipal: string): void;
  addRole(accountId: string, role: NewRole): RoleView;
  deleteRole(accountId: string, roleName: string): void;
  /** Replaces a role's trust policy (e.g. to break it). */
  setTrustPolicy(
    accountId: string,
    roleName: string,
    trustPolicy: string | Record<string, unknown>,
  ): RoleView;
  organization(): OrganizationSnapshot;
  /** The ActionTrail CloudEvents the directory changes above caused, with seq > `since`. */
  events(since?: number): ActionTrailEntry[];
  clearEvents(): void;
  /** How long after a write Tablestore search indexes show it (ms; default 0). */
  searchVisibilityDelay(): { delayMs: number };
  setSearchVisibilityDelay(delayMs: number): { delayMs: number };
}

/** The Tablestore setting the controls change (the service implements it). */
export interface SearchVisibilitySetting {
  searchVisibilityDelayMs(): number;
  setSearchVisibilityDelay(ms: number): void;
}

export function envAccount(organization: Organization, account: Account): EnvAccount {
  const delegatedServices = organization.delegationsOf(account.id).map((d) => d.servicePrincipal);
  let kind: EnvAccount['kind'] = 'member';
  if (account.kind === 'management') kind = 'management';
  else if (delegatedServices.length > 0) kind = 'delegated-administrator';
  return {
    id: account.id,
    name: account.name,
    kind,
    accessKeyId: account.admin.keys.accessKeyId,
    accessKeySecret: account.admin.keys.accessKeySecret,
    user: account.admin.userName,
    root: { ...account.root },
    folderId: account.folderId,
    ...(delegatedServices.length > 0 ? { delegatedServices } : {}),
  };
}

function roleView(organization: Organization, accountId: string, role: Role): RoleView {
  return {
    accountId,
    name: role.name,
    arn: organization.roleArn(accountId, role),
    roleId: role.roleId,
    trustPolicy: role.trustPolicy,
    maxSessionDuration: role.maxSessionDuration,
    ...(role.serviceName ? { serviceName: role.serviceName } : {}),
  };
}

export function createControl(deps: {
  organization: Organization;
  clock: LocalClock;
  faults: FaultInjector;
  calls: CallLog;
  env: () => LocalCloudEnv;
  /** Records the ActionTrail events of directory changes (absent = none recorded). */
  trail?: ActionTrailLog;
  /** STS's AssumeRole limit (absent = none). */
  assumeRoleLimit?: PerSecondRateLimit;
  /** Tablestore's search-index visibility delay (absent = the controls answer 404 for it). */
  search?: SearchVisibilitySetting;
}): LocalCloudControl {
  const { organization, clock, faults, calls, trail, assumeRoleLimit } = deps;
  // A refused move or removal is an API call that failed: ActionTrail records it too.
  const recordingFailure = <T>(change: () => T, recordFailure: (error: unknown) => void): T => {
    try {
      return change();
    } catch (error) {
      if (error instanceof OrganizationError) recordFailure(error);
      throw error;
    }
  };
  return {
    env: deps.env,
    calls: (filter) => calls.query(filter),
    clearCalls: () => calls.clear(),
    addFault: (rule) => faults.add(rule),
    faults: () => faults.list(),
    clearFaults: () => faults.clear(),
    advanceClock(seconds) {
      clock.advance(seconds);
      return { now: isoSeconds(clock.now()), offsetSeconds: clock.offsetSeconds };
    },
    now: () => clock.now(),
    stsAssumeRoleLimit: () => assumeRoleLimit?.limit ?? null,
    setStsAssumeRoleLimit(perSecond) {
      if (!assumeRoleLimit) throw new RangeError('this local cloud has no STS rate limit');
      assumeRoleLimit.setLimit(perSecond);
    },
    createMember(input) {
      const account = organization.createMember(input);
      trail?.memberCreated(account);
      return envAccount(organization, account);
    },
    inviteMember(input) {
      const account = organization.inviteMember(input);
      trail?.memberInvited(account);
      return envAccount(organization, account);
    },
    moveMember(accountId, folderId) {
      const account = recordingFailure(
        () => organization.moveMember(accountId, folderId),
        (error) => trail?.memberMoved(accountId, folderId, error),
      );
      trail?.memberMoved(account.id, folderId);
      return envAccount(organization, account);
    },
    removeMember(accountId) {
      const account = recordingFailure(
        () => organization.removeMember(accountId),
        (error) => trail?.memberRemoved(accountId, error),
      );
      trail?.memberRemoved(account.id);
      return envAccount(organization, account);
    },
    registerDelegatedAdministrator(accountId, servicePrincipal) {
      organization.registerDelegatedAdministrator(accountId, servicePrincipal);
    },
    addRole: (accountId, role) =>
      roleView(organization, accountId, organization.addRole(accountId, role)),
    deleteRole(accountId, roleName) {
      organization.deleteRole(accountId, roleName);
    },
    setTrustPolicy(accountId, roleName, trustPolicy) {
      const text = typeof trustPolicy === 'string' ? trustPolicy : JSON.stringify(trustPolicy);
      return roleView(
        organization,
        accountId,
        organization.setTrustPolicy(accountId, roleName, text),
      );
    },
    organization: () => organization.snapshot(),
    events: (since) => trail?.list(since) ?? [],
    clearEvents: () => trail?.clear(),
    searchVisibilityDelay() {
      if (!deps.search) throw new RangeError('this localcloud hosts no Tablestore service');
      return { delayMs: deps.search.searchVisibilityDelayMs() };
    },
    setSearchVisibilityDelay(delayMs) {
      if (!deps.search) throw new RangeError('this localcloud hosts no Tablestore service');
      deps.search.setSearchVisibilityDelay(delayMs);
      return { delayMs: deps.search.searchVisibilityDelayMs() };
    },
  };
}

// -- HTTP ---------------------------------------------------------------------------------------

class ControlError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function json(status: number, body: unknown): LocalResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body, null, 2),
  };
}

function readJson(req: LocalRequest): Record<string, unknown> {
  if (req.body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(req.body.toString('utf8'));
  } catch {
    throw new ControlError(400, 'InvalidJson', 'the request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ControlError(400, 'InvalidJson', 'the request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

function stringField(body: Record<string, unknown>, name: string, required: true): string;
function stringField(
  body: Record<string, unknown>,
  name: string,
  required?: false,
): string | undefined;
function stringField(
  body: Record<string, unknown>,
  name: string,
  required = false,
): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) {
    if (required) throw new ControlError(400, 'MissingParameter', `${name} is required`);
    return undefined;
  }
  if (typeof value !== 'string')
    throw new ControlError(400, 'InvalidParameter', `${name} must be a string`);
  return value;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

export function isLoopback(address: string): boolean {
  return LOOPBACK.has(address) || address.startsWith('127.');
}

/** Answers a request under /__localcloud/. */
export function handleControlRequest(control: LocalCloudControl, req: LocalRequest): LocalResponse {
  try {
    if (!isLoopback(req.remoteAddress)) {
      throw new ControlError(403, 'Forbidden', 'the control plane answers loopback clients only');
    }
    return route(control, req);
  } catch (error) {
    if (error instanceof ControlError)
      return json(error.status, { code: error.code, message: error.message });
    if (error instanceof OrganizationError)
      return json(error.status, { code: error.code, message: error.message });
    if (error instanceof FaultRuleError)
      return json(400, { code: 'InvalidFaultRule', message: error.message });
    if (error instanceof RangeError)
      return json(400, { code: 'InvalidParameter', message: error.message });
    throw error;
  }
}

function route(control: LocalCloudControl, req: LocalRequest): LocalResponse {
  const path = req.url.pathname.slice(CONTROL_PREFIX.length).replace(/\/+$/, '');
  const segments = path
    .split('/')
    .filter((part) => part !== '')
    .map(decodeURIComponent);
  const method = req.method.toUpperCase();
  const [first, second, third, fourth, fifth] = segments;

  if (first === 'env' && segments.length === 1 && method === 'GET') return json(200, control.env());
  if (first === 'organization' && segments.length === 1 && method === 'GET') {
    return json(200, control.organization());
  }
  if (first === 'calls' && segments.length === 1) {
    if (method === 'GET') {
      const params = req.url.searchParams;
      const since = params.get('since');
      const filter: CallFilter = {};
      const service = params.get('service');
      const action = params.get('action');
      if (service) filter.service = service;
      if (action) filter.action = action;
      if (since !== null && since !== '') {
        const value = Number(since);
        if (!Number.isInteger(value))
          throw new ControlError(400, 'InvalidParameter', 'since must be an integer seq');
        filter.since = value;
      }
      return json(200, { calls: control.calls(filter) });
    }
    if (method === 'DELETE') {
      control.clearCalls();
      return json(200, { cleared: true });
    }
  }
  if (first === 'events' && segments.length === 1) {
    if (method === 'GET') {
      const since = req.url.searchParams.get('since');
      if (since === null || since === '') return json(200, { events: control.events() });
      const value = Number(since);
      if (!Number.isInteger(value))
        throw new ControlError(400, 'InvalidParameter', 'since must be an integer seq');
      return json(200, { events: control.events(value) });
    }
    if (method === 'DELETE') {
      control.clearEvents();
      return json(200, { cleared: true });
    }
  }
  if (first === 'faults' && segments.length === 1) {
    if (method === 'POST')
      return json(201, control.addFault(readJson(req) as unknown as NewFaultRule));
    if (method === 'GET') return json(200, { faults: control.faults() });
    if (method === 'DELETE') {
      control.clearFaults();
      return json(200, { cleared: true });
    }
  }
  if (first === 'limits' && segments.length === 1) {
    if (method === 'PUT') {
      const value = readJson(req).stsAssumeRolePerSecond;
      if (value !== null && typeof value !== 'number') {
        throw new ControlError(
          400,
          'InvalidParameter',
          'stsAssumeRolePerSecond must be a positive integer or null',
        );
      }
      control.setStsAssumeRoleLimit(value);
    }
    if (method === 'GET' || method === 'PUT') {
      return json(200, { stsAssumeRolePerSecond: control.stsAssumeRoleLimit() });
    }
  }
  if (first === 'clock' && second === 'advance' && segments.length === 2 && method === 'POST') {
    const seconds = readJson(req).seconds;
    if (typeof seconds !== 'number')
      throw new ControlError(400, 'MissingParameter', 'seconds (number) is required');
    return json(200, control.advanceClock(seconds));
  }
  if (first === 'tablestore' && second === 'search-visibility' && segments.length === 2) {
    if (method === 'GET') return json(200, control.searchVisibilityDelay());
    if (method === 'PUT') {
      const delayMs = readJson(req).delayMs;
      if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) {
        throw new ControlError(400, 'InvalidParameter', 'delayMs must be a number of ms >= 0');
      }
      return json(200, control.setSearchVisibilityDelay(delayMs));
    }
  }
  if (first === 'members') {
    if (segments.length === 1 && method === 'POST') {
      const body = readJson(req);
      const type = stringField(body, 'type');
      if (type !== undefined && type !== 'CloudAccount' && type !== 'ResourceAccount') {
        throw new ControlError(
          400,
          'InvalidParameter',
          'type must be CloudAccount or ResourceAccount',
        );
      }
      const folderId = stringField(body, 'folderId');
      const displayName = stringField(body, 'displayName');
      return json(
        201,
        control.createMember({
          name: stringField(body, 'name', true),
          ...(folderId ? { folderId } : {}),
          ...(type ? { type } : {}),
          ...(displayName ? { displayName } : {}),
        }),
      );
    }
    if (second === 'invite' && segments.length === 2 && method === 'POST') {
      const body = readJson(req);
      const folderId = stringField(body, 'folderId');
      const id = stringField(body, 'id');
      const displayName = stringField(body, 'displayName');
      return json(
        201,
        control.inviteMember({
          name: stringField(body, 'name', true),
          ...(folderId ? { folderId } : {}),
          ...(id ? { id } : {}),
          ...(displayName ? { displayName } : {}),
        }),
      );
    }
    if (second && third === 'move' && segments.length === 3 && method === 'POST') {
      return json(200, control.moveMember(second, stringField(readJson(req), 'folderId', true)));
    }
    if (second && segments.length === 2 && method === 'DELETE')
      return json(200, control.removeMember(second));
  }
  if (first === 'delegated-administrators' && segments.length === 1 && method === 'POST') {
    const body = readJson(req);
    control.registerDelegatedAdministrator(
      stringField(body, 'accountId', true),
      stringField(body, 'servicePrincipal', true),
    );
    return json(201, { registered: true });
  }
  if (first === 'accounts' && second && third === 'roles') {
    if (segments.length === 3 && method === 'POST') {
      const body = readJson(req);
      const policy = body.trustPolicy;
      const trustPolicy =
        typeof policy === 'object' && policy !== null
          ? JSON.stringify(policy)
          : stringField(body, 'trustPolicy');
      const serviceName = stringField(body, 'serviceName');
      const description = stringField(body, 'description');
      const maxSessionDuration = body.maxSessionDuration;
      return json(
        201,
        control.addRole(second, {
          name: stringField(body, 'name') ?? '',
          ...(trustPolicy ? { trustPolicy } : {}),
          ...(serviceName ? { serviceName } : {}),
          ...(description ? { description } : {}),
          ...(typeof maxSessionDuration === 'number' ? { maxSessionDuration } : {}),
        }),
      );
    }
    if (fourth && segments.length === 4 && method === 'DELETE') {
      control.deleteRole(second, fourth);
      return json(200, { deleted: true });
    }
    if (fourth && fifth === 'trust' && segments.length === 5 && method === 'PUT') {
      const body = readJson(req);
      // Either the policy document itself or {trustPolicy: document | text}.
      const wrapped = body.trustPolicy;
      let document: string | Record<string, unknown> = body;
      if (typeof wrapped === 'string') document = wrapped;
      else if (typeof wrapped === 'object' && wrapped !== null)
        document = wrapped as Record<string, unknown>;
      return json(200, control.setTrustPolicy(second, fourth, document));
    }
  }
  throw new ControlError(
    404,
    'NotFound',
    `no control operation ${method} ${CONTROL_PREFIX}${path}`,
  );
}

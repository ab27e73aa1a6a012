// The management scope over HTTP: prerequisites, scopes, managed members, reconcile and its runs,
// the delegated-administrator guard and the activity log. Reads need the viewer role, changes the
// operator role. Handlers validate, call a use case, and render its result; nothing else. A scope
// change or reconcile answers 202 with its run once the change is stored; the run goes on
// asynchronously and GET /v1/reconcile/runs/{runId} follows it.

import { z } from 'zod';
import { folderPathText } from '../directory/model';
import type { Caller } from '../domain/caller';
import { NotFound } from '../errors';
import type { Membership } from '../onboarding/membership';
import {
  MANAGED_SERVICES,
  type ManagedMember,
  MEMBER_STATUSES,
  managedServiceSchema,
  NotAManagedMember,
  RUN_REASONS,
  RUN_STATES,
  SCOPE_KINDS,
} from '../onboarding/model';
import type { MembershipQueries } from '../onboarding/queries';
import type { OnboardingRuns } from '../onboarding/runs';
import type { Invocation } from '../runtime/context';
import type { Logger } from '../runtime/logger';
import {
  type ApiContext,
  defineRoute,
  FULL_PAGES,
  NO_QUERY,
  type RouteDefinition,
  visibilityOf,
} from './app';
import { scopeEntries } from './auth';
import { FOLDER_ID } from './directory-routes';
import {
  ACCOUNT_ID,
  accountIdSchema,
  fromNotAfterTo,
  isoTimeSchema,
  jsonResponse,
  pageQuery,
} from './validation';
import type { Visibility } from './visibility';

const RESOURCE_DIRECTORY_ID = /^rd-[A-Za-z0-9]{1,64}$/;
const SCOPE_ID =
  /^(account:\d{16}|folder:(r|fd)-[A-Za-z0-9]{1,64}|directory:rd-[A-Za-z0-9]{1,64})$/;

export const scopeInputSchema = z
  .strictObject({
    kind: z.enum(SCOPE_KINDS, { error: () => `must be one of ${SCOPE_KINDS.join(', ')}` }),
    targetId: z.string().max(128, 'must be at most 128 characters').optional(),
    // Optional: left out, a new scope enables no service and an existing one keeps its own.
    services: z
      .array(managedServiceSchema)
      .max(MANAGED_SERVICES.length, `at most ${MANAGED_SERVICES.length} services`)
      .refine((list) => new Set(list).size === list.length, 'must not repeat a service')
      .optional(),
  })
  .superRefine((input, ctx) => {
    const issue = (message: string) =>
      ctx.addIssue({ code: 'custom', path: ['targetId'], message });
    if (input.kind === 'account') {
      if (input.targetId === undefined) issue('required for an account scope: the account id');
      else if (!ACCOUNT_ID.test(input.targetId)) issue('must be a 16-digit account id');
    } else if (input.kind === 'folder') {
      if (input.targetId === undefined) issue('required for a folder scope: the folder id');
      else if (!FOLDER_ID.test(input.targetId))
        issue('must be a folder id such as fd-3G8sQ2lMmj or r-Wm0UXc');
    } else if (input.targetId !== undefined && !RESOURCE_DIRECTORY_ID.test(input.targetId)) {
      issue('must be the Resource Directory id (rd-...) or left out');
    }
  });

const causeSchema = z.union([
  z.strictObject({
    kind: z.literal('user'),
    identity: z.string(),
    /** The token's scope (folder and account ids) when it was limited. */
    scope: z.array(z.string()).optional(),
  }),
  z.strictObject({
    kind: z.literal('event'),
    eventId: z.string(),
    eventName: z.string().optional(),
  }),
  z.strictObject({ kind: z.literal('timer'), trigger: z.string().optional() }),
]);

const scopeSchema = z.strictObject({
  id: z.string(),
  kind: z.enum(SCOPE_KINDS),
  targetId: z.string(),
  services: z.array(z.string()),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  version: z.number().int(),
});

const failureSchema = z.strictObject({
  reason: z.string(),
  roleArn: z.string().optional(),
  code: z.string().optional(),
  at: z.string(),
});

const managedMemberSchema = z.strictObject({
  accountId: z.string(),
  displayName: z.string().optional(),
  status: z.enum(MEMBER_STATUSES),
  scopeIds: z.array(z.string()),
  folderId: z.string().optional(),
  /** As in GET /v1/directory: folder names from the root, e.g. Root/Production/Web. */
  folderPath: z.string().optional(),
  joinMethod: z.enum(['created', 'invited']).optional(),
  lastReconcileAt: z.string().optional(),
  failure: failureSchema.optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  version: z.number().int(),
});

export const reconcileSummarySchema = z.strictObject({
  runId: z.string(),
  kind: z.enum(['full', 'accounts']),
  cause: causeSchema,
  startedAt: z.string(),
  finishedAt: z.string(),
  added: z.array(z.string()),
  removed: z.array(z.strictObject({ accountId: z.string(), reason: z.string() })),
  moved: z.array(
    z.strictObject({
      accountId: z.string(),
      fromFolderId: z.string().nullable(),
      toFolderId: z.string(),
    }),
  ),
  updated: z.array(z.string()),
  unchanged: z.number().int(),
  failed: z.array(
    z.strictObject({
      accountId: z.string(),
      reason: z.string(),
      roleArn: z.string().optional(),
      code: z.string().optional(),
    }),
  ),
  skipped: z.array(z.strictObject({ accountId: z.string(), reason: z.string() })),
  note: z.string().optional(),
});

export const prerequisitesResponseSchema = z.strictObject({
  ok: z.boolean(),
  checks: z.array(
    z.strictObject({
      name: z.string(),
      ok: z.boolean(),
      message: z.string(),
      fix: z.string().optional(),
    }),
  ),
});

export const runProgressSchema = z.strictObject({
  runId: z.string(),
  reason: z.enum(RUN_REASONS),
  scopeId: z.string().optional(),
  cause: causeSchema,
  state: z.enum([...RUN_STATES, 'abandoned']),
  startedAt: z.string(),
  plannedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  total: z.number().int().nullable(),
  done: z.number().int(),
  failed: z.number().int(),
  pending: z.number().int().nullable(),
  pendingAccountIds: z.array(z.string()),
  estimatedSecondsLeft: z.number().int().nullable(),
  lanes: z.number().int().optional(),
  summary: reconcileSummarySchema.optional(),
  note: z.string().optional(),
});

export const scopeChangeResponseSchema = z.strictObject({
  scope: scopeSchema,
  created: z.boolean().optional(),
  run: runProgressSchema,
});

export const memberRemovalResponseSchema = z.strictObject({
  scope: scopeSchema,
  summary: reconcileSummarySchema,
});

export const reconcileStartedResponseSchema = z.strictObject({ run: runProgressSchema });

export const memberResponseSchema = z.strictObject({
  member: managedMemberSchema,
  scopes: z.array(scopeSchema),
});

export const membersResponseSchema = z.strictObject({
  members: z.array(managedMemberSchema),
  nextCursor: z.string().optional(),
});

export const scopesResponseSchema = z.strictObject({ scopes: z.array(scopeSchema) });

export const scopeResponseSchema = z.strictObject({
  scope: scopeSchema,
  members: z.array(z.string()),
});

export const reconcileRunsResponseSchema = z.strictObject({
  runs: z.array(reconcileSummarySchema),
  nextCursor: z.string().optional(),
});

export const activityResponseSchema = z.strictObject({
  items: z.array(
    z.strictObject({
      id: z.string(),
      at: z.string(),
      accountId: z.string().optional(),
      cause: causeSchema,
      action: z.string(),
      target: z.strictObject({ type: z.string(), id: z.string() }).optional(),
      outcome: z.enum(['succeeded', 'failed', 'refused']),
      detail: z.string().optional(),
      requestId: z.string().optional(),
    }),
  ),
  nextCursor: z.string().optional(),
});

export const removableResponseSchema = z.strictObject({
  accountId: z.string(),
  delegatedAdministrator: z.boolean(),
  servicePrincipals: z.array(z.string()),
  removable: z.boolean(),
  reason: z.string(),
  managedMembers: z.array(
    z.strictObject({
      accountId: z.string(),
      displayName: z.string().optional(),
      status: z.string(),
    }),
  ),
});

const activityQuerySchema = z
  .strictObject({
    accountId: accountIdSchema.optional(),
    from: isoTimeSchema.optional(),
    to: isoTimeSchema.optional(),
    order: z.enum(['newest-first', 'oldest-first']).optional(),
    ...pageQuery,
  })
  .superRefine(fromNotAfterTo);

const reconcileRunsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(10),
  cursor: pageQuery.cursor,
});

const memberQuerySchema = z.strictObject({
  ...pageQuery,
  status: z.enum(MEMBER_STATUSES).optional(),
  scopeId: z.string().regex(SCOPE_ID, 'must be a scope id such as folder:fd-3G8sQ2lMmj').optional(),
});

/** What the routes call: the management scope's changes, runs and queries, for one invocation. */
export interface MembershipUseCases {
  changes: Pick<Membership, 'removeMember'>;
  runs: Pick<
    OnboardingRuns,
    'startScopeAddition' | 'startScopeRemoval' | 'startReconcile' | 'progress'
  >;
  queries: Pick<
    MembershipQueries,
    | 'prerequisites'
    | 'scopes'
    | 'scope'
    | 'members'
    | 'member'
    | 'reconcileRuns'
    | 'activity'
    | 'delegatedAdministratorRemovable'
  >;
}

export interface MembershipRouteDependencies {
  membership(invocation: Invocation, logger: Logger): MembershipUseCases;
}

/** Who asked, for the activity log: the token's subject, its scope if limited, the request id. */
export function callerOf(c: ApiContext): Caller {
  const principal = c.get('principal');
  const scope = principal?.scope ? scopeEntries(principal.scope) : undefined;
  return {
    cause: {
      kind: 'user',
      identity: principal?.subject ?? 'anonymous',
      ...(scope !== undefined ? { scope } : {}),
    },
    requestId: c.env.invocation.requestId,
  };
}

/** A reconcile summary with only the accounts the request may see. */
export function visibleSummary<S extends ReconcileSummaryView>(summary: S, visible: Visibility): S {
  if (!visible.scoped) return summary;
  const byAccount = <T extends { accountId: string }>(items: T[]) =>
    visible.filter(items, (item) => item.accountId);
  const ids = (items: string[]) => visible.filter(items, (id) => id);
  return {
    ...summary,
    added: ids(summary.added),
    updated: ids(summary.updated),
    removed: byAccount(summary.removed),
    moved: byAccount(summary.moved),
    failed: byAccount(summary.failed),
    skipped: byAccount(summary.skipped),
  };
}

type ReconcileSummaryView = z.input<typeof reconcileSummarySchema>;

/** Refuses a scoped token a change to a scope outside it (by the scope's kind and target). */
function requireScopeInside(visible: Visibility, kind: string, targetId: string | undefined): void {
  if (kind === 'account') visible.requireAccounts([targetId ?? '']);
  else if (kind === 'folder') visible.requireFolder(targetId ?? '');
  else visible.requireUnscoped('a directory scope');
}

/** requireScopeInside for a scope id (`kind:target`, e.g. `folder:fd-1`, `directory`). */
function requireScopeIdInside(visible: Visibility, scopeId: string): void {
  const [kind, ...target] = scopeId.split(':');
  requireScopeInside(visible, kind ?? '', target.join(':'));
}

/** A run as a scoped token may see it: only its visible accounts pending, failed, changed. */
function visibleRun<R extends RunView>(run: R, visible: Visibility): R {
  if (!visible.scoped) return run;
  return {
    ...run,
    pendingAccountIds: visible.filter(run.pendingAccountIds, (id) => id),
    ...(run.summary !== undefined ? { summary: visibleSummary(run.summary, visible) } : {}),
  };
}

type RunView = z.input<typeof runProgressSchema>;

/** Whether a scoped token sees a scope: an account scope only when it sees the account. */
function seesScope(visible: Visibility, scope: { kind: string; targetId: string }): boolean {
  return scope.kind !== 'account' || visible.sees(scope.targetId);
}

export function membershipRoutes(deps: MembershipRouteDependencies): RouteDefinition[] {
  const use = (c: ApiContext) => deps.membership(c.env.invocation, c.env.logger);
  return [
    defineRoute({
      method: 'GET',
      path: '/v1/prerequisites',
      summary:
        'Whether scopes can be changed: RD enabled, where the functions run, the access role',
      access: 'viewer',
      query: NO_QUERY,
      responses: {
        200: {
          description: 'Each check, with a fix when it fails',
          json: prerequisitesResponseSchema,
        },
      },
      async handle(c) {
        (await visibilityOf(c)).requireUnscoped('the prerequisites of the whole organization');
        const report = await use(c).queries.prerequisites();
        return jsonResponse('GET /v1/prerequisites', prerequisitesResponseSchema, report);
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/scopes',
      summary: 'The management scopes',
      access: 'viewer',
      query: NO_QUERY,
      responses: { 200: { description: 'Every scope', json: scopesResponseSchema } },
      async handle(c) {
        const visible = await visibilityOf(c);
        const scopes = (await use(c).queries.scopes()).filter((s) => seesScope(visible, s));
        return jsonResponse('GET /v1/scopes', scopesResponseSchema, { scopes });
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/v1/scopes',
      summary: 'Add a scope (or change its services) and onboard what it covers',
      access: 'operator',
      query: NO_QUERY,
      body: scopeInputSchema,
      responses: {
        202: {
          description:
            'The scope was recorded (created is true when it is new); a run onboards what it covers',
          json: scopeChangeResponseSchema,
          headers: {
            location: 'The run that carries the change out: GET it to follow its progress',
          },
        },
      },
      errors: [404, 409],
      async handle(c, _query, { body: input }) {
        const visible = await visibilityOf(c);
        requireScopeInside(visible, input.kind, input.targetId);
        const result = await use(c).runs.startScopeAddition(
          {
            kind: input.kind,
            ...(input.services !== undefined ? { services: input.services } : {}),
            ...(input.targetId !== undefined ? { targetId: input.targetId } : {}),
          },
          callerOf(c),
        );
        return accepted(
          jsonResponse(
            'POST /v1/scopes',
            scopeChangeResponseSchema,
            { ...result, run: visibleRun(result.run, visible) },
            202,
          ),
          result.run.runId,
        );
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/scopes/:scopeId',
      summary: 'One scope and the members it covers',
      access: 'viewer',
      query: NO_QUERY,
      params: scopeParams,
      responses: { 200: { description: 'The scope', json: scopeResponseSchema } },
      errors: [404],
      async handle(c, _query, { params: { scopeId } }) {
        const visible = await visibilityOf(c);
        const answer = await use(c).queries.scope(scopeId);
        if (!seesScope(visible, answer.scope)) throw new NotFound(`No scope ${scopeId}`);
        return jsonResponse('GET /v1/scopes/:scopeId', scopeResponseSchema, {
          ...answer,
          members: visible.filter(answer.members, (id) => id),
        });
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/v1/scopes/:scopeId',
      summary: 'Remove a scope and offboard the members no other scope covers',
      access: 'operator',
      query: NO_QUERY,
      params: scopeParams,
      responses: {
        202: {
          description: 'The scope was removed; a run offboards the members no other scope covers',
          json: scopeChangeResponseSchema,
          headers: {
            location: 'The run that carries the change out: GET it to follow its progress',
          },
        },
      },
      errors: [404, 409],
      async handle(c, _query, { params: { scopeId } }) {
        const visible = await visibilityOf(c);
        requireScopeIdInside(visible, scopeId);
        const result = await use(c).runs.startScopeRemoval(scopeId, callerOf(c));
        return accepted(
          jsonResponse(
            'DELETE /v1/scopes/:scopeId',
            scopeChangeResponseSchema,
            { ...result, run: visibleRun(result.run, visible) },
            202,
          ),
          result.run.runId,
        );
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/members',
      summary: 'Managed members in account order, a page at a time',
      access: 'viewer',
      query: memberQuerySchema,
      responses: {
        200: { description: `A page of members (${FULL_PAGES})`, json: membersResponseSchema },
      },
      async handle(c, query) {
        const visible = await visibilityOf(c);
        const page = await use(c).queries.members(query, visible.admits);
        return jsonResponse('GET /v1/members', membersResponseSchema, {
          ...page,
          members: page.members.map(memberView),
        });
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/members/:accountId',
      summary: 'One managed member and the scopes that cover it',
      access: 'viewer',
      query: NO_QUERY,
      params: accountParams,
      responses: { 200: { description: 'The member', json: memberResponseSchema } },
      errors: [404],
      async handle(c, _query, { params: { accountId } }) {
        if (!(await visibilityOf(c)).sees(accountId)) throw new NotAManagedMember(accountId);
        const answer = await use(c).queries.member(accountId);
        return jsonResponse('GET /v1/members/:accountId', memberResponseSchema, {
          ...answer,
          member: memberView(answer.member),
        });
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/v1/members/:accountId',
      summary: 'Remove a member managed by its account scope',
      access: 'operator',
      query: NO_QUERY,
      params: accountParams,
      responses: {
        200: { description: 'The member was offboarded', json: memberRemovalResponseSchema },
      },
      errors: [404, 409],
      async handle(c, _query, { params: { accountId } }) {
        const visible = await visibilityOf(c);
        visible.requireAccounts([accountId]);
        const result = await use(c).changes.removeMember(accountId, callerOf(c));
        return jsonResponse('DELETE /v1/members/:accountId', memberRemovalResponseSchema, {
          ...result,
          summary: visibleSummary(result.summary, visible),
        });
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/v1/reconcile',
      summary: 'Reconcile every scope against the directory now',
      access: 'operator',
      query: NO_QUERY,
      responses: {
        202: {
          description: 'A reconcile run was started; its summary appears on the run when it ends',
          json: reconcileStartedResponseSchema,
          headers: {
            location: 'The run that carries the change out: GET it to follow its progress',
          },
        },
      },
      errors: [409],
      async handle(c) {
        (await visibilityOf(c)).requireUnscoped('a reconcile of every scope');
        const result = await use(c).runs.startReconcile(callerOf(c));
        return accepted(
          jsonResponse('POST /v1/reconcile', reconcileStartedResponseSchema, result, 202),
          result.run.runId,
        );
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/reconcile/runs/:runId',
      summary: 'One onboarding or reconcile run: its state and progress',
      access: 'viewer',
      query: NO_QUERY,
      params: runParams,
      responses: { 200: { description: 'The run', json: runProgressSchema } },
      errors: [404],
      async handle(c, _query, { params: { runId } }) {
        const visible = await visibilityOf(c);
        const run = await use(c).runs.progress(runId);
        // A scoped token follows the runs of scope changes inside its scope (the Location its
        // own POST/DELETE /v1/scopes answered); a run of every scope is the unscoped caller's.
        if (visible.scoped) {
          if (run.scopeId === undefined) visible.requireUnscoped('a reconcile run of every scope');
          else requireScopeIdInside(visible, run.scopeId);
        }
        return jsonResponse(
          'GET /v1/reconcile/runs/:runId',
          runProgressSchema,
          visibleRun(run, visible),
        );
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/reconcile/runs',
      summary: "Reconcile runs' summaries, newest first",
      access: 'viewer',
      query: reconcileRunsQuerySchema,
      responses: { 200: { description: 'A page of runs', json: reconcileRunsResponseSchema } },
      async handle(c, query) {
        const page = await use(c).queries.reconcileRuns(query);
        const visible = await visibilityOf(c);
        return jsonResponse('GET /v1/reconcile/runs', reconcileRunsResponseSchema, {
          ...page,
          runs: page.runs.map((run) => visibleSummary(run, visible)),
        });
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/delegated-administrator/removable',
      summary: 'Whether the account the functions run in could give up its delegation',
      access: 'viewer',
      query: NO_QUERY,
      responses: {
        200: {
          description: 'The answer, with the members it still manages',
          json: removableResponseSchema,
        },
      },
      async handle(c) {
        (await visibilityOf(c)).requireUnscoped('the delegated administrator of the organization');
        const answer = await use(c).queries.delegatedAdministratorRemovable(
          c.env.invocation.accountId,
        );
        return jsonResponse(
          'GET /v1/delegated-administrator/removable',
          removableResponseSchema,
          answer,
        );
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/activity',
      summary: 'The activity log: every change to scopes, members and their roles',
      access: 'viewer',
      query: activityQuerySchema,
      responses: {
        200: { description: `A page of activity (${FULL_PAGES})`, json: activityResponseSchema },
      },
      async handle(c, query) {
        const visible = await visibilityOf(c);
        const page = await use(c).queries.activity(query, visible.admits);
        return jsonResponse('GET /v1/activity', activityResponseSchema, page);
      },
    }),
  ];
}

/** A managed member as the API shows it: its folder path as text, as in GET /v1/directory. */
function memberView(member: ManagedMember): z.input<typeof managedMemberSchema> {
  const { folderPath, ...rest } = member;
  return folderPath === undefined ? rest : { ...rest, folderPath: folderPathText(folderPath) };
}

const scopeParams = z.strictObject({
  scopeId: z.string().regex(SCOPE_ID, 'must be a scope id such as folder:fd-3G8sQ2lMmj'),
});
const accountParams = z.strictObject({ accountId: accountIdSchema });
const runParams = z.strictObject({ runId: z.uuid({ message: 'must be a run id (a UUID)' }) });

/** Where the run that goes on after a 202 is followed. */
function accepted(response: Response, runId: string): Response {
  response.headers.set('location', `/v1/reconcile/runs/${runId}`);
  return response;
}

// Service-linked roles over HTTP: one member's roles (read, check now, repair now), a sweep of
// every member (fanned out asynchronously), and the organization-wide report as JSON or CSV.

import { z } from 'zod';
import { NotAManagedMember } from '../onboarding/model';
import { type RoleReport, type RoleReportLine, toCsv } from '../roles/report';
import type { ServiceLinkedRoles } from '../roles/service-linked-roles';
import type { SweepStarted } from '../roles/sweep';
import type { Invocation } from '../runtime/context';
import type { Logger } from '../runtime/logger';
import { type ApiContext, defineRoute, NO_QUERY, type RouteDefinition, visibilityOf } from './app';
import { callerOf } from './membership-routes';
import { prefersOverJson } from './negotiation';
import { accountIdSchema, jsonResponse } from './validation';

/** What the routes call: the service-linked-role use cases, for one invocation. */
export interface RoleUseCases {
  roles: Pick<ServiceLinkedRoles, 'memberRoles' | 'checkAccount'>;
  /** The organization-wide report, as of now, over the accounts `visible` accepts (all if absent). */
  report(visible?: (accountId: string) => boolean): Promise<{
    report: RoleReport;
    lines: RoleReportLine[];
  }>;
  startSweep(options: { repair?: boolean }): Promise<SweepStarted>;
}

export interface RoleRouteDependencies {
  roles(invocation: Invocation, logger: Logger): RoleUseCases;
}

const roleResultSchema = z.strictObject({
  roleName: z.string(),
  services: z.array(z.string()),
  serviceName: z.string().nullable(),
  state: z.enum(['present', 'missing', 'error', 'unreachable']),
  reason: z.string().optional(),
  repaired: z.boolean().optional(),
  checkedAt: z.string(),
});

export const memberRoleReportSchema = z.strictObject({
  accountId: z.string(),
  reachable: z.boolean(),
  roleArn: z.string().optional(),
  reason: z.string().optional(),
  roles: z.array(roleResultSchema),
});

export const memberRolesSchema = z.strictObject({
  accountId: z.string(),
  needed: z.array(
    z.strictObject({
      roleName: z.string(),
      serviceName: z.string().nullable(),
      services: z.array(z.string()),
    }),
  ),
  checks: z.array(
    z.strictObject({
      accountId: z.string(),
      roleName: z.string(),
      service: z.string().optional(),
      state: z.enum(['present', 'missing', 'error', 'unreachable']),
      reason: z.string().optional(),
      checkedAt: z.string(),
    }),
  ),
});

export const roleReportSchema = z.strictObject({
  generatedAt: z.string(),
  entries: z.array(
    z.strictObject({
      service: z.string(),
      roleName: z.string(),
      serviceName: z.string().nullable(),
      members: z.number().int(),
      present: z.number().int(),
      missing: z.array(z.string()),
      unreachable: z.array(z.string()),
      errors: z.array(z.strictObject({ accountId: z.string(), reason: z.string() })),
      unchecked: z.array(z.string()),
    }),
  ),
});

export const sweepStartedSchema = z.strictObject({
  sweepId: z.string(),
  members: z.number().int(),
  chunks: z.number().int(),
  invoked: z.number().int(),
  failed: z.array(z.strictObject({ chunk: z.number().int(), reason: z.string() })),
});

const accountParams = z.strictObject({
  accountId: accountIdSchema,
});

export function roleRoutes(deps: RoleRouteDependencies): RouteDefinition[] {
  const use = (c: ApiContext) => deps.roles(c.env.invocation, c.env.logger);
  return [
    defineRoute({
      method: 'GET',
      path: '/v1/members/:accountId/roles',
      summary: "The roles a member's services need and the last check of each",
      access: 'viewer',
      query: NO_QUERY,
      params: accountParams,
      responses: { 200: { description: "The member's roles", json: memberRolesSchema } },
      errors: [404],
      async handle(c, _query, { params: { accountId } }) {
        if (!(await visibilityOf(c)).sees(accountId)) throw new NotAManagedMember(accountId);
        const { needed, checks } = await use(c).roles.memberRoles(accountId);
        return jsonResponse('GET /v1/members/:accountId/roles', memberRolesSchema, {
          accountId,
          needed: needed.map(({ roleName, serviceName, services }) => ({
            roleName,
            serviceName,
            services,
          })),
          checks,
        });
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/v1/members/:accountId/roles/check',
      summary: "Check a member's roles now (repairing per ROLE_REPAIR_POLICY)",
      access: 'operator',
      query: NO_QUERY,
      params: accountParams,
      responses: { 200: { description: 'What the check found', json: memberRoleReportSchema } },
      errors: [404],
      async handle(c, _query, { params: { accountId } }) {
        (await visibilityOf(c)).requireAccounts([accountId]);
        const report = await use(c).roles.checkAccount(accountId, callerOf(c));
        return jsonResponse(
          'POST /v1/members/:accountId/roles/check',
          memberRoleReportSchema,
          report,
        );
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/v1/members/:accountId/roles/repair',
      summary: "Check a member's roles and create the missing ones",
      access: 'operator',
      query: NO_QUERY,
      params: accountParams,
      responses: {
        200: { description: 'What the check found and created', json: memberRoleReportSchema },
      },
      errors: [404],
      async handle(c, _query, { params: { accountId } }) {
        (await visibilityOf(c)).requireAccounts([accountId]);
        const report = await use(c).roles.checkAccount(accountId, callerOf(c), {
          repair: true,
        });
        return jsonResponse(
          'POST /v1/members/:accountId/roles/repair',
          memberRoleReportSchema,
          report,
        );
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/v1/roles/sweep',
      summary: 'Fan a role check of every managed member out to the role-check worker',
      access: 'operator',
      query: z.strictObject({ repair: z.enum(['true', 'false']).optional() }),
      responses: {
        202: {
          description: 'The sweep started: its id and the chunks invoked',
          json: sweepStartedSchema,
        },
      },
      async handle(c, query) {
        (await visibilityOf(c)).requireUnscoped('a role sweep of every member');
        const started = await use(c).startSweep(
          query.repair === undefined ? {} : { repair: query.repair === 'true' },
        );
        return jsonResponse('POST /v1/roles/sweep', sweepStartedSchema, started, 202);
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/roles/report',
      summary: 'The organization-wide role report (JSON, or CSV with Accept: text/csv)',
      access: 'viewer',
      query: NO_QUERY,
      responses: {
        200: {
          description: 'Per service and role: members needing it, having it, missing it',
          json: roleReportSchema,
          text: { 'text/csv': 'One line per service, role and member' },
          headers: { 'content-disposition': 'attachment; filename="roles-report.csv" (CSV only)' },
        },
      },
      async handle(c) {
        const visible = await visibilityOf(c);
        const { report, lines } = await use(c).report(visible.scoped ? visible.sees : undefined);
        if (prefersOverJson(c.req.header('accept'), 'text/csv')) {
          return new Response(toCsv(lines), {
            status: 200,
            headers: {
              'content-type': 'text/csv; charset=utf-8',
              'content-disposition': 'attachment; filename="roles-report.csv"',
            },
          });
        }
        return jsonResponse('GET /v1/roles/report', roleReportSchema, report);
      },
    }),
  ];
}

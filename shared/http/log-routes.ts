// Cross-account log integration over HTTP: the preset templates (read only), integration policies
// per (template, member) in batch and by hand, data sources (paged and filtered, one with its
// shards and gaps, explicit deletion), the ordered diagnosis of one, and the summary by status.
// Reads need the viewer role, changes the operator role.

import { z } from 'zod';
import type { Diagnosis } from '../logs/diagnosis';
import type { LogIntegration } from '../logs/integration';
import { DATA_SOURCE_NAME_PATTERN, DATA_SOURCE_STATUSES } from '../logs/model';
import type { LogIntegrationQueries } from '../logs/queries';
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
import { callerOf } from './membership-routes';
import { accountIdSchema, isoTimeSchema, jsonResponse, pageQuery } from './validation';
import type { Visibility } from './visibility';

/** What the routes call: log integration's changes, queries and diagnosis, for one invocation. */
export interface LogUseCases {
  integration: Pick<
    LogIntegration,
    'templates' | 'template' | 'batch' | 'addAccounts' | 'updatePolicy' | 'removeAccount'
  >;
  queries: Pick<
    LogIntegrationQueries,
    'policies' | 'dataSources' | 'dataSource' | 'summary' | 'deleteDataSource'
  >;
  diagnose(name: string): Promise<Diagnosis>;
}

export interface LogRouteDependencies {
  logs(invocation: Invocation, logger: Logger): LogUseCases;
}

const TEMPLATE_ID = /^[a-z][a-z0-9-]{0,63}$/;
const MAX_ACCOUNTS = 1_000;

const templateParams = z.strictObject({
  templateId: z.string().regex(TEMPLATE_ID, 'must be a template id such as waf'),
});
const policyParams = templateParams.extend({ accountId: accountIdSchema });
const dataSourceParams = z.strictObject({
  name: z
    .string()
    .regex(
      DATA_SOURCE_NAME_PATTERN,
      'must be a data source name <Template>_<RegionId>_<MemberUID>, e.g. WAF_cn-hangzhou_1234567890123456',
    ),
});

const accountIdsSchema = z
  .array(accountIdSchema)
  .min(1, 'must name at least one account')
  .max(MAX_ACCOUNTS, `at most ${MAX_ACCOUNTS} accounts`)
  .refine((ids) => new Set(ids).size === ids.length, 'must not repeat an account');

export const batchInputSchema = z.strictObject({
  mode: z.enum(['increment', 'full'], { error: () => 'must be increment or full' }),
  accountIds: accountIdsSchema.optional(),
  templateIds: z
    .array(z.string().regex(TEMPLATE_ID, 'must be a template id such as waf'))
    .min(1, 'must name at least one template')
    .max(64)
    .optional(),
  autoAddNewLogstores: z.boolean().optional(),
  startTime: isoTimeSchema.optional(),
});

export const addAccountsInputSchema = z.strictObject({
  accountIds: accountIdsSchema,
  enabled: z.boolean({ error: () => 'required: true or false' }),
  autoAddNewLogstores: z.boolean().optional(),
  startTime: isoTimeSchema.optional(),
});

export const policyChangeSchema = z
  .strictObject({
    enabled: z.boolean().optional(),
    autoAddNewLogstores: z.boolean().optional(),
    startTime: isoTimeSchema.optional(),
  })
  .refine((change) => Object.keys(change).length > 0, {
    message: 'name at least one of enabled, autoAddNewLogstores, startTime',
  });

const defaultNameSchema = z.strictObject({
  project: z.string(),
  logstore: z.string(),
  source: z.string(),
});

export const templateSchema = z.strictObject({
  id: z.string(),
  name: z.string(),
  product: z.string(),
  description: z.string(),
  recommended: z.boolean(),
  recommendation: z.string(),
  logstores: z.union([
    z.strictObject({ kind: z.literal('default-name'), names: z.array(defaultNameSchema) }),
    z.strictObject({
      kind: z.literal('discovery'),
      projectPattern: z.string().optional(),
      nameContains: z.string(),
      logstorePattern: z.string(),
      source: z.string(),
    }),
  ]),
  roleServices: z.array(z.string()),
});

const policySchema = z.strictObject({
  templateId: z.string(),
  accountId: z.string(),
  enabled: z.boolean(),
  autoAddNewLogstores: z.boolean(),
  consumeFrom: z.string(),
  generation: z.number().int(),
  changedBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  version: z.number().int(),
});

export const policyResultSchema = z.strictObject({
  policy: policySchema,
  dataSources: z.array(z.string()),
});

const policyRefSchema = z.strictObject({ templateId: z.string(), accountId: z.string() });

export const batchResultSchema = z.strictObject({
  mode: z.enum(['increment', 'full']),
  dryRun: z.boolean(),
  accountIds: z.array(z.string()),
  templateIds: z.array(z.string()),
  enabled: z.array(policyRefSchema),
  kept: z.array(policyRefSchema),
  disabled: z.array(policyRefSchema),
  dataSourcesCreated: z.array(z.string()),
});

const logErrorSchema = z.strictObject({ code: z.string(), message: z.string(), at: z.string() });

export const dataSourceSchema = z.strictObject({
  name: z.string(),
  type: z.literal('custom-log-service'),
  templateId: z.string(),
  product: z.string(),
  accountId: z.string(),
  accountName: z.string().optional(),
  region: z.string(),
  enabled: z.boolean(),
  status: z.enum(DATA_SOURCE_STATUSES),
  error: logErrorSchema.optional(),
  consumeFrom: z.string(),
  autoAddNewLogstores: z.boolean(),
  logstores: z.array(z.strictObject({ project: z.string(), logstore: z.string() })),
  shards: z.number().int(),
  lastPullAt: z.string().optional(),
  lastDataAt: z.string().optional(),
  lagSeconds: z.number().optional(),
  logsPerMinute: z.number(),
  bytesPerMinute: z.number(),
  logsForwarded: z.number().int(),
  gapCount: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const gapSchema = z.strictObject({
  project: z.string(),
  logstore: z.string(),
  shardId: z.number().int(),
  from: z.number().int(),
  to: z.number().int(),
  estimatedCount: z.number().int().nullable(),
  recordedAt: z.string(),
});

export const dataSourceDetailSchema = z.strictObject({
  dataSource: dataSourceSchema,
  shards: z.array(
    z.strictObject({
      project: z.string(),
      logstore: z.string(),
      shardId: z.number().int(),
      finished: z.boolean(),
      logsForwarded: z.number().int(),
      lastPullAt: z.string().optional(),
      lagSeconds: z.number().optional(),
      lastError: logErrorSchema.optional(),
      backoffUntil: z.string().optional(),
    }),
  ),
  gaps: z.array(gapSchema),
});

export const diagnosisSchema = z.strictObject({
  dataSource: z.string(),
  status: z.enum(DATA_SOURCE_STATUSES),
  error: logErrorSchema.optional(),
  ok: z.boolean(),
  failedStep: z.number().int().optional(),
  steps: z.array(
    z.strictObject({
      step: z.number().int(),
      check: z.enum([
        'log-service-enabled',
        'in-management-scope',
        'service-linked-roles',
        'initialized',
      ]),
      ok: z.boolean(),
      evidence: z.array(z.string()),
      fix: z.string().optional(),
    }),
  ),
  checkedAt: z.string(),
});

const statusCountsSchema = z.strictObject(
  Object.fromEntries(DATA_SOURCE_STATUSES.map((s) => [s, z.number().int()])) as Record<
    (typeof DATA_SOURCE_STATUSES)[number],
    z.ZodNumber
  >,
);

export const summarySchema = z.strictObject({
  generatedAt: z.string(),
  total: statusCountsSchema.extend({ dataSources: z.number().int() }),
  byAccount: z.array(
    z.strictObject({
      accountId: z.string(),
      accountName: z.string().optional(),
      counts: statusCountsSchema,
    }),
  ),
  byTemplate: z.array(z.strictObject({ templateId: z.string(), counts: statusCountsSchema })),
});

const dataSourceQuerySchema = z.strictObject({
  ...pageQuery,
  accountId: accountIdSchema.optional(),
  templateId: z.string().regex(TEMPLATE_ID, 'must be a template id such as waf').optional(),
  status: z
    .enum(DATA_SOURCE_STATUSES, {
      error: () => `must be one of ${DATA_SOURCE_STATUSES.join(', ')}`,
    })
    .optional(),
});

const templatesResponseSchema = z.strictObject({ templates: z.array(templateSchema) });
const templateResponseSchema = z.strictObject({ template: templateSchema });
const policiesResponseSchema = z.strictObject({
  policies: z.array(policySchema),
  nextCursor: z.string().optional(),
});
const addedResponseSchema = z.strictObject({
  templateId: z.string(),
  added: z.array(policyResultSchema),
});
const policyRemovedSchema = z.strictObject({
  templateId: z.string(),
  accountId: z.string(),
  dataSourcesKept: z.array(z.string()),
});
const dataSourcesResponseSchema = z.strictObject({
  dataSources: z.array(dataSourceSchema),
  nextCursor: z.string().optional(),
});
const dataSourceDeletedSchema = z.strictObject({
  name: z.string(),
  deleted: z.literal(true),
  forwardedLogsKept: z.literal(true),
  checkpointsDeleted: z.number().int(),
});

/** The member a data source belongs to: the MemberUID its name ends with. */
function accountOfDataSource(name: string): string {
  return name.slice(name.lastIndexOf('_') + 1);
}

/**
 * The summary as a scoped token may see it: only its accounts, the totals summed over them.
 * The counts per template span every account, so a scoped token gets none (byTemplate is []).
 */
function visibleLogSummary(
  summary: z.input<typeof summarySchema>,
  visible: Visibility,
): z.input<typeof summarySchema> {
  if (!visible.scoped) return summary;
  const byAccount = visible.filter(summary.byAccount, (row) => row.accountId);
  const total = { ...summary.total };
  for (const key of Object.keys(total) as Array<keyof typeof total>) total[key] = 0;
  for (const row of byAccount) {
    for (const [key, count] of Object.entries(row.counts)) {
      total[key as keyof typeof total] += count;
      total.dataSources += count;
    }
  }
  return { ...summary, total, byAccount, byTemplate: [] };
}

const batchQuerySchema = z.strictObject({
  dryRun: z.enum(['true', 'false'], { error: () => 'must be true or false' }).optional(),
});

export function logRoutes(deps: LogRouteDependencies): RouteDefinition[] {
  const use = (c: ApiContext) => deps.logs(c.env.invocation, c.env.logger);
  return [
    defineRoute({
      method: 'GET',
      path: '/v1/log-templates',
      summary: 'The preset log integration templates',
      access: 'viewer',
      query: NO_QUERY,
      responses: { 200: { description: 'Every template', json: templatesResponseSchema } },
      async handle(c) {
        return jsonResponse('GET /v1/log-templates', templatesResponseSchema, {
          templates: [...use(c).integration.templates()],
        });
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/log-templates/:templateId',
      summary: 'One log integration template',
      access: 'viewer',
      query: NO_QUERY,
      params: templateParams,
      responses: { 200: { description: 'The template', json: templateResponseSchema } },
      errors: [404],
      async handle(c, _query, { params: { templateId } }) {
        return jsonResponse('GET /v1/log-templates/:templateId', templateResponseSchema, {
          template: use(c).integration.template(templateId),
        });
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/log-templates/:templateId/accounts',
      summary: "A template's integration policies, one per member, a page at a time",
      access: 'viewer',
      query: z.strictObject(pageQuery),
      params: templateParams,
      responses: {
        200: {
          description: `A page of policies (a scoped token sees its accounts only; ${FULL_PAGES})`,
          json: policiesResponseSchema,
        },
      },
      errors: [404],
      async handle(c, query, { params: { templateId } }) {
        const visible = await visibilityOf(c);
        const { integration, queries } = use(c);
        integration.template(templateId);
        const page = await queries.policies(templateId, query, visible.admits);
        return jsonResponse('GET /v1/log-templates/:templateId/accounts', policiesResponseSchema, {
          policies: page.items,
          nextCursor: page.nextCursor,
        });
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/v1/log-templates/:templateId/accounts',
      summary: 'Integrate members into a template by hand',
      access: 'operator',
      query: NO_QUERY,
      params: templateParams,
      body: addAccountsInputSchema,
      responses: { 201: { description: 'The policies written', json: addedResponseSchema } },
      errors: [404, 409],
      async handle(c, _query, { params: { templateId }, body: input }) {
        (await visibilityOf(c)).requireAccounts(input.accountIds);
        const results = await use(c).integration.addAccounts(
          templateId,
          {
            accountIds: input.accountIds,
            enabled: input.enabled,
            ...(input.autoAddNewLogstores !== undefined
              ? { autoAddNewLogstores: input.autoAddNewLogstores }
              : {}),
            ...(input.startTime !== undefined ? { startTime: input.startTime } : {}),
          },
          callerOf(c),
        );
        return jsonResponse(
          'POST /v1/log-templates/:templateId/accounts',
          addedResponseSchema,
          { templateId, added: results },
          201,
        );
      },
    }),
    defineRoute({
      method: 'PATCH',
      path: '/v1/log-templates/:templateId/accounts/:accountId',
      summary: "Change one member's integration policy",
      access: 'operator',
      query: NO_QUERY,
      params: policyParams,
      body: policyChangeSchema,
      responses: { 200: { description: 'The policy as written', json: policyResultSchema } },
      errors: [404, 409],
      async handle(c, _query, { params: { templateId, accountId }, body: change }) {
        (await visibilityOf(c)).requireAccounts([accountId]);
        const result = await use(c).integration.updatePolicy(
          templateId,
          accountId,
          {
            ...(change.enabled !== undefined ? { enabled: change.enabled } : {}),
            ...(change.autoAddNewLogstores !== undefined
              ? { autoAddNewLogstores: change.autoAddNewLogstores }
              : {}),
            ...(change.startTime !== undefined ? { startTime: change.startTime } : {}),
          },
          callerOf(c),
        );
        return jsonResponse(
          'PATCH /v1/log-templates/:templateId/accounts/:accountId',
          policyResultSchema,
          result,
        );
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/v1/log-templates/:templateId/accounts/:accountId',
      summary: "Remove a member's integration policy (its data sources are kept)",
      access: 'operator',
      query: NO_QUERY,
      params: policyParams,
      responses: { 200: { description: 'The policy removed', json: policyRemovedSchema } },
      errors: [404, 409],
      async handle(c, _query, { params: { templateId, accountId } }) {
        (await visibilityOf(c)).requireAccounts([accountId]);
        const result = await use(c).integration.removeAccount(templateId, accountId, callerOf(c));
        return jsonResponse(
          'DELETE /v1/log-templates/:templateId/accounts/:accountId',
          policyRemovedSchema,
          result,
        );
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/v1/log-integration/batch',
      summary: 'Integrate or remove many members and templates at once (dryRun=true plans only)',
      access: 'operator',
      query: batchQuerySchema,
      body: batchInputSchema,
      responses: {
        200: { description: 'What the batch did or would do', json: batchResultSchema },
      },
      errors: [404, 409],
      async handle(c, query, { body: input }) {
        const visible = await visibilityOf(c);
        // A scoped token names the accounts of its batch: without accountIds the batch reaches
        // every managed member, which is the whole organization's change.
        if (input.accountIds === undefined) {
          visible.requireUnscoped('a batch over every member (name accountIds)');
        } else {
          visible.requireAccounts(input.accountIds);
        }
        const result = await use(c).integration.batch(
          {
            mode: input.mode,
            ...(input.accountIds !== undefined ? { accountIds: input.accountIds } : {}),
            ...(input.templateIds !== undefined ? { templateIds: input.templateIds } : {}),
            ...(input.autoAddNewLogstores !== undefined
              ? { autoAddNewLogstores: input.autoAddNewLogstores }
              : {}),
            ...(input.startTime !== undefined ? { startTime: input.startTime } : {}),
          },
          callerOf(c),
          { dryRun: query.dryRun === 'true' },
        );
        return jsonResponse('POST /v1/log-integration/batch', batchResultSchema, result);
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/log-integration/summary',
      summary: 'Data sources counted by status: in total, per account and per template',
      access: 'viewer',
      query: NO_QUERY,
      responses: {
        200: {
          description:
            'The counts (a scoped token gets its accounts, totals over them, and no per-template counts)',
          json: summarySchema,
        },
      },
      async handle(c) {
        const visible = await visibilityOf(c);
        const summary = await use(c).queries.summary();
        return jsonResponse(
          'GET /v1/log-integration/summary',
          summarySchema,
          visibleLogSummary(summary, visible),
        );
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/data-sources',
      summary: 'Data sources, filtered by account, template or status, a page at a time',
      access: 'viewer',
      query: dataSourceQuerySchema,
      responses: {
        200: {
          description: `A page of data sources (a scoped token sees its accounts only; ${FULL_PAGES})`,
          json: dataSourcesResponseSchema,
        },
      },
      async handle(c, query) {
        const visible = await visibilityOf(c);
        const page = await use(c).queries.dataSources(query, visible.admits);
        return jsonResponse('GET /v1/data-sources', dataSourcesResponseSchema, {
          dataSources: page.items,
          nextCursor: page.nextCursor,
        });
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/data-sources/:name',
      summary: 'One data source with its shards and gaps',
      access: 'viewer',
      query: NO_QUERY,
      params: dataSourceParams,
      responses: { 200: { description: 'The data source', json: dataSourceDetailSchema } },
      errors: [404],
      async handle(c, _query, { params: { name } }) {
        (await visibilityOf(c)).requireAccounts([accountOfDataSource(name)]);
        const detail = await use(c).queries.dataSource(name);
        return jsonResponse('GET /v1/data-sources/:name', dataSourceDetailSchema, detail);
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/v1/data-sources/:name',
      summary: 'Delete a data source and its checkpoints (the logs it forwarded are kept)',
      access: 'operator',
      query: NO_QUERY,
      params: dataSourceParams,
      responses: { 200: { description: 'The data source deleted', json: dataSourceDeletedSchema } },
      errors: [404, 409],
      async handle(c, _query, { params: { name } }) {
        (await visibilityOf(c)).requireAccounts([accountOfDataSource(name)]);
        const result = await use(c).queries.deleteDataSource(name, callerOf(c));
        return jsonResponse('DELETE /v1/data-sources/:name', dataSourceDeletedSchema, result);
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/data-sources/:name/diagnosis',
      summary: 'Why a data source does not forward: its checks in order, each with a fix',
      access: 'viewer',
      query: NO_QUERY,
      params: dataSourceParams,
      responses: { 200: { description: 'The diagnosis', json: diagnosisSchema } },
      errors: [404],
      async handle(c, _query, { params: { name } }) {
        (await visibilityOf(c)).requireAccounts([accountOfDataSource(name)]);
        const diagnosis = await use(c).diagnose(name);
        return jsonResponse('GET /v1/data-sources/:name/diagnosis', diagnosisSchema, diagnosis);
      },
    }),
  ];
}

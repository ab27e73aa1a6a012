// Session audit over HTTP: search sessions with any combination of filters (every filter applied
// by the search index before paging, with a total count), one session and its events, counts per
// owner account, user or protocol, and the whole result set of a search as CSV (paged internally,
// formula cells defused).

import { z } from 'zod';
import { csvLine } from '../domain/csv';
import { InvalidCursor } from '../domain/cursor';
import { NotFound } from '../errors';
import type { Invocation } from '../runtime/context';
import type { Logger } from '../runtime/logger';
import { ipRange } from '../sessions/ip';
import {
  PROTOCOLS,
  SESSION_SORTS,
  type Session,
  type SessionFilter,
  type SessionSort,
  SUMMARY_GROUPS,
} from '../sessions/model';
import type { SessionPageRequest, SessionSearch } from '../sessions/ports';
import { protocolNamed } from '../sessions/records';
import { type ApiContext, defineRoute, NO_QUERY, type RouteDefinition, visibilityOf } from './app';
import { prefersOverJson } from './negotiation';
import {
  ACCOUNT_ID,
  accountIdSchema,
  fromNotAfterTo,
  isoTimeSchema,
  jsonResponse,
} from './validation';
import type { Visibility } from './visibility';

export interface SessionRouteDependencies {
  sessions(invocation: Invocation, logger: Logger): SessionSearch;
}

const MAX_OWNER_ACCOUNTS = 100;
const SESSIONS_PAGE_MAX = 1000;
/** A Tablestore search token, wrapped and signed, is longer than a row cursor. */
const pageTokenSchema = z.string().min(1).max(16_384).optional();

const ownerAccountIds = z.union([z.string(), z.array(z.string())]).transform((value, ctx) => {
  const ids = (Array.isArray(value) ? value : [value])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim());
  const bad = ids.filter((id) => !ACCOUNT_ID.test(id));
  if (bad.length > 0 || ids.length > MAX_OWNER_ACCOUNTS) {
    ctx.addIssue({
      code: 'custom',
      message:
        bad.length > 0
          ? `must be 16-digit account ids (not ${JSON.stringify(bad[0])})`
          : `at most ${MAX_OWNER_ACCOUNTS} account ids`,
    });
    return z.NEVER;
  }
  return ids;
});

const protocolSchema = z.string().transform((value, ctx) => {
  const protocol = protocolNamed(value);
  if (!protocol) {
    ctx.addIssue({
      code: 'custom',
      message: `unknown protocol; one of ${PROTOCOLS.filter((p) => p !== 'unknown').join(', ')}`,
    });
    return z.NEVER;
  }
  return protocol;
});

const sourceIpSchema = z.string().transform((value, ctx) => {
  const range = ipRange(value);
  if (!range) {
    ctx.addIssue({
      code: 'custom',
      message: 'must be an IPv4 or IPv6 address or CIDR block (10.0.0.0/8, 2001:db8::/32)',
    });
    return z.NEVER;
  }
  return range;
});

const text = (max: number) => z.string().min(1).max(max);

const sessionsQuerySchema = z
  .strictObject({
    ownerAccountId: ownerAccountIds.optional(),
    user: text(128).optional(),
    asset: text(256).optional(),
    assetAccount: text(128).optional(),
    protocol: protocolSchema.optional(),
    sourceIp: sourceIpSchema.optional(),
    from: isoTimeSchema.optional(),
    to: isoTimeSchema.optional(),
    sort: z.enum(SESSION_SORTS as [SessionSort, ...SessionSort[]]).default('-startTime'),
    limit: z.coerce.number().int().min(1).max(SESSIONS_PAGE_MAX).default(50),
    pageToken: pageTokenSchema,
  })
  .superRefine(fromNotAfterTo);

const summaryQuerySchema = z
  .strictObject({
    groupBy: z.enum(SUMMARY_GROUPS).default('ownerAccountId'),
    from: isoTimeSchema.optional(),
    to: isoTimeSchema.optional(),
  })
  .superRefine(fromNotAfterTo);

const eventsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  pageToken: pageTokenSchema,
});

const sessionParams = z.strictObject({
  ownerAccountId: accountIdSchema,
  sessionId: z.string().min(1).max(256),
});

const iso = (ms: number) => new Date(ms).toISOString();

export const sessionSchema = z.strictObject({
  ownerAccountId: z.string(),
  sessionId: z.string(),
  instanceId: z.string().optional(),
  userId: z.string().optional(),
  userName: z.string().optional(),
  clientIp: z.string().optional(),
  assetName: z.string().optional(),
  assetAddress: z.string().optional(),
  assetPort: z.number().int().optional(),
  assetAccount: z.string().optional(),
  protocol: z.enum(PROTOCOLS),
  protocolSource: z.enum(['record', 'event-type', 'asset-port', 'none']),
  startTime: z.string(),
  endTime: z.string().optional(),
  ended: z.boolean(),
  lastEventTime: z.string(),
  eventCount: z.number().int(),
  commandCount: z.number().int(),
  fileTransferCount: z.number().int(),
  graphicalCount: z.number().int(),
  sqlCount: z.number().int(),
  blockedCount: z.number().int(),
  region: z.string().optional(),
});
export type SessionView = z.infer<typeof sessionSchema>;

function sessionView(s: Session): SessionView {
  const { clientIpKey: _key, activeUntil: _until, endTime: _end, ...rest } = s;
  return {
    ...rest,
    startTime: iso(s.startTime),
    ...(s.endTime !== undefined ? { endTime: iso(s.endTime) } : {}),
    lastEventTime: iso(s.lastEventTime),
  };
}

export const sessionPageSchema = z.strictObject({
  sessions: z.array(sessionSchema),
  totalCount: z.number().int(),
  nextPageToken: z.string().optional(),
});

const eventSchema = z.strictObject({
  eventId: z.string(),
  eventTime: z.string(),
  eventType: z.string(),
  content: z.string().optional(),
  result: z.string().optional(),
  userName: z.string().optional(),
  clientIp: z.string().optional(),
  assetName: z.string().optional(),
  assetAccount: z.string().optional(),
  sourceProject: z.string().optional(),
  sourceLogstore: z.string().optional(),
});

export const eventPageSchema = z.strictObject({
  ownerAccountId: z.string(),
  sessionId: z.string(),
  events: z.array(eventSchema),
  nextPageToken: z.string().optional(),
});

export const summarySchema = z.strictObject({
  groupBy: z.enum(SUMMARY_GROUPS),
  from: z.string().optional(),
  to: z.string().optional(),
  totalCount: z.number().int(),
  groups: z.array(z.strictObject({ key: z.string(), sessions: z.number().int() })),
});

/** CSV columns of a session search download, in order. */
export const SESSION_CSV_COLUMNS = [
  'ownerAccountId',
  'sessionId',
  'userName',
  'userId',
  'clientIp',
  'assetName',
  'assetAddress',
  'assetPort',
  'assetAccount',
  'protocol',
  'startTime',
  'endTime',
  'ended',
  'eventCount',
  'commandCount',
  'fileTransferCount',
  'graphicalCount',
  'sqlCount',
  'blockedCount',
  'instanceId',
  'region',
] as const satisfies ReadonlyArray<keyof SessionView>;

export function sessionCsvLine(view: SessionView): string {
  return csvLine(
    SESSION_CSV_COLUMNS.map((column) => {
      const value = view[column];
      return value === undefined ? '' : String(value);
    }),
  );
}

/** A paging token refused by the store names the parameter it came in. */
async function withPageToken<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof InvalidCursor) throw new InvalidCursor(error.reason, 'pageToken');
    throw error;
  }
}

const sessionHttpQuery = (q: z.output<typeof sessionsQuerySchema>): SessionFilter => {
  const filter: SessionFilter = {};
  if (q.ownerAccountId) filter.ownerAccountIds = [...new Set(q.ownerAccountId)].sort();
  if (q.user !== undefined) filter.user = q.user;
  if (q.asset !== undefined) filter.asset = q.asset;
  if (q.assetAccount !== undefined) filter.assetAccount = q.assetAccount;
  if (q.protocol !== undefined) filter.protocol = q.protocol;
  if (q.sourceIp !== undefined) filter.sourceIp = q.sourceIp;
  if (q.from !== undefined) filter.from = Date.parse(q.from);
  if (q.to !== undefined) filter.to = Date.parse(q.to);
  return filter;
};

/**
 * The filter a scoped token searches with: its visible owner accounts added on the server (so
 * paging and totalCount count only them), intersected with the ones it asked for; undefined when
 * that leaves no account (the answer is empty without asking the index).
 */
function visibleFilter<F extends Pick<SessionFilter, 'ownerAccountIds'>>(
  filter: F,
  visible: Visibility,
): F | undefined {
  if (visible.accountIds === undefined) return filter;
  const owners = filter.ownerAccountIds
    ? filter.ownerAccountIds.filter((id) => visible.sees(id))
    : visible.accountIds;
  return owners.length === 0 ? undefined : { ...filter, ownerAccountIds: [...owners] };
}

function csvDownload(
  search: SessionSearch,
  filter: SessionFilter,
  sort: SessionSort,
  first: { sessions: Session[]; nextPageToken?: string },
): Response {
  const encoder = new TextEncoder();
  let page: { sessions: Session[]; nextPageToken?: string } | undefined = first;
  let header = true;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (header) {
        header = false;
        controller.enqueue(encoder.encode(csvLine(SESSION_CSV_COLUMNS)));
        return;
      }
      if (!page) {
        controller.close();
        return;
      }
      const current = page;
      controller.enqueue(
        encoder.encode(current.sessions.map((s) => sessionCsvLine(sessionView(s))).join('')),
      );
      page =
        current.nextPageToken === undefined
          ? undefined
          : await search.search(filter, sort, {
              limit: SESSIONS_PAGE_MAX,
              pageToken: current.nextPageToken,
            });
    },
  });
  return new Response(stream, {
    status: 200,
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': 'attachment; filename="sessions.csv"',
    },
  });
}

export function sessionRoutes(deps: SessionRouteDependencies): RouteDefinition[] {
  const use = (c: ApiContext) => deps.sessions(c.env.invocation, c.env.logger);
  return [
    defineRoute({
      method: 'GET',
      path: '/v1/sessions',
      summary: 'Search sessions by any combination of filters, a page at a time or all as CSV',
      access: 'viewer',
      query: sessionsQuerySchema,
      responses: {
        200: {
          description:
            'A page of sessions with the total count (a scoped token searches its accounts only)',
          json: sessionPageSchema,
          text: { 'text/csv': 'Every session the search finds (Accept: text/csv), one line each' },
        },
      },
      async handle(c, query) {
        const visible = await visibilityOf(c);
        const filter = visibleFilter(sessionHttpQuery(query), visible);
        const search = use(c);
        const csv = prefersOverJson(c.req.header('accept'), 'text/csv');
        const page: SessionPageRequest = {
          limit: csv ? SESSIONS_PAGE_MAX : query.limit,
          pageToken: query.pageToken,
        };
        // The first page is read before answering, so a bad token is a 400 even for CSV.
        const first =
          filter === undefined
            ? { sessions: [], totalCount: 0 }
            : await withPageToken(() => search.search(filter, query.sort, page));
        if (csv) return csvDownload(search, filter ?? {}, query.sort, first);
        return jsonResponse('GET /v1/sessions', sessionPageSchema, {
          sessions: first.sessions.map(sessionView),
          totalCount: first.totalCount,
          ...('nextPageToken' in first && first.nextPageToken !== undefined
            ? { nextPageToken: first.nextPageToken }
            : {}),
        });
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/sessions/summary',
      summary: 'Sessions counted per owner account, user or protocol',
      access: 'viewer',
      query: summaryQuerySchema,
      responses: {
        200: {
          description: 'The counts (a scoped token counts its accounts only)',
          json: summarySchema,
        },
      },
      async handle(c, query) {
        const visible = await visibilityOf(c);
        const asked: Pick<SessionFilter, 'from' | 'to' | 'ownerAccountIds'> = {};
        if (query.from !== undefined) asked.from = Date.parse(query.from);
        if (query.to !== undefined) asked.to = Date.parse(query.to);
        const filter = visibleFilter(asked, visible);
        const { groups, totalCount } =
          filter === undefined
            ? { groups: [], totalCount: 0 }
            : await use(c).summary(query.groupBy, filter);
        return jsonResponse('GET /v1/sessions/summary', summarySchema, {
          groupBy: query.groupBy,
          from: query.from,
          to: query.to,
          totalCount,
          groups,
        });
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/sessions/:ownerAccountId/:sessionId',
      summary: 'One session',
      access: 'viewer',
      query: NO_QUERY,
      params: sessionParams,
      responses: { 200: { description: 'The session', json: sessionSchema } },
      errors: [404],
      async handle(c, _query, { params: key }) {
        (await visibilityOf(c)).requireAccounts([key.ownerAccountId]);
        const session = await use(c).get(key);
        if (!session) {
          throw new NotFound(
            `No session ${key.sessionId} of account ${key.ownerAccountId} is indexed`,
          );
        }
        return jsonResponse(
          'GET /v1/sessions/:ownerAccountId/:sessionId',
          sessionSchema,
          sessionView(session),
        );
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/sessions/:ownerAccountId/:sessionId/events',
      summary: "A session's events in time order, a page at a time",
      access: 'viewer',
      query: eventsQuerySchema,
      params: sessionParams,
      responses: { 200: { description: 'A page of events', json: eventPageSchema } },
      errors: [404],
      async handle(c, query, { params: key }) {
        (await visibilityOf(c)).requireAccounts([key.ownerAccountId]);
        const page = await withPageToken(() =>
          use(c).events(key, { limit: query.limit, pageToken: query.pageToken }),
        );
        return jsonResponse('GET /v1/sessions/:ownerAccountId/:sessionId/events', eventPageSchema, {
          ...key,
          events: page.events.map((e) => ({
            eventId: e.eventId,
            eventTime: iso(e.eventTime),
            eventType: e.eventType,
            ...(e.content !== undefined ? { content: e.content } : {}),
            ...(e.result !== undefined ? { result: e.result } : {}),
            ...(e.userName !== undefined ? { userName: e.userName } : {}),
            ...(e.clientIp !== undefined ? { clientIp: e.clientIp } : {}),
            ...(e.assetName !== undefined ? { assetName: e.assetName } : {}),
            ...(e.assetAccount !== undefined ? { assetAccount: e.assetAccount } : {}),
            ...(e.sourceProject !== undefined ? { sourceProject: e.sourceProject } : {}),
            ...(e.sourceLogstore !== undefined ? { sourceLogstore: e.sourceLogstore } : {}),
          })),
          ...(page.nextPageToken !== undefined ? { nextPageToken: page.nextPageToken } : {}),
        });
      },
    }),
  ];
}

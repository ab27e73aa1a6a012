// The HTTP application frame every route runs in: each route declares who may call it, requests
// are size-limited, unknown paths get 404 and known paths with another method 405, and every
// error leaves as the JSON envelope {code, message, details, requestId} with x-request-id.

import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import type { DirectorySnapshot } from '../directory/model';
import type { DirectorySource } from '../directory/ports';
import { FILTERED_PAGE_MAX_READS } from '../domain/paging';
import {
  AppError,
  type ErrorDetails,
  FunctionMisconfigured,
  MethodNotAllowed,
  NotFound,
  PayloadTooLarge,
} from '../errors';
import { errorResponse, errorResponseToWeb } from '../runtime/error-response';
import type { InvocationBindings } from '../runtime/http';
import { type Access, authorize, type Principal, type TokenVerifier } from './auth';
import { parseJsonBody, parseParams, parseQuery } from './validation';
import { EVERYTHING, type Visibility, visibilityIn } from './visibility';

export type ApiEnv = {
  Bindings: InvocationBindings;
  Variables: {
    principal: Principal | undefined;
    /** What this request may see and change (visibility.ts); read lazily, once. */
    visibility: () => Promise<Visibility>;
  };
};
export type ApiContext = Context<ApiEnv>;

/** Every error leaves as this envelope (shared/runtime/error-response.ts builds it). */
export const errorEnvelopeSchema = z.strictObject({
  code: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).nullable(),
  requestId: z.string(),
});

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** The query parameters a route takes: a strict object, so that any other one is refused. */
export type QuerySchema = z.ZodObject<z.ZodRawShape, z.core.$strict>;

/** The path parameters a route takes, one property per `:name` in its path. */
export type ParamsSchema = z.ZodObject<z.ZodRawShape, z.core.$strict>;

/** A route that takes no query parameter. */
export const NO_QUERY = z.strictObject({});

/** A route whose path has no parameter. */
export const NO_PARAMS = z.strictObject({});

/** Success statuses a route answers with. */
export type SuccessStatus = 200 | 201 | 202 | 204;

/**
 * Error statuses a route may answer with besides the ones every route of its kind can (see
 * `errorStatusesOf`): 404 for a record that does not exist, 409 for a conflict.
 */
export type RouteErrorStatus = 404 | 409;

/** Media types a route can answer with instead of JSON when `Accept` asks for them. */
export type TextMediaType = 'text/csv' | 'text/plain';

/** One success answer of a route: what it means, its JSON body, and any other format. */
export interface RouteResponse {
  description: string;
  /** The JSON body (validated by jsonResponse when the route answers). */
  json?: z.ZodType;
  /** Other formats, each with what it holds, e.g. `{ 'text/csv': 'one line per member' }`. */
  text?: Partial<Record<TextMediaType, string>>;
  /** Response headers beyond x-request-id, e.g. content-disposition on a CSV export. */
  headers?: Readonly<Record<string, string>>;
}

/** What the frame hands a route after validating the request against the route's schemas. */
export interface RouteInput<Q extends QuerySchema, P extends ParamsSchema, B> {
  query: z.output<Q>;
  params: z.output<P>;
  body: B extends z.ZodType ? z.output<B> : undefined;
}

/**
 * One route. Every route declares its request (query, path parameters, JSON body) and its
 * answers as zod schemas: the frame validates the request against them before the route runs
 * (a parameter it does not take is 400 InvalidRequest naming it, on every route;
 * test/unit/http/query-parameters.test.ts sends one to each), and the OpenAPI document
 * (shared/http/openapi.ts) is generated from them, so a route is described by what it checks.
 */
export interface RouteDefinition<
  Q extends QuerySchema = QuerySchema,
  P extends ParamsSchema = ParamsSchema,
  B extends z.ZodType | undefined = z.ZodType | undefined,
> {
  method: HttpMethod;
  /** hono path pattern, e.g. /v1/members/:accountId */
  path: string;
  /** One line for the API's reader (the OpenAPI summary). */
  summary: string;
  /** Who may call it: 'public', or the role a bearer token must grant. */
  access: Access;
  /** Its query parameters (NO_QUERY when it takes none). */
  query: Q;
  /** Its path parameters, one per `:name` in `path` (NO_PARAMS, or left out, when none). */
  params?: P;
  /** Its JSON request body, when it takes one. */
  body?: B;
  /** Its success answers by status. */
  responses: Partial<Record<SuccessStatus, RouteResponse>>;
  /** Error statuses it may answer with besides the ones every route of its kind can. */
  errors?: readonly RouteErrorStatus[];
  handle(
    c: ApiContext,
    query: z.output<Q>,
    input: RouteInput<Q, P, B>,
  ): Response | Promise<Response>;
}

/** A route with its handler typed by its schemas. */
export function defineRoute<
  Q extends QuerySchema,
  P extends ParamsSchema = typeof NO_PARAMS,
  B extends z.ZodType | undefined = undefined,
>(route: RouteDefinition<Q, P, B>): RouteDefinition {
  return route as unknown as RouteDefinition;
}

/** The names of a hono path's parameters, in order (`/v1/members/:accountId` -> accountId). */
export function pathParameterNames(path: string): string[] {
  return [...path.matchAll(/:(\w+)/g)].map((match) => match[1] ?? '');
}

/** A route's path parameters must be exactly the ones its schema declares. */
function checkParams(route: RouteDefinition): void {
  const inPath = pathParameterNames(route.path).sort();
  const declared = Object.keys((route.params ?? NO_PARAMS).shape).sort();
  if (inPath.join() !== declared.join()) {
    throw new Error(
      `Route ${route.method} ${route.path} has path parameters [${inPath.join(', ')}] but its params schema declares [${declared.join(', ')}]`,
    );
  }
}

export interface HttpAppOptions {
  routes: readonly RouteDefinition[];
  /** The directory as it is now, for tokens limited to folders (visibility.ts). */
  directory?: (
    invocation: InvocationBindings['invocation'],
  ) => Pick<DirectorySource, 'readSnapshot'>;
  verifier: TokenVerifier;
  /** Largest request body accepted (413 above it). Default 1 MiB. */
  maxBodyBytes?: number;
  /**
   * Turns an adapter's failure into the error the API answers with (e.g. a store that is not
   * set up into 503 StoreNotReady); returns anything it does not know unchanged.
   */
  mapError?: (error: unknown) => unknown;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** How a filtered listing pages (shared/domain/paging.ts, filteredPage), for its description. */
export const FULL_PAGES = `filters and the token's accounts are applied before paging: a page holds \`limit\` items unless it is the last, or ${FILTERED_PAGE_MAX_READS} reads of the listing found fewer, and then \`nextCursor\` goes on`;

const FRAMEWORK_CODES: Record<number, string> = {
  400: 'InvalidRequest',
  401: 'Unauthenticated',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  413: 'PayloadTooLarge',
  415: 'UnsupportedMediaType',
};

/** An HTTPException raised inside hono itself, as an AppError with a code for its status. */
class FrameworkError extends AppError {
  readonly code: string;
  constructor(
    readonly status: number,
    message: string,
    details: ErrorDetails | null = null,
  ) {
    super(message, { details });
    this.code = FRAMEWORK_CODES[status] ?? (status >= 500 ? 'InternalError' : 'InvalidRequest');
  }
}

export function createHttpApp(options: HttpAppOptions): Hono<ApiEnv> {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const app = new Hono<ApiEnv>();

  app.use('*', async (c, next) => {
    await next();
    c.res.headers.set('x-request-id', c.env.invocation.requestId);
  });
  app.use(
    '*',
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: () => {
        throw new PayloadTooLarge(maxBodyBytes);
      },
    }),
  );

  const methodsByPath = new Map<string, HttpMethod[]>();
  for (const route of options.routes) {
    const methods = methodsByPath.get(route.path) ?? [];
    if (methods.includes(route.method)) {
      throw new Error(`Route ${route.method} ${route.path} is defined twice`);
    }
    methods.push(route.method);
    methodsByPath.set(route.path, methods);
    checkParams(route);
    app.on(route.method, route.path, async (c) => {
      const principal = await authorize(
        options.verifier,
        route.access,
        c.req.header('authorization'),
      );
      c.set('principal', principal);
      let visibility: Promise<Visibility> | undefined;
      c.set('visibility', () => {
        visibility ??= visibilityFor(principal, () => {
          if (!options.directory) {
            throw new FunctionMisconfigured('Scoped tokens need the directory; this API has none');
          }
          return options.directory(c.env.invocation).readSnapshot();
        });
        return visibility;
      });
      const query = parseQuery(c.req.url, route.query);
      const params = parseParams(c.req.param(), route.params ?? NO_PARAMS);
      const body =
        route.body === undefined ? undefined : await parseJsonBody(c.req.raw, route.body);
      return route.handle(c, query, { query, params, body });
    });
  }
  // Registered after every route: only methods no route answered reach these.
  for (const [path, methods] of methodsByPath) {
    const allowed = methods.includes('GET') ? [...methods, 'HEAD'] : [...methods];
    app.all(path, (c) => {
      throw new MethodNotAllowed(c.req.method, c.req.path, allowed);
    });
  }

  app.notFound((c) => {
    const requestId = c.env.invocation.requestId;
    const error = new NotFound(`No route ${c.req.method} ${c.req.path}`);
    return errorResponseToWeb(errorResponse(error, requestId, c.env.logger), requestId);
  });
  const mapError = options.mapError ?? ((error: unknown) => error);
  app.onError((error, c) => {
    const mapped =
      error instanceof HTTPException && !(error instanceof AppError)
        ? new FrameworkError(error.status, error.message || 'The request was refused')
        : mapError(error);
    const requestId = c.env.invocation.requestId;
    return errorResponseToWeb(errorResponse(mapped, requestId, c.env.logger), requestId);
  });
  return app;
}

/** EVERYTHING for an unscoped principal (no directory read); else over the directory now. */
async function visibilityFor(
  principal: Principal | undefined,
  readDirectory: () => Promise<DirectorySnapshot>,
): Promise<Visibility> {
  if (principal?.scope === undefined) return EVERYTHING;
  return visibilityIn(principal, await readDirectory());
}

/** The request's visibility (the directory is read once per request, and only for a scoped token). */
export function visibilityOf(c: ApiContext): Promise<Visibility> {
  return c.get('visibility')();
}

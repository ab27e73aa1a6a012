// The HTTP application frame every route runs in: each route declares who may call it, requests
// are size-limited, unknown paths get 404 and known paths with another method 405, and every
// error leaves as the JSON envelope {code, message, details, requestId} with x-request-id.

import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import {
  AppError,
  type ErrorDetails,
  MethodNotAllowed,
  NotFound,
  PayloadTooLarge,
} from '../errors';
import { errorResponse, errorResponseToWeb } from '../runtime/error-response';
import type { InvocationBindings } from '../runtime/http';
import { type Access, authorize, type Principal, type TokenVerifier } from './auth';
import { parseQuery } from './validation';

export type ApiEnv = {
  Bindings: InvocationBindings;
  Variables: { principal: Principal | undefined };
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

/** A route that takes no query parameter. */
export const NO_QUERY = z.strictObject({});

/**
 * One route. Every route declares its query parameters and the frame checks them before the
 * route runs: a parameter it does not take is 400 InvalidRequest naming it, on every route (one
 * rule; test/unit/http/query-parameters.test.ts sends one to each).
 */
export interface RouteDefinition<Q extends QuerySchema = QuerySchema> {
  method: HttpMethod;
  /** hono path pattern, e.g. /v1/members/:accountId */
  path: string;
  /** Who may call it: 'public', or the role a bearer token must grant. */
  access: Access;
  /** Its query parameters (NO_QUERY when it takes none). */
  query: Q;
  handle(c: ApiContext, query: z.output<Q>): Response | Promise<Response>;
}

/** A route with its handler typed by its query schema. */
export function defineRoute<Q extends QuerySchema>(route: RouteDefinition<Q>): RouteDefinition {
  return route;
}

export interface HttpAppOptions {
  routes: readonly RouteDefinition[];
  verifier: TokenVerifier;
  /** Largest request body accepted (413 above it). Default 1 MiB. */
  maxBodyBytes?: number;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

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
    app.on(route.method, route.path, async (c) => {
      c.set(
        'principal',
        await authorize(options.verifier, route.access, c.req.header('authorization')),
      );
      return route.handle(c, parseQuery(c.req.url, route.query));
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
  app.onError((error, c) => {
    const mapped =
      error instanceof HTTPException && !(error instanceof AppError)
        ? new FrameworkError(error.status, error.message || 'The request was refused')
        : error;
    const requestId = c.env.invocation.requestId;
    return errorResponseToWeb(errorResponse(mapped, requestId, c.env.logger), requestId);
  });
  return app;
}

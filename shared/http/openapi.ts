// The API's contract for its users (internal portals, clients in other languages): an OpenAPI 3.1
// document generated from the routes' own zod schemas, so it says what the frame checks and what
// the handlers answer, and a route added later is described without editing this file. Every
// operation lists its request (path, query, JSON body), its success answers (JSON and any CSV or
// text form) and each error status it can answer with, in the {code, message, details,
// requestId} envelope, with x-request-id on every answer and Retry-After on every 503.

import { z } from 'zod';
import {
  errorEnvelopeSchema,
  type HttpMethod,
  pathParameterNames,
  type RouteDefinition,
  type SuccessStatus,
} from './app';

type JsonObject = Record<string, unknown>;

/** An OpenAPI 3.1 document (kept loose: it is data to serve and to validate). */
export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  paths: Record<string, Partial<Record<Lowercase<HttpMethod>, OpenApiOperation>>>;
  security: Array<Record<string, string[]>>;
  components: {
    schemas: Record<string, JsonObject>;
    responses: Record<string, JsonObject>;
    headers: Record<string, JsonObject>;
    securitySchemes: Record<string, JsonObject>;
  };
}

export interface OpenApiOperation {
  operationId: string;
  summary: string;
  parameters?: JsonObject[];
  requestBody?: JsonObject;
  responses: Record<string, JsonObject>;
  security?: Array<Record<string, string[]>>;
  'x-required-role'?: string;
}

export interface ApiInfo {
  title: string;
  version: string;
  description: string;
}

/** What each error status means, for every route that can answer with it. */
const ERROR_STATUSES: Record<number, string> = {
  400: 'InvalidRequest (details.issues names each field), InvalidCursor, or another refusal of the input',
  401: 'Unauthenticated: no bearer token, or one that does not verify (details.claim names the claim)',
  403: "Forbidden: the token does not grant the role the route requires; OutsideTokenScope: the token's scope claim does not cover the account, folder or organization-wide change (details.outside, details.tokenScope)",
  404: 'NotFound: the record named in the path (or query) does not exist',
  409: 'A conflict with the current state (the code says which, e.g. PrerequisitesNotMet, ManagedByScope)',
  413: 'PayloadTooLarge: the request body exceeds the limit',
  415: 'UnsupportedMediaType: the request body is not application/json',
  500: 'InternalError or FunctionMisconfigured: a bug or a deployment mistake; quote the requestId',
  502: 'A cloud API refused or failed (CloudAccessDenied, CloudRequestRejected, CloudApiFailed, MemberAccessDenied)',
  503: 'Try again after Retry-After seconds (Busy, CloudThrottled, CloudUnavailable, DirectoryChanging, AuthenticationUnavailable, StoreUnavailable, StoreNotReady)',
};

/**
 * The error statuses a route can answer with: every route 400 (a query parameter it does not
 * take) and 500; a route behind a token 401, 403 and the cloud's 502 and 503 (every such route
 * reads the store or the directory, and the token's key set may be unreachable); a route with a
 * body 413 and 415; and the ones the route declares (404, 409).
 */
export function errorStatusesOf(route: RouteDefinition): number[] {
  const statuses = new Set<number>([400, 500]);
  if (route.access !== 'public') for (const status of [401, 403, 502, 503]) statuses.add(status);
  if (route.body !== undefined) {
    statuses.add(413);
    statuses.add(415);
  }
  for (const status of route.errors ?? []) statuses.add(status);
  return [...statuses].sort((a, b) => a - b);
}

/** `/v1/members/:accountId` -> `/v1/members/{accountId}` */
export function openApiPath(path: string): string {
  return path.replace(/:(\w+)/g, '{$1}');
}

/** `GET /v1/members/:accountId/roles` -> `getMembersByAccountIdRoles`: stable, readable names. */
export function operationIdOf(route: Pick<RouteDefinition, 'method' | 'path'>): string {
  const words = route.path
    .split('/')
    .filter((segment) => segment !== '' && segment !== 'v1')
    .flatMap((segment) =>
      segment.startsWith(':') ? ['by', ...words_(segment.slice(1))] : words_(segment),
    );
  return [route.method.toLowerCase(), ...words.map(capitalize)].join('');
}

function words_(text: string): string[] {
  return text
    .replace(/\.json$/, 'Json')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

const SCHEMAS = '#/components/schemas/';

/** Keys of the schemas each route registers, so their JSON Schemas can be found again. */
interface RouteSchemaKeys {
  query: string;
  params: string;
  body?: string;
  responses: Partial<Record<SuccessStatus, string>>;
}

/**
 * Converts registered zod schemas to JSON Schema 2020-12 (what OpenAPI 3.1 uses), with every
 * reference pointing into components.schemas. Schemas that recur (a recursive folder node)
 * are given component names of their own.
 */
function convert(
  registry: z.core.$ZodRegistry<{ id: string }>,
  io: 'input' | 'output',
  sharedPrefix: string,
): Record<string, JsonObject> {
  const converted = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
    uri: (id) => `${SCHEMAS}${id}`,
  }) as { schemas: Record<string, JsonObject> };
  const schemas: Record<string, JsonObject> = {};
  for (const [id, schema] of Object.entries(converted.schemas)) {
    if (id === '__shared') {
      const defs = (schema.$defs ?? {}) as Record<string, JsonObject>;
      for (const [name, def] of Object.entries(defs)) schemas[sharedName(name, sharedPrefix)] = def;
      continue;
    }
    const { $schema: _schema, $id: _id, ...rest } = schema;
    schemas[id] = rest;
  }
  const text = JSON.stringify(schemas).replace(
    /#\/components\/schemas\/__shared#\/\$defs\/(\w+)/g,
    (_, name: string) => `${SCHEMAS}${sharedName(name, sharedPrefix)}`,
  );
  return JSON.parse(text) as Record<string, JsonObject>;
}

/** A recurring schema keeps the id its `.meta({ id })` gives it; zod numbers the others. */
function sharedName(name: string, prefix: string): string {
  return /^schema\d+$/.test(name) ? `${prefix}${capitalize(name)}` : name;
}

function header(description: string, schema: JsonObject = { type: 'string' }): JsonObject {
  return { description, required: true, schema };
}

const REQUEST_ID_HEADER = { $ref: '#/components/headers/RequestId' };

function errorResponseComponent(status: number): JsonObject {
  const headers: JsonObject = { 'x-request-id': REQUEST_ID_HEADER };
  if (status === 401 || status === 403) {
    headers['WWW-Authenticate'] = header('The Bearer challenge (RFC 6750)');
  }
  if (status === 503) {
    headers['Retry-After'] = header('Seconds to wait before trying again', {
      type: 'string',
      pattern: '^[0-9]+$',
    });
  }
  return {
    description: ERROR_STATUSES[status] ?? 'An error',
    headers,
    content: { 'application/json': { schema: { $ref: `${SCHEMAS}Error` } } },
  };
}

/** Builds the document from the routes. Throws when a route cannot be described. */
export function openApiDocument(
  routes: readonly RouteDefinition[],
  info: ApiInfo,
): OpenApiDocument {
  const requests = z.registry<{ id: string }>();
  const responses = z.registry<{ id: string }>();
  responses.add(errorEnvelopeSchema, { id: 'Error' });
  const keys = new Map<RouteDefinition, RouteSchemaKeys>();
  const seen = new Set<string>();
  for (const route of routes) {
    const id = operationIdOf(route);
    if (seen.has(id)) throw new Error(`Two routes have the operation id ${id}`);
    seen.add(id);
    const name = capitalize(id);
    const routeKeys: RouteSchemaKeys = {
      query: `${name}Query`,
      params: `${name}Params`,
      responses: {},
    };
    requests.add(route.query, { id: routeKeys.query });
    if (route.params !== undefined) requests.add(route.params, { id: routeKeys.params });
    if (route.body !== undefined) {
      routeKeys.body = `${name}Body`;
      requests.add(route.body, { id: routeKeys.body });
    }
    for (const [status, answer] of successes(route)) {
      if (answer.json === undefined) continue;
      const key = `${name}Response${status}`;
      // One schema may answer several statuses (200 and 201): register it once.
      const existing = responses.get(answer.json);
      routeKeys.responses[status] = existing?.id ?? key;
      if (existing === undefined) responses.add(answer.json, { id: key });
    }
    keys.set(route, routeKeys);
  }
  const requestSchemas = convert(requests, 'input', 'RequestShared');
  const responseSchemas = convert(responses, 'output', 'ResponseShared');

  const paths: OpenApiDocument['paths'] = {};
  const schemas: Record<string, JsonObject> = { ...responseSchemas };
  for (const route of routes) {
    const routeKeys = keys.get(route) as RouteSchemaKeys;
    const parameters = [
      ...parametersOf(route, 'path', requestSchemas[routeKeys.params]),
      ...parametersOf(route, 'query', requestSchemas[routeKeys.query]),
    ];
    const operation: OpenApiOperation = {
      operationId: operationIdOf(route),
      summary: route.summary,
      responses: {},
    };
    if (parameters.length > 0) operation.parameters = parameters;
    if (routeKeys.body !== undefined) {
      schemas[routeKeys.body] = requestSchemas[routeKeys.body] as JsonObject;
      operation.requestBody = {
        required: true,
        content: { 'application/json': { schema: { $ref: `${SCHEMAS}${routeKeys.body}` } } },
      };
    }
    for (const [status, answer] of successes(route)) {
      const content: JsonObject = {};
      const key = routeKeys.responses[status];
      if (key !== undefined) content['application/json'] = { schema: { $ref: `${SCHEMAS}${key}` } };
      for (const [mediaType, description] of Object.entries(answer.text ?? {})) {
        content[mediaType] = { schema: { type: 'string', description } };
      }
      const headers: JsonObject = { 'x-request-id': REQUEST_ID_HEADER };
      for (const [name, description] of Object.entries(answer.headers ?? {})) {
        headers[name] = { description, required: false, schema: { type: 'string' } };
      }
      operation.responses[String(status)] = {
        description: answer.description,
        headers,
        ...(Object.keys(content).length > 0 ? { content } : {}),
      };
    }
    for (const status of errorStatusesOf(route)) {
      operation.responses[String(status)] = { $ref: `#/components/responses/Error${status}` };
    }
    if (route.access === 'public') {
      operation.security = [];
    } else {
      operation['x-required-role'] = route.access;
    }
    const path = openApiPath(route.path);
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation };
  }
  // Request schemas other than bodies (query and path objects) were unfolded into parameters;
  // what they refer to stays.
  for (const [id, schema] of Object.entries(requestSchemas)) {
    if (!referenced(requestSchemas, id)) continue;
    if (schemas[id] !== undefined && JSON.stringify(schemas[id]) !== JSON.stringify(schema)) {
      throw new Error(`Two different schemas are named ${id}; give one another .meta({ id })`);
    }
    schemas[id] = schema;
  }

  const errorStatuses = [...new Set(routes.flatMap(errorStatusesOf))].sort((a, b) => a - b);
  return {
    openapi: '3.1.0',
    info,
    paths,
    security: [{ bearer: [] }],
    components: {
      schemas,
      responses: Object.fromEntries(
        errorStatuses.map((status) => [`Error${status}`, errorResponseComponent(status)]),
      ),
      headers: {
        RequestId: header('The request id: quote it when reporting a problem'),
      },
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'A JWT from the configured issuer. Reads need the viewer role, changes operator (x-required-role on each operation).',
        },
      },
    },
  };
}

/** Whether any schema refers to `id` (query and path objects are only unfolded, never referred to). */
function referenced(schemas: Record<string, JsonObject>, id: string): boolean {
  const ref = JSON.stringify(`${SCHEMAS}${id}`);
  return Object.values(schemas).some((schema) => JSON.stringify(schema).includes(ref));
}

function successes(route: RouteDefinition) {
  return (
    Object.entries(route.responses) as Array<
      [string, NonNullable<RouteDefinition['responses'][SuccessStatus]>]
    >
  )
    .map(([status, answer]) => [Number(status) as SuccessStatus, answer] as const)
    .sort(([a], [b]) => a - b);
}

/** A route's path or query object schema, unfolded into one OpenAPI parameter per property. */
function parametersOf(
  route: RouteDefinition,
  location: 'path' | 'query',
  schema: JsonObject | undefined,
): JsonObject[] {
  const properties = (schema?.properties ?? {}) as Record<string, JsonObject>;
  const required = new Set((schema?.required ?? []) as string[]);
  if (location === 'path') {
    const names = pathParameterNames(route.path);
    const declared = Object.keys(properties);
    if (names.sort().join() !== declared.sort().join()) {
      throw new Error(
        `${route.method} ${route.path}: path parameters [${names.join(', ')}] but params schema [${declared.join(', ')}]`,
      );
    }
  }
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: location,
    required: location === 'path' || required.has(name),
    schema: property,
  }));
}

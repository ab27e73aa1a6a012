// Fuzzing the API from its OpenAPI document: fast-check arbitraries built from each operation's
// JSON Schemas (path, query, body) give requests that the document calls valid, and mutations of
// them give requests it calls invalid (a field of the wrong type, an unknown parameter, a bad
// path value, garbage or a wrong content type for the body, no token, a bad token, a viewer on an
// operator route, an undeclared method or path). Every answer must conform to the document (so
// every 4xx is the envelope), none may be a 5xx, and after every refused request a digest of every
// table of the store (the activity log is one) must be what it was before.

import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { INF_MAX, INF_MIN, type Row, type TablestoreClient } from '../../shared/cloud/tablestore';
import type { OpenApiDocument } from '../../shared/http/openapi';
import { apiContract } from './api-contract';

type Json = Record<string, unknown>;

export interface FuzzRequest {
  /** What kind of request this is ('valid', or the mutation that made it invalid). */
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface FuzzContext {
  /** Values worth using for path parameters and ids (members, folders, scopes that exist). */
  known: Record<string, readonly string[]>;
  tokens: { operator: string; viewer: string; foreign: string };
}

/** A valid value for a JSON Schema (the subset zod writes). */
export function arbitraryFor(
  schema: Json,
  document: OpenApiDocument,
  depth = 0,
): fc.Arbitrary<unknown> {
  const ref = schema.$ref;
  if (typeof ref === 'string') {
    const target = document.components.schemas[ref.split('/').pop() ?? ''];
    return depth > 4 ? fc.constant(null) : arbitraryFor(target ?? {}, document, depth + 1);
  }
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  const variants = (schema.anyOf ?? schema.oneOf) as Json[] | undefined;
  if (variants) return fc.oneof(...variants.map((v) => arbitraryFor(v, document, depth + 1)));
  const type = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (type.length > 1) {
    return fc.oneof(...type.map((t) => arbitraryFor({ ...schema, type: t }, document, depth)));
  }
  switch (type[0]) {
    case 'string':
      return stringFor(schema);
    case 'integer':
      return fc.integer({
        min: Math.max(Number(schema.minimum ?? -1000), -1_000_000),
        max: Math.min(Number(schema.maximum ?? 1000), 1_000_000),
      });
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const items = arbitraryFor((schema.items ?? {}) as Json, document, depth + 1);
      const maxLength = Math.min(Number(schema.maxItems ?? 3), 3);
      return fc.array(items, {
        maxLength,
        minLength: Math.min(Number(schema.minItems ?? 0), maxLength),
      });
    }
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, Json>;
      const required = (schema.required ?? []) as string[];
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [name, property] of Object.entries(properties)) {
        record[name] = arbitraryFor(property, document, depth + 1);
      }
      return fc.record(record, { requiredKeys: required });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function stringFor(schema: Json): fc.Arbitrary<string> {
  if (schema.format === 'date-time') {
    return fc
      .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
      .map((d) => d.toISOString());
  }
  const minLength = Number(schema.minLength ?? 0);
  const maxLength = Math.min(Number(schema.maxLength ?? 40), 200);
  if (typeof schema.pattern === 'string') {
    return fc
      .stringMatching(new RegExp(schema.pattern))
      .filter((s) => s.length >= minLength && s.length <= maxLength);
  }
  return fc.string({ minLength, maxLength: Math.max(minLength, maxLength) });
}

interface OperationShape {
  method: string;
  template: string;
  access: string;
  pathParameters: Array<{ name: string; schema: Json }>;
  queryParameters: Array<{ name: string; schema: Json; required: boolean }>;
  body?: Json;
}

function operationsOf(document: OpenApiDocument): OperationShape[] {
  const operations: OperationShape[] = [];
  for (const [template, methods] of Object.entries(document.paths)) {
    for (const [method, raw] of Object.entries(methods as Record<string, Json>)) {
      const parameters = (raw.parameters ?? []) as Array<{
        name: string;
        in: string;
        required: boolean;
        schema: Json;
      }>;
      const body = (raw.requestBody as Json | undefined)?.content as
        | Record<string, { schema: Json }>
        | undefined;
      operations.push({
        method: method.toUpperCase(),
        template,
        access: (raw['x-required-role'] as string | undefined) ?? 'public',
        pathParameters: parameters.filter((p) => p.in === 'path'),
        queryParameters: parameters.filter((p) => p.in === 'query'),
        ...(body?.['application/json'] ? { body: body['application/json'].schema } : {}),
      });
    }
  }
  return operations;
}

const MUTATIONS = [
  'path-value',
  'unknown-query',
  'query-value',
  'body-json',
  'body-field',
  'body-garbage',
  'content-type',
  'no-token',
  'bad-token',
  'foreign-token',
  'viewer-on-operator',
  'method',
  'unknown-path',
] as const;

const ANY_TEXT = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom(
    '',
    ' ',
    '%00',
    '..',
    '-1',
    '9'.repeat(40),
    'null',
    '{}',
    '../../etc',
    '\u{1F600}',
  ),
);

/** Requests from the document: about half valid, the rest invalid in one way each. */
export function requestArbitrary(
  document: OpenApiDocument,
  context: FuzzContext,
): fc.Arbitrary<FuzzRequest> {
  const operations = operationsOf(document);
  return fc.oneof(
    ...operations.map((operation) =>
      fc
        .record({
          params: fc.record(
            Object.fromEntries(
              operation.pathParameters.map((p) => [
                p.name,
                fc.oneof(
                  {
                    weight: 3,
                    arbitrary: knownOr(context, p.name, arbitraryFor(p.schema, document)),
                  },
                  { weight: 1, arbitrary: arbitraryFor(p.schema, document) },
                ),
              ]),
            ),
          ),
          query: fc.record(
            Object.fromEntries(
              operation.queryParameters.map((p) => [p.name, arbitraryFor(p.schema, document)]),
            ),
            {
              requiredKeys: operation.queryParameters.filter((p) => p.required).map((p) => p.name),
            },
          ),
          body: operation.body ? arbitraryFor(operation.body, document) : fc.constant(undefined),
          mutation: fc.oneof(
            { weight: 10, arbitrary: fc.constant('valid' as const) },
            { weight: 10, arbitrary: fc.constantFrom(...MUTATIONS) },
          ),
          text: ANY_TEXT,
          json: fc.jsonValue({ maxDepth: 3 }),
          pick: fc.nat(),
        })
        .map(({ params, query, body, mutation, text, json, pick }) =>
          build(operation, context, { params, query, body, mutation, text, json, pick }),
        ),
    ),
  );
}

function knownOr(
  context: FuzzContext,
  name: string,
  fallback: fc.Arbitrary<unknown>,
): fc.Arbitrary<unknown> {
  const known = context.known[name];
  return known && known.length > 0 ? fc.constantFrom(...known) : fallback;
}

function build(
  operation: OperationShape,
  context: FuzzContext,
  draw: {
    params: Record<string, unknown>;
    query: Record<string, unknown>;
    body: unknown;
    mutation: 'valid' | (typeof MUTATIONS)[number];
    text: string;
    json: unknown;
    pick: number;
  },
): FuzzRequest {
  const { mutation, text, json, pick } = draw;
  const params = { ...draw.params };
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(draw.query)) {
    if (value !== undefined) query[name] = String(value);
  }
  let method = operation.method;
  let body = draw.body;
  let bodyText: string | undefined;
  const headers: Record<string, string> = {};
  const token = operation.access === 'public' ? undefined : context.tokens.operator;
  if (token) headers.authorization = `Bearer ${token}`;

  const paramNames = Object.keys(params);
  const queryNames = operation.queryParameters.map((p) => p.name);
  let kind: string = mutation;
  switch (mutation) {
    case 'path-value': {
      const name = paramNames[pick % Math.max(paramNames.length, 1)];
      if (name === undefined) kind = 'unknown-query';
      else params[name] = text === '' ? 'x' : text;
      break;
    }
    case 'query-value': {
      const name = queryNames[pick % Math.max(queryNames.length, 1)];
      if (name === undefined) kind = 'unknown-query';
      else query[name] = text;
      break;
    }
    case 'body-json':
      if (operation.body === undefined) kind = 'unknown-query';
      else body = json;
      break;
    case 'body-field':
      if (operation.body === undefined || body === null || typeof body !== 'object')
        kind = 'unknown-query';
      else {
        const keys = [...Object.keys(body as Json), 'unexpected'];
        body = { ...(body as Json), [keys[pick % keys.length] ?? 'unexpected']: json };
      }
      break;
    case 'body-garbage':
      if (operation.body === undefined) kind = 'unknown-query';
      else bodyText = text;
      break;
    case 'content-type':
      if (operation.body === undefined) kind = 'unknown-query';
      else
        headers['content-type'] =
          pick % 2 === 0 ? 'text/plain' : 'application/x-www-form-urlencoded';
      break;
    case 'no-token':
      delete headers.authorization;
      break;
    case 'bad-token': {
      // A header carries Latin-1 only: what fetch can send.
      const printable = text.replace(/[^\x21-\x7e]/g, '') || 'x';
      headers.authorization = pick % 2 === 0 ? `Bearer ${printable}` : `Basic ${printable}`;
      break;
    }
    case 'foreign-token':
      headers.authorization = `Bearer ${context.tokens.foreign}`;
      break;
    case 'viewer-on-operator':
      if (operation.access !== 'operator') kind = 'unknown-query';
      else headers.authorization = `Bearer ${context.tokens.viewer}`;
      break;
    case 'method':
      method =
        ['PUT', 'PATCH', 'DELETE', 'POST', 'GET'].find((m) => m !== operation.method) ?? 'PUT';
      method = ['PUT', 'PATCH'][pick % 2] ?? method;
      break;
    case 'unknown-path':
      break;
  }
  if (kind === 'unknown-query') query[`x${pick % 100}`] = text;
  let path = operation.template.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(String(params[name] ?? '')),
  );
  if (mutation === 'unknown-path') path = `${path}/${encodeURIComponent(text || 'more')}`;
  const search = new URLSearchParams(query).toString();
  if (operation.body !== undefined && method === operation.method) {
    headers['content-type'] ??= 'application/json';
    bodyText ??= JSON.stringify(body);
  }
  return {
    kind,
    method,
    path: `${path}${search ? `?${search}` : ''}`,
    headers,
    ...(bodyText !== undefined ? { body: bodyText } : {}),
  };
}

/**
 * What a refused request may still write, by design, and so what the digest leaves out:
 * - the lease table: every membership change takes the one lease and releases it, refused or
 *   not, and its fencing token must keep growing (shared/store/lease.ts says why);
 * - activity entries whose outcome is `refused`: a refused removal is logged on purpose
 *   (README, "Activity log actions").
 */
function counted(table: string, row: Row): boolean {
  if (table.endsWith('leases')) return false;
  if (table.endsWith('activity') && row.columns.outcome === 'refused') return false;
  return true;
}

/** A digest of every row of every table (table name -> sha-256 of its rows in key order). */
export async function storeDigest(
  client: TablestoreClient,
  keysOf: Map<string, string[]>,
): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  for (const table of (await client.listTables()).sort()) {
    let keys = keysOf.get(table);
    if (!keys) {
      keys = (await client.describeTable(table)).primaryKey.map((k) => k.name);
      keysOf.set(table, keys);
    }
    const hash = createHash('sha256');
    for await (const row of client.iterateRange({
      table,
      start: keys.map((k) => [k, INF_MIN] as const),
      end: keys.map((k) => [k, INF_MAX] as const),
    })) {
      if (!counted(table, row)) continue;
      hash.update(
        JSON.stringify(row, (_key, value: unknown) =>
          typeof value === 'bigint'
            ? `${value}n`
            : Buffer.isBuffer(value)
              ? value.toString('base64')
              : value,
        ),
      );
      hash.update('\n');
    }
    digests.set(table, hash.digest('hex'));
  }
  return digests;
}

/** The tables whose digest differs. */
function changedTables(before: Map<string, string>, after: Map<string, string>): string[] {
  const tables = new Set([...before.keys(), ...after.keys()]);
  return [...tables].filter((table) => before.get(table) !== after.get(table));
}

export interface FuzzOutcome {
  requests: number;
  byStatus: Record<string, number>;
  byKind: Record<string, number>;
  failure?: { index: number; request: FuzzRequest; status: number; body: string; problem: string };
}

/** Sends `count` requests drawn with `seed`, in order; stops at the first failure. */
export async function runFuzz(options: {
  apiUrl: string;
  client: TablestoreClient;
  context: FuzzContext;
  count: number;
  seed: number;
  /** Waits until what an accepted request started in the background (an async fan-out) is done. */
  settle?: () => Promise<void>;
}): Promise<FuzzOutcome> {
  const contract = apiContract();
  const requests = fc.sample(requestArbitrary(contract.document, options.context), {
    seed: options.seed,
    numRuns: options.count,
  });
  const keysOf = new Map<string, string[]>();
  let digest = await storeDigest(options.client, keysOf);
  const outcome: FuzzOutcome = { requests: 0, byStatus: {}, byKind: {} };
  for (const [index, request] of requests.entries()) {
    outcome.requests += 1;
    outcome.byKind[request.kind] = (outcome.byKind[request.kind] ?? 0) + 1;
    let response: Response;
    try {
      // Through the contract check of every test's fetch (api-contract-setup.ts): an answer
      // the document does not allow throws, naming why.
      response = await fetch(new URL(request.path, options.apiUrl), {
        method: request.method,
        headers: request.headers,
        ...(request.body !== undefined ? { body: request.body } : {}),
      });
    } catch (error) {
      outcome.failure = { index, request, status: 0, body: '', problem: String(error) };
      return outcome;
    }
    const body = await response.text();
    outcome.byStatus[response.status] = (outcome.byStatus[response.status] ?? 0) + 1;
    const fail = (problem: string) => {
      outcome.failure = {
        index,
        request,
        status: response.status,
        body: body.slice(0, 500),
        problem,
      };
      return outcome;
    };
    if (response.status >= 500) return fail('a 5xx answer');
    if (response.status >= 400 && !/^\{"code":/.test(body))
      return fail('a 4xx outside the envelope');
    if (response.status < 400) await options.settle?.();
    const after = await storeDigest(options.client, keysOf);
    const changed = changedTables(digest, after);
    if (response.status >= 400 && changed.length > 0) {
      return fail(`a refused request changed the store: ${changed.join(', ')}`);
    }
    digest = after;
  }
  return outcome;
}

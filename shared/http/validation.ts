// Request and response validation with zod. A request that does not match its schema is the
// caller's mistake: 400 InvalidRequest with one issue per field. A response that does not match
// its schema is ours: the handler throws, the caller gets 500 and the log gets the mismatch.

import { z } from 'zod';
import { MAX_PAGE_LIMIT } from '../domain/paging';
import {
  type FieldIssue,
  InvalidRequest,
  type RequestLocation,
  UnsupportedMediaType,
} from '../errors';

/** The `details` of a 400 InvalidRequest: one issue per field (for clients and tests). */
export const invalidRequestDetailsSchema = z.strictObject({
  issues: z.array(
    z.strictObject({
      location: z.enum(['query', 'body', 'path', 'header']),
      field: z.string(),
      message: z.string(),
    }),
  ),
});

/** A member's account id. */
export const ACCOUNT_ID = /^\d{16}$/;
export const accountIdSchema = z.string().regex(ACCOUNT_ID, 'must be a 16-digit account id');

/** A time in a query or body: ISO 8601 with its offset. */
export const isoTimeSchema = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 time' });

/** A paging cursor as a query parameter (what it holds is checked where it is read). */
const cursorSchema = z.string().min(1).max(1024).optional();

/** The `limit` and `cursor` of a paged list's query (shared/domain/paging.ts). */
export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_LIMIT).default(100),
  cursor: cursorSchema,
};

const JSON_TYPE = /^application\/(json|[\w.+-]+\+json)\s*(;|$)/i;

export function fieldIssues(error: z.ZodError, location: RequestLocation): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const issue of error.issues) {
    const base = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const field = base ? `${base}.${key}` : key;
        issues.push({ location, field, message: `unknown ${describe(location)} "${field}"` });
      }
    } else {
      issues.push({ location, field: base, message: issue.message });
    }
  }
  return issues;
}

function describe(location: RequestLocation): string {
  return location === 'query'
    ? 'query parameter'
    : location === 'path'
      ? 'path parameter'
      : 'field';
}

function parseOrThrow<S extends z.ZodType>(
  schema: S,
  input: unknown,
  location: RequestLocation,
): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = fieldIssues(parsed.error, location);
  const fields = [...new Set(issues.map((i) => i.field).filter(Boolean))];
  throw new InvalidRequest(
    `The request ${location === 'path' ? 'path' : location} is invalid${fields.length ? `: ${fields.join(', ')}` : ''}`,
    issues,
  );
}

/** A query's `from` later than its `to`: one issue naming each (a refinement of its schema). */
export function fromNotAfterTo(query: { from?: string; to?: string }, ctx: z.RefinementCtx): void {
  if (query.from === undefined || query.to === undefined) return;
  if (Date.parse(query.from) <= Date.parse(query.to)) return;
  const message = `from (${query.from}) is later than to (${query.to})`;
  ctx.addIssue({ code: 'custom', path: ['from'], message });
  ctx.addIssue({ code: 'custom', path: ['to'], message });
}

/**
 * Validates the query string. A parameter given once is a string, given more than once an
 * array; use a strict object schema so unknown parameters are reported, not ignored.
 */
export function parseQuery<S extends z.ZodType>(url: string, schema: S): z.output<S> {
  const params = new URL(url).searchParams;
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    query[key] = values.length === 1 ? (values[0] ?? '') : values;
  }
  return parseOrThrow(schema, query, 'query');
}

export function parseParams<S extends z.ZodType>(
  params: Record<string, string>,
  schema: S,
): z.output<S> {
  return parseOrThrow(schema, params, 'path');
}

/** Validates a JSON request body: 415 unless Content-Type is JSON, 400 if unparsable or invalid. */
export async function parseJsonBody<S extends z.ZodType>(
  request: Request,
  schema: S,
): Promise<z.output<S>> {
  const contentType = request.headers.get('content-type') ?? undefined;
  if (contentType === undefined || !JSON_TYPE.test(contentType)) {
    throw new UnsupportedMediaType(contentType, 'application/json');
  }
  const text = await request.text();
  if (text.trim() === '') {
    throw new InvalidRequest('The request body is empty; a JSON document is required', [
      { location: 'body', field: '', message: 'required' },
    ]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof SyntaxError ? error.message : 'not JSON';
    throw new InvalidRequest('The request body is not valid JSON', [
      { location: 'body', field: '', message: reason },
    ]);
  }
  return parseOrThrow(schema, json, 'body');
}

/** A response body broke its own schema: a bug, reported as 500 with the mismatch logged. */
export class ResponseContractViolation extends Error {
  override readonly name = 'ResponseContractViolation';
  constructor(
    readonly route: string,
    readonly issues: FieldIssue[],
  ) {
    super(
      `The response of ${route} does not match its schema: ${issues
        .slice(0, 5)
        .map((i) => `${i.field || '(root)'}: ${i.message}`)
        .join('; ')}`,
    );
  }
}

/** Validates `data` against the route's response schema and renders it as JSON. */
export function jsonResponse<S extends z.ZodType>(
  route: string,
  schema: S,
  data: z.input<S>,
  status = 200,
): Response {
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    throw new ResponseContractViolation(route, fieldIssues(parsed.error, 'body'));
  }
  return new Response(JSON.stringify(parsed.data), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });
}

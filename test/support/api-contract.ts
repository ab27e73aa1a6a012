// Checks an answer of the API against its OpenAPI document: the status is one the operation
// declares, the headers it requires are there (x-request-id, WWW-Authenticate on 401/403,
// Retry-After on 503), the content type is one it declares for that status, and a JSON body
// validates against the status's schema (ajv, JSON Schema 2020-12). A path the document does not
// have must be 404, and a method it does not declare 405, both in the error envelope. Used by
// every test through the fetch check (api-contract-setup.ts) and by the fuzzer.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { OpenApiDocument } from '../../shared/http/openapi';

type Json = Record<string, unknown>;

export interface Answer {
  method: string;
  /** The request's path and query, e.g. /v1/members?limit=2 */
  url: string;
  status: number;
  headers: Headers;
  body: string;
}

interface Operation {
  method: string;
  template: string;
  pattern: RegExp;
  responses: Record<string, Json>;
}

export interface ApiContract {
  document: OpenApiDocument;
  /** The problems with an answer; [] when it conforms. */
  check(answer: Answer): string[];
  /** The operation a method and path name, if the document has one. */
  operation(method: string, path: string): { template: string; declared: boolean } | undefined;
}

const DOC_ID = 'https://rd-governance.test/openapi.json';

let contract: ApiContract | undefined;

/**
 * The contract of the API (built once per test process) from the committed docs/openapi.json,
 * which test/unit/http/openapi.test.ts keeps equal to what the routes generate; read from the
 * file so that checking answers loads neither the SDKs nor the generator in every test process.
 */
export function apiContract(): ApiContract {
  contract ??= buildContract(
    JSON.parse(
      readFileSync(fileURLToPath(new URL('../../docs/openapi.json', import.meta.url)), 'utf8'),
    ) as OpenApiDocument,
  );
  return contract;
}

function buildContract(document: OpenApiDocument): ApiContract {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: DOC_ID, components: document.components } as Json);
  const validators = new Map<string, ValidateFunction>();
  const validator = (ref: string): ValidateFunction => {
    let validate = validators.get(ref);
    if (!validate) {
      validate = ajv.compile({ $ref: `${DOC_ID}${ref}` });
      validators.set(ref, validate);
    }
    return validate;
  };
  const operations: Operation[] = [];
  for (const [template, methods] of Object.entries(document.paths)) {
    const pattern = new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`);
    for (const [method, operation] of Object.entries(methods as Record<string, Json>)) {
      operations.push({
        method: method.toUpperCase(),
        template,
        pattern,
        responses: operation.responses as Record<string, Json>,
      });
    }
  }
  // A literal segment wins over a parameter (/v1/x/search before /v1/x/{id}).
  operations.sort((a, b) => paramCount(a.template) - paramCount(b.template));
  const resolve = (response: Json): Json => {
    const ref = response.$ref;
    if (typeof ref !== 'string') return response;
    return (document.components.responses[ref.split('/').pop() ?? ''] ?? {}) as Json;
  };
  const envelope = validator('#/components/schemas/Error');

  function checkEnvelope(answer: Answer, problems: string[]): void {
    let body: unknown;
    try {
      body = JSON.parse(answer.body);
    } catch {
      problems.push(`body is not JSON: ${answer.body.slice(0, 200)}`);
      return;
    }
    if (!envelope(body))
      problems.push(`not the error envelope: ${ajv.errorsText(envelope.errors)}`);
  }

  return {
    document,
    operation(method, path) {
      const byPath = operations.filter((o) => o.pattern.test(path));
      if (byPath.length === 0) return undefined;
      const exact = byPath.find((o) => o.method === method.toUpperCase());
      return { template: (exact ?? byPath[0])?.template ?? '', declared: exact !== undefined };
    },
    check(answer) {
      const problems: string[] = [];
      const path = new URL(answer.url, 'http://api.test').pathname;
      if (!answer.headers.get('x-request-id')) problems.push('no x-request-id header');
      const byPath = operations.filter((o) => o.pattern.test(path));
      const operation = byPath.find((o) => o.method === answer.method.toUpperCase());
      if (!operation) {
        const expected = byPath.length === 0 ? 404 : 405;
        if (answer.status !== expected) {
          problems.push(
            `an undocumented ${byPath.length === 0 ? 'path' : 'method'} answered ${answer.status}, not ${expected}`,
          );
        }
        checkEnvelope(answer, problems);
        return problems;
      }
      const declared = operation.responses[String(answer.status)];
      if (!declared) {
        problems.push(
          `${operation.method} ${operation.template} does not declare status ${answer.status} (declares ${Object.keys(operation.responses).join(', ')}): ${answer.body.slice(0, 300)}`,
        );
        return problems;
      }
      const response = resolve(declared);
      for (const [name, spec] of Object.entries((response.headers ?? {}) as Record<string, Json>)) {
        const required = spec.$ref !== undefined || spec.required === true;
        if (required && answer.headers.get(name) === null) problems.push(`no ${name} header`);
      }
      const content = (response.content ?? {}) as Record<string, Json>;
      const mediaType = (answer.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
      if (Object.keys(content).length === 0) {
        if (answer.body !== '')
          problems.push(`a body where none is declared: ${answer.body.slice(0, 200)}`);
        return problems;
      }
      const media = content[mediaType];
      if (!media) {
        problems.push(
          `content type ${mediaType || '(none)'} is not declared (${Object.keys(content).join(', ')})`,
        );
        return problems;
      }
      if (mediaType !== 'application/json') return problems;
      let body: unknown;
      try {
        body = JSON.parse(answer.body);
      } catch {
        problems.push(`body is not JSON: ${answer.body.slice(0, 200)}`);
        return problems;
      }
      const ref = (media.schema as Json | undefined)?.$ref;
      if (typeof ref === 'string') {
        const validate = validator(ref);
        if (!validate(body))
          problems.push(`body does not match ${ref}: ${ajv.errorsText(validate.errors)}`);
      }
      return problems;
    },
  };
}

function paramCount(template: string): number {
  return (template.match(/\{/g) ?? []).length;
}

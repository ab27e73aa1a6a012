// A typed client for the rd-governance API, for portals written in TypeScript: openapi-fetch over
// the types generated from the OpenAPI document (client/api-types.ts), so a path, a parameter or
// a field the API does not have is a compile error, and every answer is typed by its status.
// Portals in other languages generate their own client from docs/openapi.json (or from
// GET /v1/openapi.json of the deployment).

import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './api-types';

export type { components, paths };

export interface RdGovernanceClientOptions {
  /** The API's base URL, e.g. https://api.example.com or http://127.0.0.1:8791 */
  baseUrl: string;
  /** A bearer token (JWT) from the configured issuer, or a function returning a fresh one. */
  token: string | (() => string | Promise<string>);
  /** Another fetch (tests, proxies); the global one by default. */
  fetch?: typeof globalThis.fetch;
}

export type RdGovernanceClient = Client<paths>;

export function createRdGovernanceClient(options: RdGovernanceClientOptions): RdGovernanceClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  client.use({
    async onRequest({ request }) {
      const token = typeof options.token === 'string' ? options.token : await options.token();
      request.headers.set('authorization', `Bearer ${token}`);
      return request;
    },
  });
  return client;
}

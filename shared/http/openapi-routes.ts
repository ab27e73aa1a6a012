// GET /v1/openapi.json: the API's OpenAPI 3.1 document, without a token, so a portal or a client
// generator can read the contract of the deployment it talks to. Built from the routes on the
// first request and kept for the life of the instance.

import { z } from 'zod';
import { defineRoute, NO_QUERY, type RouteDefinition } from './app';
import { type ApiInfo, type OpenApiDocument, openApiDocument } from './openapi';

export const API_INFO: ApiInfo = {
  title: 'rd-governance',
  version: '1',
  description:
    'Multi-account governance over an Alibaba Cloud Resource Directory: the directory, management scopes and members, service-linked roles, the activity log. Every error is {code, message, details, requestId}; every answer carries x-request-id.',
};

const openApiResponseSchema = z.looseObject({ openapi: z.literal('3.1.0') });

/** The document route; `routes` is every route of the API, this one included. */
export function openApiRoutes(routes: () => readonly RouteDefinition[]): RouteDefinition[] {
  let document: OpenApiDocument | undefined;
  return [
    defineRoute({
      method: 'GET',
      path: '/v1/openapi.json',
      summary: "This API's OpenAPI 3.1 document",
      access: 'public',
      query: NO_QUERY,
      responses: { 200: { description: 'The OpenAPI document', json: openApiResponseSchema } },
      handle() {
        document ??= openApiDocument(routes(), API_INFO);
        return new Response(JSON.stringify(document), {
          status: 200,
          headers: { 'content-type': 'application/json; charset=utf-8' },
        });
      },
    }),
  ];
}

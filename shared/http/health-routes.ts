// GET /v1/health: answers without a token. Liveness probes and uptime checks carry no
// credentials, and the answer says only that the function started (configuration parsed, app
// built): no version, no dependency state, nothing from the directory.

import { z } from 'zod';
import { defineRoute, NO_QUERY, type RouteDefinition } from './app';
import { jsonResponse } from './validation';

export const healthResponseSchema = z.strictObject({ status: z.literal('ok') });

export function healthRoutes(): RouteDefinition[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/v1/health',
      summary: 'Liveness: answers once the function has started',
      access: 'public',
      query: NO_QUERY,
      responses: { 200: { description: 'The function started', json: healthResponseSchema } },
      handle: () => jsonResponse('GET /v1/health', healthResponseSchema, { status: 'ok' }),
    }),
  ];
}

// Runs one HTTP-trigger invocation: decode the FC event and context, hand a Web Request to the
// application, encode its Response. Nothing escapes as a thrown error: FC would turn it into an
// opaque 502, so every failure becomes the JSON error envelope.

import { InvalidRequest } from '../errors';
import { decodeContext, type Invocation } from './context';
import { errorResponse, errorResponseToWeb } from './error-response';
import {
  decodeHttpEvent,
  type FcHttpResponse,
  MalformedHttpEvent,
  toFcHttpResponse,
  toWebRequest,
} from './http-event';
import type { Logger } from './logger';

/** What the application sees of the invocation (hono `c.env`). */
export interface InvocationBindings {
  invocation: Invocation;
  /** Logger with requestId and function on every entry. */
  logger: Logger;
}

export interface HttpApplication {
  fetch(request: Request, bindings: InvocationBindings): Response | Promise<Response>;
}

export async function serveHttpEvent(
  app: HttpApplication,
  event: unknown,
  context: unknown,
  logger: Logger,
): Promise<FcHttpResponse> {
  const started = performance.now();
  let invocation: Invocation;
  try {
    invocation = decodeContext(context);
  } catch (error) {
    // Only the platform builds the context: a malformed one is not the caller's doing.
    return toFcHttpResponse(errorResponseToWeb(errorResponse(error, 'unknown', logger), 'unknown'));
  }
  const log = logger.child({ requestId: invocation.requestId, function: invocation.functionName });

  let response: Response;
  let method = 'UNKNOWN';
  let path = '';
  try {
    const httpEvent = decodeHttpEvent(event);
    method = httpEvent.requestContext.http.method;
    path = httpEvent.rawPath;
    const request = toWebRequest(httpEvent);
    response = await app.fetch(request, { invocation, logger: log });
  } catch (error) {
    const mapped =
      error instanceof MalformedHttpEvent
        ? new InvalidRequest(error.message, [
            ...error.problems.map((problem) => ({
              location: 'body' as const,
              field: '',
              message: problem,
            })),
          ])
        : error;
    response = errorResponseToWeb(
      errorResponse(mapped, invocation.requestId, log),
      invocation.requestId,
    );
  }
  if (!response.headers.has('x-request-id')) {
    response = new Response(response.body, response);
    response.headers.set('x-request-id', invocation.requestId);
  }
  const encoded = await toFcHttpResponse(response);
  log.info('request', {
    method,
    path,
    status: encoded.statusCode,
    durationMs: Math.round(performance.now() - started),
  });
  return encoded;
}

// Error -> HTTP response. Errors the application raises on purpose (AppError) carry their status,
// code and details; anything else is a bug: 500 InternalError, logged with its stack, and the
// caller sees only the requestId to quote, never the message (it may name internals).

import { AppError, type ErrorDetails } from '../errors';
import type { Logger } from './logger';

/** Retry-After on a 503 whose error did not choose one (the OpenAPI document requires it). */
const DEFAULT_RETRY_AFTER_SECONDS = 1;

export interface ErrorEnvelope {
  code: string;
  message: string;
  details: ErrorDetails | null;
  requestId: string;
}

export interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: ErrorEnvelope;
}

export function errorResponse(error: unknown, requestId: string, logger: Logger): ErrorResponse {
  if (error instanceof AppError) {
    const entry = { code: error.code, status: error.status, details: error.details, error };
    if (error.status >= 500) logger.error(error.message, entry);
    else logger.info(error.message, { code: error.code, status: error.status });
    const headers = { ...error.headers };
    // A 503 is always worth retrying: say when, if the error did not.
    if (
      error.status === 503 &&
      !Object.keys(headers).some((h) => h.toLowerCase() === 'retry-after')
    ) {
      headers['Retry-After'] = String(DEFAULT_RETRY_AFTER_SECONDS);
    }
    return {
      status: error.status,
      headers,
      body: { code: error.code, message: error.message, details: error.details, requestId },
    };
  }
  logger.error('Unhandled error', { error });
  return {
    status: 500,
    headers: {},
    body: {
      code: 'InternalError',
      message: `An internal error occurred; quote request id ${requestId} when reporting it.`,
      details: null,
      requestId,
    },
  };
}

export function errorResponseToWeb(response: ErrorResponse, requestId: string): Response {
  return new Response(JSON.stringify(response.body), {
    status: response.status,
    headers: {
      ...response.headers,
      'content-type': 'application/json; charset=utf-8',
      'x-request-id': requestId,
    },
  });
}

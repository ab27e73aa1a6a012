// Error decoding from real protobuf bytes (encoded with the SDK's compiled Tablestore proto, the
// service's own message definition), from the SDK's lossy message text, and classification.

import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  classifyFailure,
  decodeErrorBody,
  decodeErrorFromSdkText,
  toTablestoreError,
} from '../../../../shared/cloud/tablestore/errors';

const require = createRequire(import.meta.url);
const proto = require('tablestore/lib/protocol/tablestore_compiled_proto.js').main.proto as {
  Error: { encode(m: { code: string; message?: string }): { finish(): Uint8Array } };
};

function errorBytes(code: string, message?: string): Buffer {
  return Buffer.from(
    proto.Error.encode(message === undefined ? { code } : { code, message }).finish(),
  );
}

/** What the SDK puts in err.message for a non-2xx answer: body.toString() + " requestId:" + id. */
function sdkText(bytes: Buffer, requestId = '0005f1d2-aaaa'): string {
  return `${bytes.toString()} requestId:${requestId}`;
}

describe('decodeErrorBody', () => {
  it('decodes code and message from protobuf bytes', () => {
    expect(decodeErrorBody(errorBytes('OTSConditionCheckFail', 'Condition check failed.'))).toEqual(
      {
        code: 'OTSConditionCheckFail',
        message: 'Condition check failed.',
      },
    );
  });

  it('decodes a body without a message', () => {
    expect(decodeErrorBody(errorBytes('OTSServerBusy'))).toEqual({
      code: 'OTSServerBusy',
      message: '',
    });
  });

  it('decodes messages with multi-byte length varints and non-ASCII text', () => {
    const message = `${'The table does not exist. '.repeat(20)}请求的表不存在`;
    const bytes = errorBytes('OTSObjectNotExist', message);
    expect(bytes[20]).toBeGreaterThanOrEqual(0x80); // after tag, code and message tag: a two-byte length
    expect(decodeErrorBody(bytes)).toEqual({ code: 'OTSObjectNotExist', message });
  });

  it('refuses bodies that are not an Error message', () => {
    expect(
      decodeErrorBody(Buffer.from('<html><body>502 Bad Gateway</body></html>')),
    ).toBeUndefined();
    expect(decodeErrorBody(Buffer.alloc(0))).toBeUndefined();
    expect(decodeErrorBody(errorBytes('OTSServerBusy', 'x').subarray(0, 5))).toBeUndefined();
    // field 2 only: the required code is missing
    expect(decodeErrorBody(Buffer.from([0x12, 0x01, 0x41]))).toBeUndefined();
  });
});

describe('decodeErrorFromSdkText', () => {
  it('recovers short messages exactly', () => {
    const text = sdkText(errorBytes('OTSParameterInvalid', 'Invalid primary key.'));
    expect(decodeErrorFromSdkText(text)).toEqual({
      code: 'OTSParameterInvalid',
      message: 'Invalid primary key.',
    });
  });

  it('recovers long messages whose length varint the UTF-8 round trip destroyed', () => {
    for (const length of [128, 200, 1000, 5000]) {
      const message = `${'m'.repeat(length - 6)}条件`;
      const bytes = errorBytes('OTSConditionCheckFail', message);
      const text = sdkText(bytes);
      const lengthPrefix = bytes.subarray(23, 26); // message tag and its two-byte length
      expect(Buffer.from(text).includes(lengthPrefix)).toBe(false); // really lossy
      expect(decodeErrorFromSdkText(text)).toEqual({ code: 'OTSConditionCheckFail', message });
    }
  });

  it('returns undefined for text that is no protobuf Error', () => {
    expect(decodeErrorFromSdkText('socket hang up')).toBeUndefined();
    expect(decodeErrorFromSdkText(' requestId:abc')).toBeUndefined();
  });
});

describe('toTablestoreError', () => {
  it('uses the raw body bytes when the SDK response is available', () => {
    const body = errorBytes('OTSConditionCheckFail', 'Condition check failed.');
    const err = toTablestoreError(
      {
        error: Object.assign(new Error(sdkText(body)), { code: 403 }),
        response: {
          httpResponse: { statusCode: 403, body, headers: { 'x-ots-requestid': 'req-1' } },
        },
      },
      { operation: 'PutRow', table: 'rdg_members' },
    );
    expect(err).toMatchObject({
      code: 'OTSConditionCheckFail',
      serverMessage: 'Condition check failed.',
      httpStatus: 403,
      requestId: 'req-1',
      failureClass: 'final',
      retryable: false,
      table: 'rdg_members',
    });
    expect(err.message).toBe(
      'Tablestore PutRow on table rdg_members failed: OTSConditionCheckFail: Condition check failed. (HTTP 403, request req-1)',
    );
  });

  it('falls back to the SDK message text when only the error is available', () => {
    const body = errorBytes('OTSServerBusy', 'Server is busy.');
    const err = toTablestoreError(
      {
        error: Object.assign(new Error(sdkText(body)), {
          code: 503,
          headers: { 'x-ots-requestid': 'r2' },
        }),
      },
      { operation: 'GetRow' },
    );
    expect(err).toMatchObject({
      code: 'OTSServerBusy',
      httpStatus: 503,
      requestId: 'r2',
      failureClass: 'not-applied',
    });
  });

  it('maps an undecodable 5xx to an internal server error that may have been applied', () => {
    const err = toTablestoreError(
      {
        error: Object.assign(new Error(' requestId:'), { code: 502 }),
        response: { httpResponse: { statusCode: 502, body: Buffer.from('bad gateway') } },
      },
      { operation: 'PutRow' },
    );
    expect(err).toMatchObject({
      code: 'OTSInternalServerError',
      httpStatus: 502,
      failureClass: 'maybe-applied',
    });
  });

  it('tells a refused connection (never sent) from a dropped one (maybe applied)', () => {
    const refused = toTablestoreError(
      {
        error: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
          code: 'NetworkingError',
          syscall: 'connect',
        }),
      },
      { operation: 'PutRow' },
    );
    expect(refused.failureClass).toBe('not-applied');
    const reset = toTablestoreError(
      { error: Object.assign(new Error('socket hang up'), { code: 'NetworkingError' }) },
      { operation: 'PutRow' },
    );
    expect(reset.failureClass).toBe('maybe-applied');
    const timeout = toTablestoreError(
      {
        error: Object.assign(new Error('Connection timed out after 10ms'), {
          code: 'TimeoutError',
        }),
      },
      { operation: 'PutRow' },
    );
    expect(timeout.failureClass).toBe('maybe-applied');
  });
});

describe('classifyFailure', () => {
  it.each([
    ['OTSServerBusy', '', 503, 'not-applied'],
    ['OTSNotEnoughCapacityUnit', '', 403, 'not-applied'],
    ['OTSTableNotReady', '', 404, 'not-applied'],
    ['OTSRowOperationConflict', '', 409, 'not-applied'],
    ['OTSQuotaExhausted', 'Too frequent table operations.', 403, 'not-applied'],
    ['OTSQuotaExhausted', 'Number of tables exceeded the quota.', 403, 'final'],
    ['OTSTimeout', '', 503, 'maybe-applied'],
    ['OTSInternalServerError', '', 500, 'maybe-applied'],
    ['SomethingNew', '', 500, 'maybe-applied'],
    ['OTSConditionCheckFail', '', 403, 'final'],
    ['OTSParameterInvalid', '', 400, 'final'],
    ['OTSAuthFailed', '', 403, 'final'],
  ] as const)('%s (%s) is %s', (code, message, status, expected) => {
    expect(classifyFailure(code, message, status)).toBe(expected);
  });
});

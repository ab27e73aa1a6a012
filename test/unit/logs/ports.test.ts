// The log-integration capability's vocabulary that carries behaviour: the tag a forwarded batch
// is recognised by downstream, and the refusals a puller reacts to.

import { describe, expect, it } from 'vitest';
import { CloudApiError } from '../../../shared/errors';
import { BATCH_ID_TAG } from '../../../shared/logs/model';
import { LogCursorInvalid, LogResourceMissing } from '../../../shared/logs/ports';

const failure = {
  service: 'SLS',
  api: 'PullLogs',
  accountId: '1000000000000001',
  kind: 'rejected' as const,
  cloudCode: 'LogStoreNotExist',
  cloudMessage: 'logstore waf-logstore does not exist',
};

describe('log-integration refusals', () => {
  it('a missing project, Logstore or shard says which, and is a cloud error as any other', () => {
    const cause = new Error('404');
    const error = new LogResourceMissing('logstore', failure, cause);
    expect(error).toBeInstanceOf(CloudApiError);
    expect(error.resource).toBe('logstore');
    expect(error.failure).toBe(failure);
    expect(error.cause).toBe(cause);
    expect(error.message).toBe(
      'SLS PullLogs as account 1000000000000001 failed: LogStoreNotExist: logstore waf-logstore does not exist.',
    );
    expect(new LogCursorInvalid({ ...failure, cloudCode: 'InvalidCursor' })).toBeInstanceOf(
      CloudApiError,
    );
  });

  it('a forwarded batch carries its id under one tag name', () => {
    expect(BATCH_ID_TAG).toBe('rdgov_batch_id');
  });
});

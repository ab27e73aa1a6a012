import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../shared/runtime/logger';
import { REDACTED, redact, redactText } from '../../../shared/runtime/redact';

const jwt =
  'eyJhbGciOiJFUzI1NiIsImtpZCI6InRlc3Qta2V5In0.eyJzdWIiOiJhbGljZSIsInJvbGVzIjpbIm9wZXJhdG9yIl19.c2lnbmF0dXJlLWJ5dGVz';
const stsToken =
  'CAIS8gF1q6Ft5B2yfSjIr5bSEsTDgLBo0a6bYVnSsXQYTfpFvpLJjTz2IHxMdHVuAu8Xs/0zmWpX7PoflqB6T55OSAmcNZEoEAdOwS2VTKDdkpXu7WBa0TTcRePC0eDLlmI3bYSDz1WPzvvqJeYwY0nVgU7O1M/+ZxS4vyYSrwLMxvNAqrn/tsqP+RvNd2EX9Wo8gqCBFa/rRTE4I6qy/GGEEfjXrMj4/YzF2pg2Mi2ZBB3MmRT3TUOfR0wMe8qxXx2cyTpmxF5jGZgMZ0zvHZ3H4KA';

describe('redaction', () => {
  it('removes secret-named fields whole, at any depth', () => {
    const out = redact({
      credentials: { accessKeyId: 'STS.abc', accessKeySecret: 's3cr3t', securityToken: stsToken },
      nested: [
        { AccessKeySecret: 'x', SecurityToken: 'y', password: 'p', Authorization: 'Bearer abc' },
      ],
      headers: {
        authorization: 'Bearer abc',
        'x-acs-security-token': 'tok-value-123',
        cookie: 'sid=1',
      },
      accessKeyId: 'LTAIvisible',
    });
    const text = JSON.stringify(out);
    for (const secret of [
      's3cr3t',
      stsToken,
      '"x"',
      '"y"',
      '"p"',
      'Bearer abc',
      'tok-value-123',
      'sid=1',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(out).toMatchObject({ credentials: REDACTED, accessKeyId: 'LTAIvisible' });
  });

  it('removes secrets embedded in free text', () => {
    const samples = [
      `Authorization: Bearer ${jwt}`,
      `token was ${jwt} and more`,
      `ACS3-HMAC-SHA256 Credential=LTAI5t,SignedHeaders=host,Signature=c360d2c33196abcdef`,
      `GET /?AccessKeyId=LTAI&Signature=abc%2Bdef&SecurityToken=${stsToken}`,
      `{"AccessKeySecret":"verysecret","SecurityToken":"${stsToken}"}`,
      `accessKeySecret=verysecret password: hunter2`,
      `sts token ${stsToken}`,
    ];
    for (const sample of samples) {
      const out = redactText(sample);
      expect(out).toContain(REDACTED);
      for (const secret of [
        jwt,
        stsToken,
        'c360d2c33196abcdef',
        'abc%2Bdef',
        'verysecret',
        'hunter2',
      ]) {
        expect(out).not.toContain(secret);
      }
    }
  });

  it('leaves ordinary text alone', () => {
    const text =
      'ListAccounts as account 1234567890123456 failed: Throttling.User (request id: 6C5A-11)';
    expect(redactText(text)).toBe(text);
  });

  it('serializes errors without their secrets and survives cycles', () => {
    const error = Object.assign(new Error(`AssumeRole failed with SecurityToken=${stsToken}`), {
      code: 'NoPermission',
      data: { raw: 'response body' },
      accessKeySecret: 'leak',
    });
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const out = redact({ error, cyclic }) as {
      error: Record<string, unknown>;
      cyclic: Record<string, unknown>;
    };
    expect(out.error.code).toBe('NoPermission');
    expect(out.error.data).toBeUndefined();
    expect(JSON.stringify(out)).not.toContain(stsToken);
    expect(JSON.stringify(out)).not.toContain('leak');
    expect(out.cyclic.self).toBe('[Circular]');
  });
});

describe('logger', () => {
  it('writes one JSON line with level, message, function and requestId', () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      fields: { function: 'api' },
      write: (line) => lines.push(line),
      now: () => new Date('2024-01-01T00:00:00Z'),
    });
    logger.child({ requestId: 'req-1' }).info('listed', { members: 3 });
    logger.debug('hidden below the level');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      time: '2024-01-01T00:00:00.000Z',
      level: 'info',
      message: 'listed',
      function: 'api',
      requestId: 'req-1',
      members: 3,
    });
  });

  it('never writes a credential, token or Authorization header', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', write: (line) => lines.push(line) });
    logger.error(`call failed: Authorization: Bearer ${jwt}`, {
      credentials: {
        accessKeyId: 'STS.x',
        accessKeySecret: 'secret-value',
        securityToken: stsToken,
      },
      headers: { Authorization: `Bearer ${jwt}` },
      error: new Error(`boom with accessKeySecret=secret-value`),
    });
    const line = lines.join('\n');
    expect(line).not.toContain(jwt);
    expect(line).not.toContain(stsToken);
    expect(line).not.toContain('secret-value');
    expect(JSON.parse(lines[0] ?? '').level).toBe('error');
  });
});

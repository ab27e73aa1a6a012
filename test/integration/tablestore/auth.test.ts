import { createHash, createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, BOB, expectOtsError, type Harness, startHarness } from './harness';
import { createTable, ignore } from './helpers';
import { sdkRequestBody, sendRaw } from './raw';
import { TableStore } from './sdk';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  await createTable(h.client(), { name: 'auth_demo', primaryKey: [{ name: 'k', type: 'STRING' }] });
});
afterAll(async () => {
  await h.close();
});

/** The response check a strict client (e.g. the Python SDK) performs, written out independently. */
function verifyResponseSignature(
  headers: Record<string, string>,
  path: string,
  accessKeyId: string,
  secret: string,
): boolean {
  const canonical = Object.keys(headers)
    .filter((name) => name.startsWith('x-ots-') && name !== 'x-ots-signature')
    .sort()
    .map((name) => `${name}:${headers[name]?.trim()}`)
    .join('\n');
  const signature = createHmac('sha1', secret).update(`${canonical}\n${path}`).digest('base64');
  return headers.authorization === `OTS ${accessKeyId}:${signature}`;
}

describe('request signatures and response headers', () => {
  it('answers a signed request with the headers the service sends, Authorization signed for the caller', async () => {
    await h.client().listTable({});
    const call = h.calls.at(-1);
    const headers = call?.response.headers ?? {};
    expect(call?.status).toBe(200);
    expect(headers['x-ots-requestid']).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    expect(headers['x-ots-contenttype']).toBe('protocol buffer');
    expect(headers['x-ots-date']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(headers['x-ots-contentmd5']).toBe(
      createHash('md5')
        .update(call?.response.body ?? '')
        .digest('base64'),
    );
    expect(verifyResponseSignature(headers, '/ListTable', ALICE.accessKeyId, ALICE.secret)).toBe(
      true,
    );
  });

  it('signs error responses too, so clients can tell them from forgeries', async () => {
    await h.client().putRow({
      tableName: 'auth_demo',
      condition: ignore(),
      primaryKey: [{ k: 'a' }],
      attributeColumns: [{ v: 1 }],
    });
    const raw = await sendRaw(
      h.endpoint,
      'PutRow',
      sdkRequestBody('putRow', {
        tableName: 'auth_demo',
        condition: new TableStore.Condition(
          TableStore.RowExistenceExpectation.EXPECT_NOT_EXIST,
          null,
        ),
        primaryKey: [{ k: 'a' }],
        attributeColumns: [{ v: 2 }],
      }),
    );
    expect(raw).toMatchObject({
      status: 403,
      error: { code: 'OTSConditionCheckFail', message: 'Condition check failed.' },
    });
    expect(verifyResponseSignature(raw.headers, '/PutRow', ALICE.accessKeyId, ALICE.secret)).toBe(
      true,
    );
  });

  it('refuses a wrong secret with OTSAuthFailed and leaves the answer unsigned', async () => {
    const client = h.client({ account: { ...ALICE, secret: 'not-the-secret' } });
    expect(await expectOtsError(client.listTable({}))).toEqual({
      status: 403,
      code: 'OTSAuthFailed',
      message: 'Signature mismatch.',
    });
    expect(h.calls.at(-1)?.response.headers.authorization).toBeUndefined();
  });

  it('refuses unknown and disabled access keys', async () => {
    const unknown = h.client({ account: { ...ALICE, accessKeyId: 'LTAI5tNobodyHasThisKey' } });
    expect(await expectOtsError(unknown.listTable({}))).toEqual({
      status: 403,
      code: 'OTSAuthFailed',
      message: 'The AccessKeyID does not exist.',
    });
    const disabled = {
      accountId: '3333333333333333',
      accessKeyId: 'LTAI5tDisabledKey003',
      secret: 'disabled-secret',
    };
    h.credentials.addAccount(disabled);
    const entry = h.credentials.keys.get(disabled.accessKeyId);
    if (entry) entry.inactive = true;
    expect(await expectOtsError(h.client({ account: disabled }).listTable({}))).toEqual({
      status: 403,
      code: 'OTSAuthFailed',
      message: 'The AccessKeyID is disabled.',
    });
  });

  it('accepts STS credentials until the token expires on the localcloud clock', async () => {
    const sts = h.credentials.addStsToken(
      ALICE.accountId,
      'ResourceDirectoryAccountAccessRole',
      3600_000,
    );
    const client = h.client({ sts });
    expect((await client.listTable({})).tableNames).toContain('auth_demo');
    const wrongToken = h.client({ sts: { ...sts, token: 'forged' } });
    expect((await expectOtsError(wrongToken.listTable({}))).code).toBe('OTSAuthFailed');
    h.clock.advance(3600_000);
    const expired = await expectOtsError(client.listTable({}));
    expect(expired).toMatchObject({ status: 403, code: 'OTSAuthFailed' });
    expect(expired.message).toContain('expired');
    h.clock.advance(-3600_000);
  });

  it('refuses a request whose x-ots-date is too far from the server time', async () => {
    const original = TableStore.util.date.getDate;
    TableStore.util.date.getDate = () => new Date(Date.now() - 20 * 60 * 1000);
    try {
      const error = await expectOtsError(h.client().listTable({}));
      expect(error).toMatchObject({ status: 403, code: 'OTSAuthFailed' });
      expect(error.message).toMatch(/^Mismatch between system time and x-ots-date: \d{4}-/);
    } finally {
      TableStore.util.date.getDate = original;
    }
  });

  it('refuses a body that does not match x-ots-contentmd5', async () => {
    const body = sdkRequestBody('listTable', {});
    const raw = await sendRaw(h.endpoint, 'ListTable', body, {
      md5: createHash('md5').update('other').digest('base64'),
    });
    expect(raw).toMatchObject({
      status: 403,
      error: {
        code: 'OTSAuthFailed',
        message: 'Mismatch between MD5 value of request body and x-ots-contentmd5 in header.',
      },
    });
  });

  it('refuses a signed header changed after signing', async () => {
    const raw = await sendRaw(h.endpoint, 'ListTable', sdkRequestBody('listTable', {}), {
      override: { 'x-ots-instancename': 'other-instance' },
    });
    expect(raw).toMatchObject({
      status: 403,
      error: { code: 'OTSAuthFailed', message: 'Signature mismatch.' },
    });
  });
});

describe('instances', () => {
  it('serves one instance namespace per account', async () => {
    const bob = h.client({ account: BOB });
    await createTable(bob, { name: 'bob_only', primaryKey: [{ name: 'k', type: 'STRING' }] });
    expect((await bob.listTable({})).tableNames).toEqual(['bob_only']);
    expect((await h.client().listTable({})).tableNames).not.toContain('bob_only');
  });

  it('refuses an instance the account does not have, naming it', async () => {
    const error = await expectOtsError(h.client({ instance: 'no-such-inst' }).listTable({}));
    expect(error).toMatchObject({ status: 403, code: 'OTSAuthFailed' });
    expect(error.message).toContain('The instance is not found.');
    expect(error.message).toContain("'no-such-inst'");
  });

  it('refuses an invalid instance name', async () => {
    const error = await expectOtsError(h.client({ instance: '_bad' }).listTable({}));
    expect(error).toEqual({
      status: 400,
      code: 'OTSParameterInvalid',
      message: "Invalid instance name: '_bad'.",
    });
  });
});

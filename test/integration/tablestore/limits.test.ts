import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, expectOtsError, type Harness, INSTANCE, startHarness } from './harness';
import { createTable, expectNotExist, ignore } from './helpers';
import { sdkRequestBody, sendRaw } from './raw';
import { long, type SdkClient, TableStore } from './sdk';

let h: Harness;
let client: SdkClient;
const MB = 1024 * 1024;

beforeAll(async () => {
  h = await startHarness();
  client = h.client();
  await createTable(client, { name: 'lim', primaryKey: [{ name: 'k', type: 'STRING' }] });
  await createTable(client, { name: 'lim_bin', primaryKey: [{ name: 'k', type: 'BINARY' }] });
});
afterAll(async () => {
  await h.close();
});

const put = (k: string, columns: Array<Record<string, unknown>>, condition = ignore()) =>
  client.putRow({ tableName: 'lim', condition, primaryKey: [{ k }], attributeColumns: columns });

describe('documented errors, through the SDK', () => {
  it('OTSConditionCheckFail 403', async () => {
    await put('exists', [{ v: 1 }]);
    expect(await expectOtsError(put('exists', [{ v: 2 }], expectNotExist()))).toEqual({
      status: 403,
      code: 'OTSConditionCheckFail',
      message: 'Condition check failed.',
    });
  });

  it('OTSObjectNotExist 404', async () => {
    expect(
      await expectOtsError(client.getRow({ tableName: 'no_table', primaryKey: [{ k: 'a' }] })),
    ).toEqual({
      status: 404,
      code: 'OTSObjectNotExist',
      message: 'Requested table does not exist.',
    });
  });

  it('OTSObjectAlreadyExist 409', async () => {
    expect(
      await expectOtsError(
        createTable(client, { name: 'lim', primaryKey: [{ name: 'k', type: 'STRING' }] }),
      ),
    ).toEqual({
      status: 409,
      code: 'OTSObjectAlreadyExist',
      message: 'Requested table already exists.',
    });
  });

  it('OTSParameterInvalid 400', async () => {
    expect(await expectOtsError(client.describeTable({ tableName: '9lives' }))).toEqual({
      status: 400,
      code: 'OTSParameterInvalid',
      message: "Invalid table name: '9lives'.",
    });
  });

  it('OTSAuthFailed 403', async () => {
    const error = await expectOtsError(
      h.client({ account: { ...ALICE, secret: 'wrong' } }).listTable({}),
    );
    expect(error).toEqual({ status: 403, code: 'OTSAuthFailed', message: 'Signature mismatch.' });
  });

  it('OTSInvalidPK 400', async () => {
    const error = await expectOtsError(
      client.getRow({ tableName: 'lim', primaryKey: [{ k: long(1) }] }),
    );
    expect(error).toEqual({
      status: 400,
      code: 'OTSInvalidPK',
      message: 'Validate PK type fail. Input: VT_INTEGER, Meta: VT_STRING.',
    });
    const name = await expectOtsError(
      client.getRow({ tableName: 'lim', primaryKey: [{ key: 'a' }] }),
    );
    expect(name).toEqual({
      status: 400,
      code: 'OTSInvalidPK',
      message: 'Validate PK name fail. Input: key, Meta: k.',
    });
  });

  it('OTSMethodNotAllowed 405', async () => {
    const raw = await sendRaw(h.endpoint, 'ListTable', Buffer.alloc(0), { method: 'GET' });
    expect(raw).toMatchObject({
      status: 405,
      error: {
        code: 'OTSMethodNotAllowed',
        message: 'OTSMethodNotAllowedOnly POST method for requests is supported.',
      },
    });
  });

  it('OTSRequestBodyTooLarge 413', async () => {
    const big = 'x'.repeat(2 * MB - 100);
    const error = await expectOtsError(put('huge', [{ a: big }, { b: big }, { c: big }]));
    expect(error).toEqual({
      status: 413,
      code: 'OTSRequestBodyTooLarge',
      message: 'The size of POST data is too large.',
    });
  });

  it('OTSOutOfColumnCountLimit 400', async () => {
    const columns = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) => ({ [`c${from + i}`]: long(i) }));
    await put('wide', columns(0, 1000));
    const error = await expectOtsError(
      client.updateRow({
        tableName: 'lim',
        condition: ignore(),
        primaryKey: [{ k: 'wide' }],
        updateOfAttributeColumns: [{ PUT: columns(1000, 100) }],
      }),
    );
    expect(error).toMatchObject({ status: 400, code: 'OTSOutOfColumnCountLimit' });
    expect(error.message).toBe(
      'The number of columns in one row exceeded the limit, limit count: 1024, column count: 1100.',
    );
  });

  it('OTSOutOfRowSizeLimit 400', async () => {
    const chunk = 'y'.repeat(1.9 * MB);
    await put('fat', [{ a: chunk }, { b: chunk }]);
    const error = await expectOtsError(
      client.updateRow({
        tableName: 'lim',
        condition: ignore(),
        primaryKey: [{ k: 'fat' }],
        updateOfAttributeColumns: [{ PUT: [{ c: chunk }] }],
      }),
    );
    expect(error).toMatchObject({ status: 400, code: 'OTSOutOfRowSizeLimit' });
    expect(error.message).toMatch(
      /^The total data size of columns in one row exceeded the limit, limit size: 4194304, row size: \d+\.$/,
    );
  });

  it('OTSQuotaExhausted 403: the number of tables in an instance', async () => {
    h.service.createInstance(ALICE.accountId, 'quota-test');
    const quota = h.client({ instance: 'quota-test' });
    for (let i = 0; i < 64; i++)
      await createTable(quota, { name: `t${i}`, primaryKey: [{ name: 'k', type: 'STRING' }] });
    const error = await expectOtsError(
      createTable(quota, { name: 't64', primaryKey: [{ name: 'k', type: 'STRING' }] }),
    );
    expect(error).toEqual({
      status: 403,
      code: 'OTSQuotaExhausted',
      message: 'Number of tables exceeded the quota.',
    });
  });

  it.each([
    [409, 'OTSRowOperationConflict', 'Data is being modified by the other request.'],
    [503, 'OTSServerBusy', 'Server is busy.'],
    [403, 'OTSQuotaExhausted', 'Too frequent table operations.'],
    [404, 'OTSTableNotReady', 'The table is not ready.'],
    [500, 'OTSInternalServerError', 'Internal server error.'],
  ])('%i %s as an injected fault, in the service wire format', async (status, code, message) => {
    h.faults.push({ status, code, message });
    expect(
      await expectOtsError(client.getRow({ tableName: 'lim', primaryKey: [{ k: 'a' }] })),
    ).toEqual({ status, code, message });
  });

  it('the SDK retries an injected 503 on a read and then succeeds', async () => {
    // maxRetries is process-global in the SDK: every request of a client sets it from its config.
    const retrying = new TableStore.Client({
      accessKeyId: ALICE.accessKeyId,
      secretAccessKey: ALICE.secret,
      endpoint: h.endpoint,
      instancename: INSTANCE,
      maxRetries: 1,
    });
    h.faults.push({ status: 503, code: 'OTSServerBusy', message: 'Server is busy.' });
    const { row } = await retrying.getRow({ tableName: 'lim', primaryKey: [{ k: 'exists' }] });
    expect(row.primaryKey).toBeDefined();
    expect(h.calls.slice(-2).map((call) => call.status)).toEqual([503, 200]);
  });
});

describe('documented limits, through the SDK', () => {
  const pkRow = (k: string) => ({
    type: 'PUT',
    condition: ignore(),
    primaryKey: [{ k }],
    attributeColumns: [{ v: 1 }],
  });

  it('BatchWriteRow: at most 200 rows', async () => {
    const rows = Array.from({ length: 201 }, (_, i) => pkRow(`r${i}`));
    expect(
      await expectOtsError(client.batchWriteRow({ tables: [{ tableName: 'lim', rows }] })),
    ).toEqual({
      status: 400,
      code: 'OTSParameterInvalid',
      message: 'Rows count exceeds the upper limit: 200.',
    });
    const ok = await client.batchWriteRow({
      tables: [{ tableName: 'lim', rows: rows.slice(0, 200) }],
    });
    expect(ok.tables).toHaveLength(200);
  });

  it('BatchWriteRow: at most 4 MB of data', async () => {
    const chunk = 'z'.repeat(1.5 * MB);
    const rows = [0, 1, 2].map((i) => ({
      type: 'PUT',
      condition: ignore(),
      primaryKey: [{ k: `big${i}` }],
      attributeColumns: [{ v: chunk }],
    }));
    const error = await expectOtsError(
      client.batchWriteRow({ tables: [{ tableName: 'lim', rows }] }),
    );
    expect(error).toMatchObject({ status: 400, code: 'OTSParameterInvalid' });
    expect(error.message).toMatch(
      /^The total data size of BatchWriteRow request exceeds the limit, limit size: 4194304, data size: \d+\.$/,
    );
  });

  it('BatchGetRow: at most 100 rows', async () => {
    const primaryKey = Array.from({ length: 101 }, (_, i) => [{ k: `r${i}` }]);
    expect(
      await expectOtsError(
        client.batchGetRow({ tables: [{ tableName: 'lim', primaryKey, maxVersions: 1 }] }),
      ),
    ).toEqual({
      status: 400,
      code: 'OTSParameterInvalid',
      message: 'Rows count exceeds the upper limit: 100.',
    });
  });

  it('GetRange: at most 5,000 rows per page, then next_start_primary_key', async () => {
    await createTable(client, { name: 'many', primaryKey: [{ name: 'n', type: 'INTEGER' }] });
    for (let batch = 0; batch < 26; batch++) {
      const rows = Array.from({ length: 200 }, (_, i) => ({
        type: 'PUT',
        condition: ignore(),
        primaryKey: [{ n: long(batch * 200 + i) }],
        attributeColumns: [{ v: true }],
      }));
      await client.batchWriteRow({ tables: [{ tableName: 'many', rows }] });
    }
    const page = await client.getRange({
      tableName: 'many',
      direction: TableStore.Direction.FORWARD,
      inclusiveStartPrimaryKey: [{ n: TableStore.INF_MIN }],
      exclusiveEndPrimaryKey: [{ n: TableStore.INF_MAX }],
      limit: 10000,
    });
    expect(page.rows).toHaveLength(5000);
    expect(String(page.nextStartPrimaryKey?.[0]?.value)).toBe('5000');
  });

  it('GetRange: at most 4 MB per page', async () => {
    await createTable(client, { name: 'heavy', primaryKey: [{ name: 'n', type: 'INTEGER' }] });
    const value = 'w'.repeat(1_000_000);
    for (let n = 0; n < 6; n++) {
      await client.putRow({
        tableName: 'heavy',
        condition: ignore(),
        primaryKey: [{ n: long(n) }],
        attributeColumns: [{ v: value }],
      });
    }
    const page = await client.getRange({
      tableName: 'heavy',
      direction: TableStore.Direction.FORWARD,
      inclusiveStartPrimaryKey: [{ n: TableStore.INF_MIN }],
      exclusiveEndPrimaryKey: [{ n: TableStore.INF_MAX }],
    });
    expect(page.rows).toHaveLength(4);
    expect(String(page.nextStartPrimaryKey?.[0]?.value)).toBe('4');
  });

  it('1 to 4 primary key columns', async () => {
    const five = Array.from({ length: 5 }, (_, i) => ({ name: `p${i}`, type: 'STRING' as const }));
    for (const primaryKey of [[], five]) {
      expect(await expectOtsError(createTable(client, { name: 'pk_count', primaryKey }))).toEqual({
        status: 400,
        code: 'OTSParameterInvalid',
        message: 'The number of primary key columns must be in range: [1, 4].',
      });
    }
  });

  it('string primary key values up to 1 KB', async () => {
    await put('k'.repeat(1024), [{ v: 1 }]);
    expect(await expectOtsError(put('k'.repeat(1025), [{ v: 1 }]))).toEqual({
      status: 400,
      code: 'OTSParameterInvalid',
      message:
        "The length of primary key column: 'k' exceeds the MaxLength: 1024 with CurrentLength: 1025.",
    });
  });

  it('binary primary key values up to 1 KB', async () => {
    const write = (size: number) =>
      client.putRow({
        tableName: 'lim_bin',
        condition: ignore(),
        primaryKey: [{ k: Buffer.alloc(size, 1) }],
        attributeColumns: [{ v: 1 }],
      });
    await write(1024);
    expect(await expectOtsError(write(1025))).toEqual({
      status: 400,
      code: 'OTSParameterInvalid',
      message:
        "The length of primary key column: 'k' exceeds the MaxLength: 1024 with CurrentLength: 1025.",
    });
  });

  it('table names follow ^[a-zA-Z_][a-zA-Z0-9_]{0,254}$', async () => {
    await createTable(client, {
      name: `_${'a'.repeat(254)}`,
      primaryKey: [{ name: 'k', type: 'STRING' }],
    });
    for (const name of ['1abc', 'a-b', `a${'b'.repeat(255)}`, '中文']) {
      expect(
        await expectOtsError(
          createTable(client, { name, primaryKey: [{ name: 'k', type: 'STRING' }] }),
        ),
      ).toEqual({
        status: 400,
        code: 'OTSParameterInvalid',
        message: `Invalid table name: '${name}'.`,
      });
    }
  });

  it('column names follow the same rule', async () => {
    expect(await expectOtsError(put('a', [{ 'bad-name': 1 }]))).toEqual({
      status: 400,
      code: 'OTSParameterInvalid',
      message: "Invalid column name: 'bad-name'.",
    });
  });

  it('attribute values up to 2 MB, 1,024 attribute columns per write, 4 MB per row write', async () => {
    const tooLong = await expectOtsError(put('a', [{ v: 'q'.repeat(2 * MB + 1) }]));
    expect(tooLong).toEqual({
      status: 400,
      code: 'OTSParameterInvalid',
      message:
        "The length of attribute column: 'v' exceeded the MaxLength:2097152 with Current Length:2097153.",
    });
    const tooMany = await expectOtsError(
      put(
        'a',
        Array.from({ length: 1025 }, (_, i) => ({ [`c${i}`]: 1 })),
      ),
    );
    expect(tooMany).toEqual({
      status: 400,
      code: 'OTSParameterInvalid',
      message:
        'The number of attribute columns exceeds the limit, limit count: 1024, column count: 1025.',
    });
    const chunk = 'p'.repeat(1.5 * MB);
    const tooBig = await expectOtsError(put('a', [{ a: chunk }, { b: chunk }, { c: chunk }]));
    expect(tooBig).toMatchObject({ status: 400, code: 'OTSParameterInvalid' });
    expect(tooBig.message).toMatch(
      /^The total data size of PutRow request exceeds the limit, limit size: 4194304, data size: \d+\.$/,
    );
  });

  it('at most 32 defined columns', async () => {
    const definedColumn = Array.from({ length: 33 }, (_, i) => ({
      name: `d${i}`,
      type: TableStore.DefinedColumnType.DCT_STRING,
    }));
    expect(
      await expectOtsError(
        createTable(client, {
          name: 'defined',
          primaryKey: [{ name: 'k', type: 'STRING' }],
          definedColumn,
        }),
      ),
    ).toEqual({
      status: 400,
      code: 'OTSParameterInvalid',
      message: 'The number of defined columns must be in range: [0, 32].',
    });
  });

  it('a corrupted PlainBuffer checksum is refused', async () => {
    const body = sdkRequestBody('putRow', {
      tableName: 'lim',
      condition: ignore(),
      primaryKey: [{ k: 'crc' }],
      attributeColumns: [{ v: 1 }],
    });
    const decoded = (await import('./raw')).decodeRequest('PutRowRequest', body) as {
      row: Uint8Array;
    };
    const row = Buffer.from(decoded.row);
    row[row.length - 1] = (row[row.length - 1] as number) ^ 0x5a;
    const corrupted = (await import('./raw')).encodeRequest('PutRowRequest', { ...decoded, row });
    const raw = await sendRaw(h.endpoint, 'PutRow', corrupted);
    expect(raw.status).toBe(400);
    expect(raw.error?.code).toBe('OTSParameterInvalid');
    expect(raw.error?.message).toMatch(/^Cell data broken, checksum is mismatch, \d+:\d+\.$/);
    expect(
      (await client.getRow({ tableName: 'lim', primaryKey: [{ k: 'crc' }] })).row.primaryKey,
    ).toBeUndefined();
  });
});

// The adapter's retry rules, read-back of ambiguous conditional writes, batch splitting and
// credential handling, driven through the real SDK against a scripted loopback server.

import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createTablestoreClient,
  type RetryEvent,
  type TablestoreClientOptions,
  TablestoreError,
} from '../../../../shared/cloud/tablestore';
import {
  int64,
  type Responder,
  reply,
  type ScriptedTablestore,
  startScriptedTablestore,
} from '../../../support/scripted-tablestore';

let server: ScriptedTablestore | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const SECRET = 'the-secret-never-shown';
const TOKEN = 'the-sts-token-never-shown';

async function clientFor(
  respond: Responder | ScriptedSequence,
  options: Partial<TablestoreClientOptions> = {},
) {
  server = await startScriptedTablestore(
    typeof respond === 'function' ? respond : respond.responder,
  );
  const retries: RetryEvent[] = [];
  const client = createTablestoreClient({
    endpoint: server.endpoint,
    instanceName: 'testinst',
    credentials: () => ({ accessKeyId: 'AKID', accessKeySecret: SECRET, securityToken: TOKEN }),
    retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000 },
    sleep: async () => undefined,
    random: () => 0.5,
    onRetry: (e) => retries.push(e),
    ...options,
  });
  return { client, retries, requests: (server as ScriptedTablestore).requests };
}

/** Answers the n-th request with the n-th response (the last one repeats). */
class ScriptedSequence {
  constructor(private readonly answers: Array<ReturnType<Responder>>) {}
  responder: Responder = () => {
    const next = this.answers.length > 1 ? this.answers.shift() : this.answers[0];
    if (!next) throw new Error('empty script');
    return next;
  };
}
const script = (...answers: Array<ReturnType<Responder>>) => new ScriptedSequence(answers);

const pk = [['id', 'm-1']] as const;

describe('reads', () => {
  it('retries throttling and 5xx, then returns the row', async () => {
    const { client, retries, requests } = await clientFor(
      script(
        reply.error(503, 'OTSServerBusy', 'Server is busy.'),
        reply.error(500, 'OTSInternalServerError', 'Internal server error.'),
        reply.row({ id: 'm-1' }, { big: int64('9007199254740993'), name: 'x' }),
      ),
    );
    const row = await client.getRow('t', pk);
    expect(row?.columns).toEqual({ big: 9007199254740993n, name: 'x' });
    expect(requests.map((r) => r.operation)).toEqual(['GetRow', 'GetRow', 'GetRow']);
    // full jitter with random()=0.5: half of 100 ms, then half of 200 ms
    expect(retries.map((r) => [r.attempt, r.delayMs, r.error.code])).toEqual([
      [1, 50, 'OTSServerBusy'],
      [2, 100, 'OTSInternalServerError'],
    ]);
  });

  it('gives up after maxAttempts with the last error', async () => {
    const { client, requests } = await clientFor(script(reply.error(503, 'OTSServerBusy', 'busy')));
    await expect(client.getRow('t', pk)).rejects.toMatchObject({
      code: 'OTSServerBusy',
      httpStatus: 503,
    });
    expect(requests).toHaveLength(4);
  });

  it('does not retry a final error', async () => {
    const { client, requests } = await clientFor(
      script(reply.error(400, 'OTSParameterInvalid', 'bad pk')),
    );
    await expect(client.getRow('t', pk)).rejects.toMatchObject({ code: 'OTSParameterInvalid' });
    expect(requests).toHaveLength(1);
  });

  it('returns undefined for a missing row', async () => {
    const { client } = await clientFor(script(reply.row({ id: 'm-1' }, undefined)));
    expect(await client.getRow('t', pk)).toBeUndefined();
  });
});

describe('writes', () => {
  it('retries an unconditional put after a 5xx (a repeat is harmless)', async () => {
    const { client, requests } = await clientFor(
      script(reply.error(500, 'OTSInternalServerError'), reply.ok('PutRow')),
    );
    await client.putRow('t', pk, { v: 1n });
    expect(requests.map((r) => r.operation)).toEqual(['PutRow', 'PutRow']);
  });

  it('retries after a dropped connection', async () => {
    const { client, requests } = await clientFor(script('hang-up', reply.ok('PutRow')));
    await client.putRow('t', pk, { v: 1n });
    expect(requests).toHaveLength(2);
  });

  it('never repeats an increment after a 5xx, but does after throttling', async () => {
    const first = await clientFor(
      script(reply.error(500, 'OTSInternalServerError'), reply.ok('UpdateRow')),
    );
    await expect(first.client.updateRow('t', pk, { increment: { n: 1n } })).rejects.toMatchObject({
      code: 'OTSInternalServerError',
      failureClass: 'maybe-applied',
    });
    expect(first.requests).toHaveLength(1);
    await server?.close();

    const second = await clientFor(
      script(reply.error(503, 'OTSServerBusy'), reply.ok('UpdateRow')),
    );
    await second.client.updateRow('t', pk, { increment: { n: 1n } });
    expect(second.requests).toHaveLength(2);
  });

  it('resolves a condition failure after a 5xx by reading back: the earlier attempt landed', async () => {
    const { client, requests } = await clientFor(
      script(
        reply.error(500, 'OTSInternalServerError'),
        reply.error(403, 'OTSConditionCheckFail', 'Condition check failed.'),
        reply.row({ id: 'm-1' }, { token: 'mine', n: int64('1') }),
      ),
    );
    await client.putRow(
      't',
      pk,
      { token: 'mine', n: 1n },
      { condition: { row: 'expect-not-exist' } },
    );
    expect(requests.map((r) => r.operation)).toEqual(['PutRow', 'PutRow', 'GetRow']);
  });

  it("keeps the condition failure when the row read back is someone else's", async () => {
    const { client } = await clientFor(
      script(
        reply.error(500, 'OTSInternalServerError'),
        reply.error(403, 'OTSConditionCheckFail', 'Condition check failed.'),
        reply.row({ id: 'm-1' }, { token: 'theirs', n: int64('1') }),
      ),
    );
    await expect(
      client.putRow('t', pk, { token: 'mine', n: 1n }, { condition: { row: 'expect-not-exist' } }),
    ).rejects.toMatchObject({ code: 'OTSConditionCheckFail' });
  });

  it('trusts a condition failure that follows no ambiguous attempt (no read-back)', async () => {
    const { client, requests } = await clientFor(
      script(reply.error(403, 'OTSConditionCheckFail', 'Condition check failed.')),
    );
    await expect(
      client.putRow('t', pk, { v: 1n }, { condition: { row: 'expect-not-exist' } }),
    ).rejects.toBeInstanceOf(TablestoreError);
    expect(requests).toHaveLength(1);
  });

  it('treats a conditional delete as landed when the row is gone on read-back', async () => {
    const { client, requests } = await clientFor(
      script(
        'hang-up',
        reply.error(403, 'OTSConditionCheckFail', 'Condition check failed.'),
        reply.row({ id: 'm-1' }, undefined),
      ),
    );
    await client.deleteRow('t', pk, {
      condition: { row: 'expect-exist', columns: { column: 'v', is: '=', value: 3n } },
    });
    expect(requests.map((r) => r.operation)).toEqual(['DeleteRow', 'DeleteRow', 'GetRow']);
  });

  it('sends the condition the caller asked for', async () => {
    const { client, requests } = await clientFor(script(reply.ok('UpdateRow')));
    await client.updateRow(
      't',
      pk,
      { put: { status: 'managed' }, delete: ['failure'] },
      { condition: { row: 'expect-exist', columns: { column: 'version', is: '=', value: 7n } } },
    );
    const decoded = requests[0]?.decoded as {
      condition: { rowExistence: number; columnCondition: Uint8Array };
    };
    expect(decoded.condition.rowExistence).toBe(1); // EXPECT_EXIST
    expect(Buffer.from(decoded.condition.columnCondition).includes(Buffer.from('version'))).toBe(
      true,
    );
  });

  it('refuses a column named "timestamp" (the SDK would read it as a cell version)', async () => {
    const { client, requests } = await clientFor(script(reply.ok('PutRow')));
    await expect(client.putRow('t', pk, { timestamp: 5n })).rejects.toThrow(/timestamp/);
    expect(requests).toHaveLength(0);
  });
});

describe('batch writes', () => {
  it('splits 450 rows into 200 + 200 + 50 and retries only the throttled rows', async () => {
    let call = 0;
    const { client, requests } = await clientFor((req) => {
      call += 1;
      const rows = (req.decoded as { tables: Array<{ rows: unknown[] }> }).tables[0]?.rows ?? [];
      // In the first request, row 3 is throttled; everything else succeeds.
      return reply.batchWrite([
        {
          tableName: 't',
          rows: rows.map((_, i) =>
            call === 1 && i === 3
              ? { ok: false as const, code: 'OTSServerBusy', message: 'busy' }
              : { ok: true as const },
          ),
        },
      ]);
    });
    const writes = Array.from({ length: 450 }, (_, i) => ({
      type: 'put' as const,
      table: 't',
      primaryKey: [['id', `row-${i}`]] as const,
      columns: { v: BigInt(i) },
    }));
    const results = await client.batchWriteRows(writes);
    expect(results.every((r) => r.ok)).toBe(true);
    const sizes = requests.map(
      (r) => (r.decoded as { tables: Array<{ rows: unknown[] }> }).tables[0]?.rows.length,
    );
    expect(sizes).toEqual([200, 1, 200, 50]);
  });

  it('reports per-row failures in input order', async () => {
    const { client } = await clientFor(
      script(
        reply.batchWrite([
          {
            tableName: 'a',
            rows: [
              { ok: true },
              { ok: false, code: 'OTSConditionCheckFail', message: 'Condition check failed.' },
            ],
          },
          { tableName: 'b', rows: [{ ok: true }] },
        ]),
      ),
    );
    const results = await client.batchWriteRows([
      { type: 'put', table: 'a', primaryKey: [['id', '1']], columns: { v: 1n } },
      { type: 'put', table: 'b', primaryKey: [['id', '2']], columns: { v: 2n } },
      {
        type: 'put',
        table: 'a',
        primaryKey: [['id', '3']],
        columns: { v: 3n },
        condition: { row: 'expect-not-exist' },
      },
    ]);
    expect(results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual([
      'ok',
      'ok',
      'OTSConditionCheckFail',
    ]);
  });
});

describe('credentials', () => {
  it('signs with the credentials of the moment and rebuilds the client when they change', async () => {
    let n = 0;
    const { client, requests } = await clientFor(script(reply.ok('PutRow')), {
      credentials: () => {
        n += 1;
        return n === 1
          ? { accessKeyId: 'STS.first', accessKeySecret: SECRET, securityToken: 'tok-1' }
          : { accessKeyId: 'STS.second', accessKeySecret: SECRET, securityToken: 'tok-2' };
      },
    });
    await client.putRow('t', pk, { v: 1n });
    await client.putRow('t', pk, { v: 2n });
    expect(
      requests.map((r) => [r.headers['x-ots-accesskeyid'], r.headers['x-ots-ststoken']]),
    ).toEqual([
      ['STS.first', 'tok-1'],
      ['STS.second', 'tok-2'],
    ]);
  });

  it('refuses incomplete credentials before sending anything, and does not retry', async () => {
    const { client, requests } = await clientFor(script(reply.ok('PutRow')), {
      credentials: () => ({ accessKeyId: 'AKID', accessKeySecret: '' }),
    });
    await expect(client.putRow('t', pk, { v: 1n })).rejects.toMatchObject({
      name: 'TablestoreError',
      code: 'ClientError',
      failureClass: 'final',
      message: expect.stringContaining('credentials are incomplete'),
    });
    expect(requests).toHaveLength(0);
  });

  it('keeps the secret and the token out of errors, however deeply inspected', async () => {
    const { client } = await clientFor(
      script(reply.error(403, 'OTSAuthFailed', 'Signature mismatch.')),
    );
    const err = await client.putRow('t', pk, { v: 1n }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OTSAuthFailed' });
    const text = `${inspect(err, { depth: 20, showHidden: true })} ${JSON.stringify(err)}`;
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(TOKEN);
  });
});

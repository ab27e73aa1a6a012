// The store layer's cost per call next to the raw SDK call, against localcloud's in-memory
// Tablestore on loopback. Standalone: `npm run bench store [-- --iterations N]`.
// Not part of the test run.
//
// Each figure is the mean latency of sequential calls after a warm-up, so it is the adapter's
// and repository's own work (value conversion, conditions, error handling, decoding) on top of
// the same HTTP round trip.

import http from 'node:http';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import type { RowWrite } from '../../shared/cloud/tablestore';
import { makeIdempotent } from '../../shared/domain/idempotency';
import { createStore, ensureStoreTables } from '../../shared/store';
import { startLocalTablestore } from '../support/localcloud-tablestore';
import { BenchArgs } from './support/args';

const require = createRequire(import.meta.url);
// The raw SDK, for comparison only (application code reaches it through shared/cloud/tablestore).
const TableStore = require('tablestore');

const iterations = new BenchArgs().integer('--iterations', 400, 1);

/** Mean µs per call of `fn` over n sequential calls. */
async function timeCalls(
  n: number,
  fn: (i: number) => Promise<unknown>,
  offset: number,
): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < n; i++) await fn(offset + i);
  return ((performance.now() - start) * 1000) / n;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

let sequence = 0;
/** Fresh row ids for each batch of calls, so puts never collide across rounds. */
function nextOffset(count: number): number {
  const offset = sequence;
  sequence += count;
  return offset;
}

/**
 * Times the raw call and the layered call in alternating rounds (so drift in the machine's load
 * hits both alike) after a warm-up, and reports the median round of each.
 */
async function compare(
  total: number,
  rawFn: (i: number) => Promise<unknown>,
  layeredFn: (i: number) => Promise<unknown>,
): Promise<{ raw: number; layered: number }> {
  const rounds = 7;
  const perRound = Math.max(1, Math.floor(total / rounds));
  const warm = Math.min(150, perRound * 2);
  await timeCalls(warm, rawFn, nextOffset(warm));
  await timeCalls(warm, layeredFn, nextOffset(warm));
  const raw: number[] = [];
  const layered: number[] = [];
  for (let r = 0; r < rounds; r++) {
    raw.push(await timeCalls(perRound, rawFn, nextOffset(perRound)));
    layered.push(await timeCalls(perRound, layeredFn, nextOffset(perRound)));
  }
  return { raw: median(raw), layered: median(layered) };
}

interface Line {
  what: string;
  raw: number;
  layered: number;
  layer: string;
}

function print(lines: Line[]): void {
  const header = ['call', 'raw SDK µs/call', 'store layer µs/call', 'overhead', 'store layer call'];
  const rows = lines.map((l) => [
    l.what,
    l.raw.toFixed(0),
    l.layered.toFixed(0),
    `${(((l.layered - l.raw) / l.raw) * 100).toFixed(0)}% (${(l.layered - l.raw).toFixed(0)} µs)`,
    l.layer,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  console.log(fmt(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(fmt(r));
}

async function main(): Promise<void> {
  const local = await startLocalTablestore();
  try {
    const client = await local.freshInstance();
    const prefix = 'bench_';
    await ensureStoreTables(client, { prefix });
    const store = createStore({ client, tablePrefix: prefix });
    const management = local.cloud.env.accounts.find((a) => a.kind === 'management');
    if (!management) throw new Error('no management account');
    // Same transport as the adapter (a keep-alive agent), so the figures differ by the layer only.
    const raw = new TableStore.Client({
      accessKeyId: management.accessKeyId,
      secretAccessKey: management.accessKeySecret,
      endpoint: local.cloud.url,
      instancename: 'rdgtest-1',
      maxRetries: 0,
      httpOptions: { agent: new http.Agent({ keepAlive: true, maxSockets: 64 }) },
    });
    const members = `${prefix}members`;
    const idem = `${prefix}idempotency`;
    const ignore = () => new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null);
    const notExist = () =>
      new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_NOT_EXIST, null);
    const long = (n: number) => TableStore.Long.fromNumber(n);
    const id = (lead: number, i: number) => `${lead}${String(i).padStart(11, '0')}`;

    // ---- GetRow
    await store.members.create({
      accountId: '100000000000',
      status: 'managed',
      scopeIds: ['directory:rd-1'],
    });
    const rawGetRow = () =>
      raw.getRow({
        tableName: members,
        primaryKey: [{ accountId: '100000000000' }],
        maxVersions: 1,
      });
    const get1 = await compare(iterations, rawGetRow, () =>
      client.getRow(members, [['accountId', '100000000000']]),
    );
    const get2 = await compare(iterations, rawGetRow, () => store.members.get('100000000000'));

    // ---- PutRow
    const rawCondPut = (i: number) =>
      raw.putRow({
        tableName: members,
        primaryKey: [{ accountId: id(3, i) }],
        attributeColumns: [
          { status: 'managed' },
          { scopeIds: '["directory:rd-1"]' },
          { version: long(1) },
        ],
        condition: notExist(),
      });
    const put1 = await compare(
      iterations,
      (i) =>
        raw.putRow({
          tableName: members,
          primaryKey: [{ accountId: id(2, i) }],
          attributeColumns: [
            { status: 'managed' },
            { scopeIds: '["directory:rd-1"]' },
            { version: long(1) },
          ],
          condition: ignore(),
        }),
      (i) =>
        client.putRow(members, [['accountId', id(4, i)]], {
          status: 'managed',
          scopeIds: '["directory:rd-1"]',
          version: 1n,
        }),
    );
    const put2 = await compare(iterations, rawCondPut, (i) =>
      store.members.create({
        accountId: id(5, i),
        status: 'onboarding',
        scopeIds: ['directory:rd-1'],
      }),
    );
    await raw.putRow({
      tableName: members,
      primaryKey: [{ accountId: '600000000000' }],
      attributeColumns: [{ status: 'managed' }, { scopeIds: '[]' }, { version: long(0) }],
      condition: ignore(),
    });
    let rawVersion = 0;
    let current = await store.members.create({
      accountId: '700000000000',
      status: 'managed',
      scopeIds: ['s'],
    });
    const put3 = await compare(
      iterations,
      async () => {
        await raw.putRow({
          tableName: members,
          primaryKey: [{ accountId: '600000000000' }],
          attributeColumns: [
            { status: 'managed' },
            { scopeIds: '["s"]' },
            { version: long(rawVersion + 1) },
          ],
          condition: new TableStore.Condition(
            TableStore.RowExistenceExpectation.EXPECT_EXIST,
            new TableStore.SingleColumnCondition(
              'version',
              long(rawVersion),
              TableStore.ComparatorType.EQUAL,
              false,
            ),
          ),
        });
        rawVersion += 1;
      },
      async () => {
        current = await store.members.update({ ...current, scopeIds: ['s'] });
      },
    );

    // ---- Idempotent wrapper, against the raw calls it makes
    const wrapped = makeIdempotent(async (e: { id: string }) => ({ ok: e.id }), {
      store: store.idempotency,
      name: 'bench',
      keyOf: (e) => e.id,
      ttlSeconds: 3600,
      lockSeconds: 60,
    });
    const rawIdemRow = (key: string) => [{ recordKey: key }];
    const first = await compare(
      iterations,
      async (i) => {
        await raw.putRow({
          tableName: idem,
          primaryKey: rawIdemRow(`raw-${i}`),
          attributeColumns: [
            { status: 'in_progress' },
            { lockToken: 'tok' },
            { lockExpiresAt: long(1) },
            { expiresAt: long(2) },
            { payloadHash: 'h' },
            { startedAt: long(0) },
          ],
          condition: notExist(),
        });
        await raw.updateRow({
          tableName: idem,
          primaryKey: rawIdemRow(`raw-${i}`),
          updateOfAttributeColumns: [{ PUT: [{ status: 'completed' }, { result: '{"ok":"x"}' }] }],
          condition: new TableStore.Condition(
            TableStore.RowExistenceExpectation.EXPECT_EXIST,
            new TableStore.SingleColumnCondition(
              'lockToken',
              'tok',
              TableStore.ComparatorType.EQUAL,
              false,
            ),
          ),
        });
      },
      (i) => wrapped({ id: `first-${i}` }),
    );
    await wrapped({ id: 'repeat' });
    await raw.putRow({
      tableName: idem,
      primaryKey: rawIdemRow('raw-repeat'),
      attributeColumns: [{ status: 'completed' }],
      condition: ignore(),
    });
    const repeat = await compare(
      iterations,
      async () => {
        await raw
          .putRow({
            tableName: idem,
            primaryKey: rawIdemRow('raw-repeat'),
            attributeColumns: [{ status: 'x' }],
            condition: notExist(),
          })
          .catch(() => undefined);
        await raw.getRow({ tableName: idem, primaryKey: rawIdemRow('raw-repeat'), maxVersions: 1 });
      },
      () => wrapped({ id: 'repeat' }),
    );

    // ---- Batch and range
    const batches = Math.max(14, Math.floor(iterations / 20));
    const batch = await compare(
      batches,
      (i) =>
        raw.batchWriteRow({
          tables: [
            {
              tableName: members,
              rows: Array.from({ length: 200 }, (_, j) => ({
                type: 'PUT',
                primaryKey: [{ accountId: id(8, i * 200 + j) }],
                attributeColumns: [{ status: 'managed' }, { scopeIds: '[]' }],
                condition: ignore(),
              })),
            },
          ],
        }),
      (i) => {
        const writes: RowWrite[] = Array.from({ length: 200 }, (_, j) => ({
          type: 'put',
          table: members,
          primaryKey: [['accountId', id(9, i * 200 + j)]],
          columns: { status: 'managed', scopeIds: '[]' },
        }));
        return client.batchWriteRows(writes);
      },
    );
    const rangeTable = `${prefix}role_checks`;
    const fill: RowWrite[] = Array.from({ length: 12_000 }, (_, j) => ({
      type: 'put',
      table: rangeTable,
      primaryKey: [
        ['accountId', id(1, Math.floor(j / 4))],
        ['roleName', `Role${j % 4}`],
      ],
      columns: { state: 'present', checkedAt: 1n },
    }));
    await client.batchWriteRows(fill);
    const range = await compare(
      7,
      async () => {
        let start: unknown[] | null = [
          { accountId: TableStore.INF_MIN },
          { roleName: TableStore.INF_MIN },
        ];
        while (start) {
          const page: { nextStartPrimaryKey: Array<{ name: string; value: unknown }> | null } =
            await raw.getRange({
              tableName: rangeTable,
              direction: 'FORWARD',
              inclusiveStartPrimaryKey: start,
              exclusiveEndPrimaryKey: [
                { accountId: TableStore.INF_MAX },
                { roleName: TableStore.INF_MAX },
              ],
              limit: 5000,
            });
          start = page.nextStartPrimaryKey
            ? page.nextStartPrimaryKey.map((c) => ({ [c.name]: c.value }))
            : null;
        }
      },
      async () => {
        let rows = 0;
        for await (const _ of store.roleChecks.all()) rows += 1;
        if (rows !== 12_000) throw new Error(`expected 12000 rows, read ${rows}`);
      },
    );

    console.log(
      `\nStore layer vs raw SDK: localcloud in-memory Tablestore on loopback, ${iterations} sequential calls per figure (median of 7 alternating rounds)\n`,
    );
    print([
      { what: 'GetRow', ...get1, layer: 'client.getRow' },
      { what: 'GetRow', ...get2, layer: 'members.get (decoded ManagedMember)' },
      { what: 'PutRow', ...put1, layer: 'client.putRow (unconditional)' },
      { what: 'PutRow EXPECT_NOT_EXIST', ...put2, layer: 'members.create' },
      { what: 'PutRow version = n', ...put3, layer: 'members.update' },
      { what: 'PutRow + UpdateRow', ...first, layer: 'makeIdempotent, first run' },
      { what: 'PutRow (refused) + GetRow', ...repeat, layer: 'makeIdempotent, repeat' },
      { what: 'BatchWriteRow 200 rows', ...batch, layer: 'client.batchWriteRows' },
      { what: 'GetRange 12,000 rows', ...range, layer: 'roleChecks.all() (decoded)' },
    ]);
    console.log(
      `\nthroughput through the store layer: BatchWriteRow ${((200 * 1e6) / batch.layered).toFixed(0)} rows/s, GetRange ${((12_000 * 1e6) / range.layered).toFixed(0)} rows/s`,
    );
  } finally {
    await local.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

// Tablestore emulation throughput through the official SDK: PutRow, BatchWriteRow (200-row
// batches) and GetRange (5,000-row pages), in memory and durable, side by side; and the memory
// one stored row costs (a typical session row: two key columns and ten attribute columns).
// Run: npm run bench -- tablestore-emulation

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { type Harness, startHarness } from '../integration/tablestore/harness';
import { createTable, ignore } from '../integration/tablestore/helpers';
import { long, type SdkClient, TableStore } from '../integration/tablestore/sdk';

const PUT_ROWS = 4000;
const PUT_CONCURRENCY = 16;
const BATCHES = 100;
const BATCH_SIZE = 200;
const RANGE_PASSES = 5;
const MEMORY_ROWS = 100_000;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

interface Figures {
  putRow: number;
  batchWriteRow: number;
  getRange: number;
}

const payload = (i: number) => [
  { member: `member-${i % 97}` },
  { status: i % 3 === 0 ? 'normal' : 'initializing' },
  { updated: long(1_700_000_000_000 + i) },
  { note: 'x'.repeat(64) },
];

async function measure(label: string, rows: number, work: () => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const rate = rows / seconds;
  console.error(`  ${label}: ${rows} rows in ${seconds.toFixed(2)} s`);
  return rate;
}

async function run(client: SdkClient): Promise<Figures> {
  await createTable(client, {
    name: 'bench',
    primaryKey: [
      { name: 'shard', type: 'INTEGER' },
      { name: 'id', type: 'STRING' },
    ],
  });
  let next = 0;
  const putRow = await measure('PutRow', PUT_ROWS, async () => {
    await Promise.all(
      Array.from({ length: PUT_CONCURRENCY }, async () => {
        for (let i = next++; i < PUT_ROWS; i = next++) {
          await client.putRow({
            tableName: 'bench',
            condition: ignore(),
            primaryKey: [{ shard: long(0) }, { id: `p${String(i).padStart(8, '0')}` }],
            attributeColumns: payload(i),
          });
        }
      }),
    );
  });
  const batchWriteRow = await measure('BatchWriteRow', BATCHES * BATCH_SIZE, async () => {
    for (let b = 0; b < BATCHES; b++) {
      const rows = Array.from({ length: BATCH_SIZE }, (_, j) => {
        const i = b * BATCH_SIZE + j;
        return {
          type: 'PUT',
          condition: ignore(),
          primaryKey: [{ shard: long(1) }, { id: `b${String(i).padStart(8, '0')}` }],
          attributeColumns: payload(i),
        };
      });
      const result = await client.batchWriteRow({ tables: [{ tableName: 'bench', rows }] });
      if (!result.tables.every((row) => row.isOk)) throw new Error('batch write failed');
    }
  });
  let read = 0;
  const getRange = await measure('GetRange', RANGE_PASSES * BATCHES * BATCH_SIZE, async () => {
    for (let pass = 0; pass < RANGE_PASSES; pass++) {
      let start: unknown[] = [{ shard: long(1) }, { id: TableStore.INF_MIN }];
      for (;;) {
        const page = await client.getRange({
          tableName: 'bench',
          direction: TableStore.Direction.FORWARD,
          inclusiveStartPrimaryKey: start,
          exclusiveEndPrimaryKey: [{ shard: long(1) }, { id: TableStore.INF_MAX }],
          limit: 5000,
        });
        read += page.rows.length;
        if (!page.nextStartPrimaryKey) break;
        start = page.nextStartPrimaryKey.map((cell) => ({ [cell.name]: cell.value }));
      }
    }
  });
  if (read !== RANGE_PASSES * BATCHES * BATCH_SIZE) throw new Error(`GetRange read ${read} rows`);
  return { putRow, batchWriteRow, getRange };
}

async function withHarness(dataDir: string | undefined, label: string): Promise<Figures> {
  console.error(`${label}:`);
  const harness: Harness = await startHarness(dataDir ? { dataDir } : {});
  try {
    return await run(harness.client());
  } finally {
    await harness.close();
  }
}

/** Heap and array-buffer bytes after a full collection. */
function usedBytes(): number {
  gc();
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/**
 * A session row as the session index keeps it: owner account and session id as the key; user,
 * user name, asset name and address, asset account, protocol, source IP, start, end and event
 * count as attribute columns.
 */
function sessionColumns(i: number): Array<Record<string, unknown>> {
  const h = Math.imul(i + 1, 2654435761) >>> 0;
  const start = 1_700_000_000_000 + (h % 7_776_000_000);
  return [
    { user: `u-${(h >>> 3) % 2000}` },
    { userName: `user ${(h >>> 3) % 2000}` },
    { asset: `asset-${(h >>> 7) % 5000}` },
    { assetAddress: `10.${(h >>> 9) % 256}.${(h >>> 17) % 256}.${h % 251}` },
    { assetAccount: `root-${(h >>> 11) % 20}` },
    { protocol: ['SSH', 'RDP', 'SFTP', 'MySQL'][(h >>> 13) % 4] },
    { sourceIp: `192.168.${(h >>> 5) % 256}.${(h >>> 15) % 256}` },
    { start: long(start) },
    { end: long(start + ((h >>> 9) % 7_200_000)) },
    { eventCount: long((h >>> 4) % 500) },
  ];
}

/** Bytes of heap one stored row takes in memory: the same rows, written then deleted. */
async function memoryPerRow(): Promise<number> {
  const harness: Harness = await startHarness({});
  try {
    const client = harness.client();
    await createTable(client, {
      name: 'sessions',
      primaryKey: [
        { name: 'ownerAccountId', type: 'STRING' },
        { name: 'sessionId', type: 'STRING' },
      ],
    });
    // The harness keeps every request and response: not the emulator's memory.
    harness.calls.splice(0);
    const before = usedBytes();
    for (let b = 0; b < MEMORY_ROWS / BATCH_SIZE; b++) {
      const rows = Array.from({ length: BATCH_SIZE }, (_, j) => {
        const i = b * BATCH_SIZE + j;
        return {
          type: 'PUT',
          condition: ignore(),
          primaryKey: [
            { ownerAccountId: `1${String(1_000_000_000_000_000 + (i % 50)).slice(1)}` },
            { sessionId: `s-${String(i).padStart(10, '0')}` },
          ],
          attributeColumns: sessionColumns(i),
        };
      });
      const result = await client.batchWriteRow({ tables: [{ tableName: 'sessions', rows }] });
      if (!result.tables.every((row) => row.isOk)) throw new Error('batch write failed');
      harness.calls.splice(0);
    }
    const after = usedBytes();
    return (after - before) / MEMORY_ROWS;
  } finally {
    await harness.close();
  }
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rdg-tablestore-bench-'));
try {
  // One unmeasured pass first, so both columns run on warmed-up code.
  await withHarness(undefined, 'warm-up (not reported)');
  const memory = await withHarness(undefined, 'in memory');
  const durable = await withHarness(dir, `durable (${dir})`);
  const line = (name: string, a: number, b: number) =>
    `${name.padEnd(34)} ${Math.round(a).toLocaleString('en-US').padStart(12)} ${Math.round(b).toLocaleString('en-US').padStart(12)}`;
  console.log('Tablestore emulation through the SDK (rows/second)');
  console.log(`${''.padEnd(34)} ${'in memory'.padStart(12)} ${'durable'.padStart(12)}`);
  console.log(line(`PutRow (${PUT_CONCURRENCY} concurrent)`, memory.putRow, durable.putRow));
  console.log(
    line(`BatchWriteRow (${BATCH_SIZE}-row batches)`, memory.batchWriteRow, durable.batchWriteRow),
  );
  console.log(line('GetRange (5,000-row pages)', memory.getRange, durable.getRange));
  const perRow = await memoryPerRow();
  console.log(
    `memory per stored row (2 key + 10 attribute columns, ${MEMORY_ROWS.toLocaleString('en-US')} rows): ${Math.round(perRow)} bytes`,
  );
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

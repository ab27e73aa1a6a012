// A write acknowledged to the client survives SIGKILL of the process: writes go to a log with a
// synchronous write before the answer leaves, and a restart on the same data directory replays it.

import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ALICE, INSTANCE } from './harness';
import { attrsOf, createTable, ignore, pkOf } from './helpers';
import { long, type SdkClient, TableStore } from './sdk';

const here = path.dirname(fileURLToPath(import.meta.url));
const serveScript = path.join(here, 'serve.ts');
const children = new Set<ChildProcess>();
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rdg-tablestore-durable-'));

const tornDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rdg-tablestore-torn-'));

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(tornDir, { recursive: true, force: true });
});

async function start(
  compactAfterBytes?: number,
  dir = dataDir,
): Promise<{ child: ChildProcess; client: SdkClient }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      serveScript,
      dir,
      ...(compactAfterBytes ? [String(compactAfterBytes)] : []),
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.add(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = /\{"port":(\d+)\}/.exec(out);
      if (line) resolve(Number(line[1]));
    });
    child.on('exit', (code) => reject(new Error(`emulator exited with ${code}: ${stderr}`)));
  });
  const client = new TableStore.Client({
    accessKeyId: ALICE.accessKeyId,
    secretAccessKey: ALICE.secret,
    endpoint: `http://127.0.0.1:${port}`,
    instancename: INSTANCE,
    maxRetries: 0,
  });
  return { child, client };
}

async function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  await exited;
  children.delete(child);
}

/** Writes rows until stopped; returns what was acknowledged (and what was still in flight). */
function writeUntilStopped(client: SdkClient, prefix: string) {
  const acknowledged = new Map<string, bigint>();
  const deleted = new Set<string>();
  let stop = false;
  const workers = Array.from({ length: 4 }, async (_, worker) => {
    for (let i = 0; !stop; i++) {
      const id = `${prefix}-${worker}-${i}`;
      try {
        if (i % 10 === 9) {
          const victim = `${prefix}-${worker}-${i - 1}`;
          await client.deleteRow({
            tableName: 'durable',
            condition: ignore(),
            primaryKey: [{ id: victim }],
          });
          acknowledged.delete(victim);
          deleted.add(victim);
        } else if (i % 5 === 4) {
          const rows = [0, 1, 2].map((j) => ({
            type: 'PUT',
            condition: ignore(),
            primaryKey: [{ id: `${id}-b${j}` }],
            attributeColumns: [{ v: long(i * 10 + j) }],
          }));
          const result = await client.batchWriteRow({ tables: [{ tableName: 'durable', rows }] });
          result.tables.forEach((row, j) => {
            if (row.isOk) acknowledged.set(`${id}-b${j}`, BigInt(i * 10 + j));
          });
        } else {
          await client.putRow({
            tableName: 'durable',
            condition: ignore(),
            primaryKey: [{ id }],
            attributeColumns: [{ v: long(i) }, { owner: `w${worker}` }],
          });
          acknowledged.set(id, BigInt(i));
        }
      } catch {
        return; // the process is gone: whatever was in flight was never acknowledged
      }
    }
  });
  return {
    acknowledged,
    deleted,
    stop: async () => {
      stop = true;
      await Promise.all(workers);
    },
  };
}

async function readAll(client: SdkClient): Promise<Map<string, bigint>> {
  const rows = new Map<string, bigint>();
  let start: unknown[] = [{ id: TableStore.INF_MIN }];
  for (;;) {
    const page = await client.getRange({
      tableName: 'durable',
      direction: TableStore.Direction.FORWARD,
      inclusiveStartPrimaryKey: start,
      exclusiveEndPrimaryKey: [{ id: TableStore.INF_MAX }],
    });
    for (const row of page.rows) rows.set(String(pkOf(row).id), attrsOf(row).v as bigint);
    if (!page.nextStartPrimaryKey) return rows;
    start = page.nextStartPrimaryKey.map((cell) => ({ [cell.name]: cell.value }));
  }
}

function expectAcknowledged(
  found: Map<string, bigint>,
  run: ReturnType<typeof writeUntilStopped>,
): void {
  const missing = [...run.acknowledged].filter(([id, value]) => found.get(id) !== value);
  expect(missing).toEqual([]);
  expect([...run.deleted].filter((id) => found.has(id) && !run.acknowledged.has(id))).toEqual([]);
}

describe('durability under SIGKILL', () => {
  it('finds every acknowledged write after kill -9 and restart, across compactions', async () => {
    // A small compaction threshold makes snapshots happen while writes are in flight.
    const first = await start(64 * 1024);
    await createTable(first.client, {
      name: 'durable',
      primaryKey: [{ name: 'id', type: 'STRING' }],
      definedColumn: [{ name: 'owner', type: TableStore.DefinedColumnType.DCT_STRING }],
      indexMetas: [{ name: 'durable_by_owner', primaryKey: ['owner'], definedColumn: [] }],
    });
    const run1 = writeUntilStopped(first.client, 'a');
    // Kill once the log has outgrown the threshold at least once and writes go on after it, however
    // slow the machine: a fixed wait left no snapshot on a loaded machine.
    const snapshot = path.join(dataDir, 'tablestore.snapshot.ndjson');
    await vi.waitFor(
      () => {
        expect(fs.existsSync(snapshot)).toBe(true);
        expect(run1.acknowledged.size).toBeGreaterThan(100);
      },
      { timeout: 20_000, interval: 50 },
    );
    const atSnapshot = run1.acknowledged.size;
    await vi.waitFor(() => expect(run1.acknowledged.size).toBeGreaterThan(atSnapshot + 50), {
      timeout: 20_000,
      interval: 20,
    });
    await kill(first.child, 'SIGKILL');
    await run1.stop();
    expect(run1.acknowledged.size).toBeGreaterThan(100);
    // The log outgrew the threshold at least once: recovery reads a snapshot and a log after it.
    expect(fs.existsSync(snapshot)).toBe(true);

    const second = await start(64 * 1024);
    const afterKill = await readAll(second.client);
    expectAcknowledged(afterKill, run1);
    // The index is rebuilt in step with the main table.
    const byOwner = await second.client.getRange({
      tableName: 'durable_by_owner',
      direction: TableStore.Direction.FORWARD,
      inclusiveStartPrimaryKey: [{ owner: 'w0' }, { id: TableStore.INF_MIN }],
      exclusiveEndPrimaryKey: [{ owner: 'w0' }, { id: TableStore.INF_MAX }],
    });
    const w0 = [...afterKill.keys()].filter((id) => /^a-0-\d+$/.test(id));
    expect(byOwner.rows.map((row) => String(pkOf(row).id)).sort()).toEqual(w0.sort());

    const run2 = writeUntilStopped(second.client, 'b');
    await new Promise((resolve) => setTimeout(resolve, 800));
    await kill(second.child, 'SIGKILL');
    await run2.stop();

    const third = await start();
    const afterSecondKill = await readAll(third.client);
    expectAcknowledged(afterSecondKill, run1);
    expectAcknowledged(afterSecondKill, run2);
    // A clean stop folds the log into a snapshot; the next start reads it back.
    await kill(third.child, 'SIGTERM');
    expect(fs.statSync(path.join(dataDir, 'tablestore.wal.ndjson')).size).toBe(0);
    const fourth = await start();
    expect(await readAll(fourth.client)).toEqual(afterSecondKill);
    await kill(fourth.child, 'SIGTERM');
  }, 40_000);

  it('a line cut short by kill -9 mid-write does not take the next acknowledged writes with it', async () => {
    const put = (client: SdkClient, id: string) =>
      client.putRow({
        tableName: 'durable',
        condition: ignore(),
        primaryKey: [{ id }],
        attributeColumns: [{ v: long(id.length) }],
      });
    const first = await start(undefined, tornDir);
    await createTable(first.client, {
      name: 'durable',
      primaryKey: [{ name: 'id', type: 'STRING' }],
    });
    for (const id of ['a', 'bb', 'ccc']) await put(first.client, id);
    await kill(first.child, 'SIGKILL');
    // What a kill in the middle of an append leaves: the start of a line, no newline.
    fs.appendFileSync(
      path.join(tornDir, 'tablestore.wal.ndjson'),
      '{"account":"1111111111111111","ins',
    );

    const second = await start(undefined, tornDir);
    expect([...(await readAll(second.client)).keys()]).toEqual(['a', 'bb', 'ccc']);
    for (const id of ['dddd', 'eeeee']) await put(second.client, id);
    await kill(second.child, 'SIGKILL');

    // The writes acknowledged after the torn line are on lines of their own.
    const third = await start(undefined, tornDir);
    expect(await readAll(third.client)).toEqual(
      new Map(['a', 'bb', 'ccc', 'dddd', 'eeeee'].map((id) => [id, BigInt(id.length)])),
    );
    await kill(third.child, 'SIGTERM');
  }, 40_000);
});

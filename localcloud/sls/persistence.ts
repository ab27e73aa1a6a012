// Keeps localcloud's SLS under a data directory, apart from the model (model.ts knows nothing of
// files): projects, Logstores and shards (status, hash ranges, create time, cursor base, TTL
// watermark) and the product generators' state go to a journal (core/journal.ts: one JSON line
// per change, written before the change is acknowledged, folded into a snapshot when it grows and
// on stop); each shard's log groups go to its own append-only segment files (segments.ts), with
// an in-memory index of 16 bytes per group. On start the journal is replayed, every shard's
// segments are reopened and the model is given the result: cursors handed out before keep their
// positions (same cursor base, same seqs), and TTL expiry goes on from the kept receive times.
//
//   <dataDir>/sls/sls.snapshot.ndjson, sls.wal.ndjson, sls.lock
//   <dataDir>/sls/shards/<Logstore storage id>/<shard id>/<seq>.seg|.idx

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Journal } from '../core/journal';
import {
  HASH_SPACE,
  type Logstore,
  type Project,
  type Shard,
  type ShardLog,
  type SlsChange,
  type SlsModel,
  type SlsStorage,
} from './model';
import type { ProductEntryState, ProductLogs } from './product-logs';
import { SegmentShardLog } from './segments';

export const SLS_DATA_DIR = 'sls';
const FORMAT = 1;

interface ProjectRecord {
  region: string;
  name: string;
  owner: string;
  description: string;
  createTime: number;
  lastModifyTime: number;
}

interface ShardRecord {
  id: number;
  status: 'readwrite' | 'readonly';
  /** Hash keys as hex (the end may be 2^128, one digit longer). */
  begin: string;
  end: string;
  createTime: number;
  cursorBase: string;
  /** TTL watermark: groups below it are gone. */
  firstSeq: number;
}

interface LogstoreRecord {
  region: string;
  project: string;
  /** Directory of its shards under shards/ (a recreated Logstore gets a new one). */
  storage: string;
  name: string;
  ttl: number;
  createTime: number;
  lastModifyTime: number;
  autoSplit: boolean;
  maxSplitShard: number;
  appendMeta: boolean;
  telemetryType: string;
  mode: string;
  nextShardId: number;
  shards: ShardRecord[];
}

type JournalEntry =
  | { op: 'meta'; format: number; seed: string }
  | ({ op: 'project' } & ProjectRecord)
  | { op: 'dropProject'; region: string; name: string }
  | ({ op: 'logstore' } & LogstoreRecord)
  | { op: 'dropLogstore'; region: string; project: string; name: string }
  | { op: 'trim'; storage: string; shard: number; firstSeq: number }
  | { op: 'product'; state: ProductEntryState }
  | { op: 'dropProduct'; accountId: string; product: string; region: string };

export interface SlsPersistenceOptions {
  /** The data directory (SLS keeps its files in `<dataDir>/sls`). */
  dataDir: string;
  /** A segment file is sealed past this size (default 64 MiB). */
  segmentBytes?: number;
  /** The journal is folded into a snapshot past this size (default 8 MiB). */
  compactAfterBytes?: number;
}

export interface SlsPersistence {
  /** Given to the model: new shards get segment files, changes go to the journal. */
  readonly storage: SlsStorage;
  /**
   * Puts the kept projects into the model and the products' state into `products`, and from then
   * on keeps their changes. False when nothing was kept for this organization seed (a new data
   * directory, or one written for another organization): the caller enables the fixture's
   * products, and the data of another seed, if any, stays in place unreachable by its accounts.
   */
  restore(model: SlsModel, products: ProductLogs, seed: string): boolean;
  /** Folds the journal into a snapshot now. */
  compact(): void;
  /** Clean stop: snapshot, segment indexes, files closed, lock released. */
  close(): void;
}

const key = (...parts: string[]) => parts.join('\u0000');

function toHex(value: bigint): string {
  return value.toString(16);
}

export function openSlsPersistence(options: SlsPersistenceOptions): SlsPersistence {
  const dir = path.join(options.dataDir, SLS_DATA_DIR);
  const shardsDir = path.join(dir, 'shards');
  const segmentBytes = Math.min(options.segmentBytes ?? 64 * 1024 * 1024, 2 ** 31);
  const journal = new Journal<JournalEntry>(dir, {
    name: 'sls',
    label: 'SLS',
    compactAfterBytes: options.compactAfterBytes ?? 8 * 1024 * 1024,
  });
  const fresh = journal.isEmpty();
  /** Storage id per Logstore object (assigned when its first shard is made). */
  const storageOf = new WeakMap<Logstore, string>();
  const openLogs = new Set<SegmentShardLog>();
  let model: SlsModel | undefined;
  let products: ProductLogs | undefined;
  let seed = '';
  let closed = false;

  function write(entries: JournalEntry[]): void {
    if (closed) throw new Error(`SLS data in ${dir} is closed`);
    if (journal.append(entries)) compact();
  }

  function shardLog(storage: string, shardId: number, firstSeq: number): SegmentShardLog {
    const log: SegmentShardLog = new SegmentShardLog({
      dir: path.join(shardsDir, storage, String(shardId)),
      segmentBytes,
      firstSeq,
      onTrim: (seq) => write([{ op: 'trim', storage, shard: shardId, firstSeq: seq }]),
      onClose: () => openLogs.delete(log),
    });
    openLogs.add(log);
    return log;
  }

  function projectRecord(project: Project): ProjectRecord {
    return {
      region: project.region,
      name: project.name,
      owner: project.owner,
      description: project.description,
      createTime: project.createTime,
      lastModifyTime: project.lastModifyTime,
    };
  }

  function logstoreRecord(project: Project, logstore: Logstore): LogstoreRecord {
    const storage = storageOf.get(logstore);
    if (storage === undefined) throw new Error(`SLS Logstore ${logstore.name} has no storage`);
    return {
      region: project.region,
      project: project.name,
      storage,
      name: logstore.name,
      ttl: logstore.ttl,
      createTime: logstore.createTime,
      lastModifyTime: logstore.lastModifyTime,
      autoSplit: logstore.autoSplit,
      maxSplitShard: logstore.maxSplitShard,
      appendMeta: logstore.appendMeta,
      telemetryType: logstore.telemetryType,
      mode: logstore.mode,
      nextShardId: logstore.nextShardId,
      shards: [...logstore.shards.values()].map((shard) => ({
        id: shard.id,
        status: shard.status,
        begin: toHex(shard.begin),
        end: toHex(shard.end),
        createTime: shard.createTime,
        cursorBase: shard.cursorBase.toString(),
        firstSeq: shard.log.firstSeq,
      })),
    };
  }

  function* snapshot(): Generator<JournalEntry> {
    yield { op: 'meta', format: FORMAT, seed };
    if (!model) return;
    for (const project of model.projects()) {
      yield { op: 'project', ...projectRecord(project) };
      for (const logstore of project.logstores.values()) {
        yield { op: 'logstore', ...logstoreRecord(project, logstore) };
      }
    }
    for (const state of products?.states() ?? []) yield { op: 'product', state };
  }

  function compact(): void {
    journal.compact(snapshot());
  }

  const storage: SlsStorage = {
    newShardLog(_project, logstore, shardId): ShardLog {
      let id = storageOf.get(logstore);
      if (id === undefined) {
        id = `${logstore.name}-${randomBytes(6).toString('hex')}`;
        storageOf.set(logstore, id);
      }
      return shardLog(id, shardId, 0);
    },
    changed(changes: SlsChange[]): void {
      if (!model) return; // restoring, or not yet attached: nothing to record
      write(
        changes.map((change): JournalEntry => {
          switch (change.kind) {
            case 'project':
              return { op: 'project', ...projectRecord(change.project) };
            case 'projectDeleted':
              return { op: 'dropProject', region: change.region, name: change.name };
            case 'logstore':
              return { op: 'logstore', ...logstoreRecord(change.project, change.logstore) };
            case 'logstoreDeleted':
              return {
                op: 'dropLogstore',
                region: change.project.region,
                project: change.project.name,
                name: change.name,
              };
          }
          throw new Error('unknown SLS change');
        }),
      );
    },
  };

  function restore(target: SlsModel, targetProducts: ProductLogs, organizationSeed: string) {
    const projects = new Map<string, ProjectRecord & { logstores: Map<string, LogstoreRecord> }>();
    const byStorage = new Map<string, LogstoreRecord>();
    const productStates = new Map<string, ProductEntryState>();
    let savedSeed: string | undefined;
    for (const entry of journal.replay()) {
      switch (entry.op) {
        case 'meta':
          if (entry.format !== FORMAT) {
            throw new Error(
              `SLS data in ${dir} has format ${entry.format}; this localcloud reads ${FORMAT}. Delete the directory to start afresh.`,
            );
          }
          savedSeed = entry.seed;
          break;
        case 'project': {
          const { op: _op, ...record } = entry;
          const existing = projects.get(key(entry.region, entry.name));
          projects.set(key(entry.region, entry.name), {
            ...record,
            logstores: existing?.logstores ?? new Map(),
          });
          break;
        }
        case 'dropProject':
          for (const logstore of projects.get(key(entry.region, entry.name))?.logstores.values() ??
            [])
            byStorage.delete(logstore.storage);
          projects.delete(key(entry.region, entry.name));
          break;
        case 'logstore': {
          const { op: _op, ...record } = entry;
          const project = projects.get(key(entry.region, entry.project));
          if (!project) break;
          const previous = byStorage.get(record.storage);
          // Trims recorded since the previous post-image are kept: the watermark only rises.
          for (const shard of record.shards) {
            const before = previous?.shards.find((s) => s.id === shard.id);
            if (before) shard.firstSeq = Math.max(shard.firstSeq, before.firstSeq);
          }
          project.logstores.set(record.name, record);
          byStorage.set(record.storage, record);
          break;
        }
        case 'dropLogstore': {
          const project = projects.get(key(entry.region, entry.project));
          const logstore = project?.logstores.get(entry.name);
          if (logstore) byStorage.delete(logstore.storage);
          project?.logstores.delete(entry.name);
          break;
        }
        case 'trim': {
          const shard = byStorage.get(entry.storage)?.shards.find((s) => s.id === entry.shard);
          if (shard) shard.firstSeq = Math.max(shard.firstSeq, entry.firstSeq);
          break;
        }
        case 'product':
          productStates.set(
            key(entry.state.accountId, entry.state.product, entry.state.region),
            entry.state,
          );
          break;
        case 'dropProduct':
          productStates.delete(key(entry.accountId, entry.product, entry.region));
          break;
      }
    }

    const restored: Project[] = [];
    for (const record of projects.values()) {
      const project: Project = {
        name: record.name,
        region: record.region,
        owner: record.owner,
        description: record.description,
        createTime: record.createTime,
        lastModifyTime: record.lastModifyTime,
        logstores: new Map(),
      };
      for (const saved of record.logstores.values()) {
        const logstore: Logstore = {
          name: saved.name,
          ttl: saved.ttl,
          createTime: saved.createTime,
          lastModifyTime: saved.lastModifyTime,
          autoSplit: saved.autoSplit,
          maxSplitShard: saved.maxSplitShard,
          appendMeta: saved.appendMeta,
          telemetryType: saved.telemetryType,
          mode: saved.mode,
          shards: new Map(),
          nextShardId: saved.nextShardId,
          nextWriteShard: 0,
        };
        storageOf.set(logstore, saved.storage);
        for (const shardRecord of saved.shards) {
          const shard: Shard = {
            id: shardRecord.id,
            status: shardRecord.status,
            begin: BigInt(`0x${shardRecord.begin}`),
            end: BigInt(`0x${shardRecord.end}`),
            createTime: shardRecord.createTime,
            cursorBase: BigInt(shardRecord.cursorBase),
            log: shardLog(saved.storage, shardRecord.id, shardRecord.firstSeq),
            write: { second: 0, bytes: 0, requests: 0 },
            read: { second: 0, bytes: 0, requests: 0 },
          };
          if (shard.end > HASH_SPACE || shard.begin >= shard.end) {
            throw new Error(`SLS data in ${dir} is damaged: shard ${shard.id} of ${saved.name}`);
          }
          logstore.shards.set(shard.id, shard);
        }
        project.logstores.set(logstore.name, logstore);
      }
      restored.push(project);
    }
    removeOrphans(byStorage);

    const sameOrganization = savedSeed === organizationSeed;
    target.load(restored);
    if (sameOrganization) targetProducts.restore(productStates.values());
    model = target;
    products = targetProducts;
    seed = organizationSeed;
    targetProducts.onChange((change) => {
      write([
        ...change.saved.map((state): JournalEntry => ({ op: 'product', state })),
        ...change.removed.map((removed): JournalEntry => ({ op: 'dropProduct', ...removed })),
      ]);
    });
    // A fresh snapshot records the seed and starts an empty log.
    compact();
    return !fresh && sameOrganization;
  }

  /** Removes shard directories no kept Logstore names: left by a crash between a deletion's
   *  journal line and the files' removal, or between a creation's directories and its line. */
  function removeOrphans(kept: Map<string, LogstoreRecord>): void {
    const list = (where: string): string[] => {
      try {
        return fs.readdirSync(where);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
    };
    for (const name of list(shardsDir)) {
      const record = kept.get(name);
      const where = path.join(shardsDir, name);
      if (!record) {
        fs.rmSync(where, { recursive: true, force: true });
        continue;
      }
      const ids = new Set(record.shards.map((shard) => String(shard.id)));
      for (const shard of list(where)) {
        if (!ids.has(shard)) fs.rmSync(path.join(where, shard), { recursive: true, force: true });
      }
    }
  }

  return {
    storage,
    restore,
    compact,
    close() {
      if (closed) return;
      for (const log of openLogs) log.close();
      openLogs.clear();
      if (model) compact();
      closed = true;
      journal.close();
    },
  };
}

// Which members' products write logs, and the generators that append their records at a
// configured rate. Time is localcloud's clock: `tick()` writes what is due up to now, so a test
// advances the clock and ticks; `npm start` ticks every second (start()). Enabling a product
// creates its project and Logstore in the member's account; disabling deletes them (the "log
// service not enabled" case a diagnosis must find).

import { encodeLogGroup } from './codec';
import type { SlsModel } from './model';
import {
  createProductGenerator,
  type ProductGenerator,
  type ProductName,
  productLayout,
  SeededRandom,
} from './products';

export interface ProductLogEntry {
  accountId: string;
  product: ProductName;
  region: string;
  project: string;
  logstore: string;
  logsPerMinute: number;
  /** Records written so far. */
  written: number;
}

interface RunningEntry extends ProductLogEntry {
  generator: ProductGenerator;
  /** Epoch ms up to which records were generated. */
  until: number;
  carry: number;
}

/** At most this many records per entry and tick (a large clock jump catches up gradually). */
const MAX_RECORDS_PER_TICK = 50_000;
const LOGS_PER_GROUP = 1000;

export class ProductLogs {
  private readonly entries = new Map<string, RunningEntry>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly model: SlsModel,
    private readonly now: () => number,
    private readonly seed: string,
    private readonly defaultRegion: string,
  ) {}

  private key(accountId: string, product: ProductName, region: string): string {
    return `${accountId}/${product}/${region}`;
  }

  enable(
    accountId: string,
    product: ProductName,
    options: { logsPerMinute?: number; region?: string } = {},
  ): ProductLogEntry {
    const region = options.region ?? this.defaultRegion;
    const logsPerMinute = options.logsPerMinute ?? 60;
    if (!(logsPerMinute >= 0) || !Number.isFinite(logsPerMinute)) {
      throw new RangeError(`logsPerMinute must be a number >= 0: ${logsPerMinute}`);
    }
    const layout = productLayout(product, accountId, region);
    const project = this.model.createProject({
      region,
      name: layout.project,
      owner: accountId,
      description: `${product} logs`,
    });
    if (!project.logstores.has(layout.logstore)) {
      this.model.createLogstore(project, {
        name: layout.logstore,
        ttl: layout.ttl,
        shardCount: layout.shardCount,
      });
    }
    const key = this.key(accountId, product, region);
    const existing = this.entries.get(key);
    if (existing) {
      existing.logsPerMinute = logsPerMinute;
      return view(existing);
    }
    const entry: RunningEntry = {
      accountId,
      product,
      region,
      project: layout.project,
      logstore: layout.logstore,
      logsPerMinute,
      written: 0,
      generator: createProductGenerator(product, {
        uid: accountId,
        region,
        random: new SeededRandom(`${this.seed}/${key}`),
      }),
      until: this.now(),
      carry: 0,
    };
    this.entries.set(key, entry);
    return view(entry);
  }

  /** Stops the product's logging and deletes its project (true when it was enabled). */
  disable(accountId: string, product: ProductName, region = this.defaultRegion): boolean {
    const key = this.key(accountId, product, region);
    const entry = this.entries.get(key);
    const layout = productLayout(product, accountId, region);
    this.entries.delete(key);
    const deleted = this.model.deleteProject(region, layout.project);
    return entry !== undefined || deleted;
  }

  list(): ProductLogEntry[] {
    return [...this.entries.values()].map(view);
  }

  /** Writes every record due up to localcloud's now; returns how many were written. */
  tick(): number {
    const now = this.now();
    let total = 0;
    for (const entry of this.entries.values()) {
      const due = ((now - entry.until) / 60_000) * entry.logsPerMinute + entry.carry;
      let count = Math.floor(due);
      entry.carry = due - count;
      const from = Math.floor(entry.until / 1000);
      entry.until = now;
      if (count <= 0) continue;
      count = Math.min(count, MAX_RECORDS_PER_TICK);
      const project = this.model.findProject(entry.region, entry.project);
      const logstore = project?.logstores.get(entry.logstore);
      if (!project || !logstore) continue;
      const to = Math.max(from + 1, Math.floor(now / 1000));
      for (let done = 0; done < count; done += LOGS_PER_GROUP) {
        const size = Math.min(LOGS_PER_GROUP, count - done);
        // Each group covers its share of the window, so record times only move forward.
        const batch = entry.generator.generate(
          size,
          from + ((to - from) * done) / count,
          from + ((to - from) * (done + size)) / count,
        );
        const bytes = encodeLogGroup({
          logs: batch.records.map((record) => ({ time: record.time, contents: record.contents })),
          topic: batch.topic,
          source: batch.source,
          tags: [{ key: '__product__', value: entry.product }],
        });
        const shard = this.model.writeShard(logstore);
        this.model.append(project, logstore, shard, { bytes, logCount: size }, { quota: false });
        entry.written += size;
        total += size;
      }
    }
    return total;
  }

  /** Ticks every `intervalMs` until stop() (the demo runs the generators live). */
  start(intervalMs = 1000): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

function view(entry: RunningEntry): ProductLogEntry {
  return {
    accountId: entry.accountId,
    product: entry.product,
    region: entry.region,
    project: entry.project,
    logstore: entry.logstore,
    logsPerMinute: entry.logsPerMinute,
    written: entry.written,
  };
}

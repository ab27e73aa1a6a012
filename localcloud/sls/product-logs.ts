// Which members' products write logs, and the generators that append their records at a
// configured rate. Time is localcloud's clock: `tick()` writes what is due up to now, so a test
// advances the clock and ticks; `npm start` ticks every second (start()). Enabling a product
// creates its project and Logstore in the member's account; disabling deletes them (the "log
// service not enabled" case a diagnosis must find). Each entry's state (rate, records written, how
// far it got, its generator's random state and open sessions) is reported to `onChange` before
// the records it describes are written, and `restore` resumes from it after a restart.

import { encodeLogGroup } from './codec';
import type { SlsModel } from './model';
import {
  createProductGenerator,
  type GeneratorState,
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

/** An entry as saved: enough to resume it where it stopped. */
export interface ProductEntryState {
  accountId: string;
  product: ProductName;
  region: string;
  logsPerMinute: number;
  written: number;
  /** Fraction of a record due but not yet written. */
  carry: number;
  generator: GeneratorState;
}

export interface ProductChange {
  saved: ProductEntryState[];
  removed: Array<{ accountId: string; product: ProductName; region: string }>;
}

export type ProductChangeListener = (change: ProductChange) => void;

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
  private listener: ProductChangeListener | undefined;

  constructor(
    private readonly model: SlsModel,
    private readonly now: () => number,
    private readonly seed: string,
    private readonly defaultRegion: string,
  ) {}

  private key(accountId: string, product: ProductName, region: string): string {
    return `${accountId}/${product}/${region}`;
  }

  /** Called with each change of the entries' state (the persistence keeps it). */
  onChange(listener: ProductChangeListener): void {
    this.listener = listener;
  }

  private saved(entries: RunningEntry[]): void {
    if (entries.length > 0) this.listener?.({ saved: entries.map(stateOf), removed: [] });
  }

  private newEntry(
    accountId: string,
    product: ProductName,
    region: string,
    logsPerMinute: number,
  ): RunningEntry {
    const layout = productLayout(product, accountId, region);
    const key = this.key(accountId, product, region);
    return {
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
  }

  /** Every entry's state, as `restore` takes it back. */
  states(): ProductEntryState[] {
    return [...this.entries.values()].map(stateOf);
  }

  /** Resumes saved entries (their projects and Logstores are restored with the model). Records
   *  fall due from now on: nothing is made up for the time localcloud was stopped. */
  restore(states: Iterable<ProductEntryState>): void {
    for (const state of states) {
      const entry = this.newEntry(
        state.accountId,
        state.product,
        state.region,
        state.logsPerMinute,
      );
      entry.written = state.written;
      entry.carry = state.carry;
      entry.generator.loadState(state.generator);
      this.entries.set(this.key(state.accountId, state.product, state.region), entry);
    }
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
      this.saved([existing]);
      return view(existing);
    }
    const entry = this.newEntry(accountId, product, region, logsPerMinute);
    this.entries.set(key, entry);
    this.saved([entry]);
    return view(entry);
  }

  /** Stops the product's logging and deletes its project (true when it was enabled). */
  disable(accountId: string, product: ProductName, region = this.defaultRegion): boolean {
    const key = this.key(accountId, product, region);
    const entry = this.entries.get(key);
    const layout = productLayout(product, accountId, region);
    if (this.entries.delete(key)) {
      this.listener?.({ saved: [], removed: [{ accountId, product, region }] });
    }
    const deleted = this.model.deleteProject(region, layout.project);
    return entry !== undefined || deleted;
  }

  list(): ProductLogEntry[] {
    return [...this.entries.values()].map(view);
  }

  /** Writes every record due up to localcloud's now; returns how many were written. */
  tick(): number {
    const now = this.now();
    const due: Array<{ entry: RunningEntry; groups: Array<{ bytes: Buffer; logCount: number }> }> =
      [];
    for (const entry of this.entries.values()) {
      const owed = ((now - entry.until) / 60_000) * entry.logsPerMinute + entry.carry;
      let count = Math.floor(owed);
      entry.carry = owed - count;
      const from = Math.floor(entry.until / 1000);
      entry.until = now;
      if (count <= 0) continue;
      count = Math.min(count, MAX_RECORDS_PER_TICK);
      const logstore = this.model
        .findProject(entry.region, entry.project)
        ?.logstores.get(entry.logstore);
      if (!logstore) continue;
      const to = Math.max(from + 1, Math.floor(now / 1000));
      const groups = [];
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
        groups.push({ bytes, logCount: size });
      }
      entry.written += count;
      due.push({ entry, groups });
    }
    // The state is kept before the records are written: a crash in between loses this tick's
    // records (never acknowledged to anyone) rather than writing them twice after a restart.
    this.saved(due.map(({ entry }) => entry));
    let total = 0;
    for (const { entry, groups } of due) {
      const project = this.model.findProject(entry.region, entry.project);
      const logstore = project?.logstores.get(entry.logstore);
      if (!project || !logstore) continue;
      for (const group of groups) {
        const shard = this.model.writeShard(logstore);
        this.model.append(project, logstore, shard, group, { quota: false });
        total += group.logCount;
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

function stateOf(entry: RunningEntry): ProductEntryState {
  return {
    accountId: entry.accountId,
    product: entry.product,
    region: entry.region,
    logsPerMinute: entry.logsPerMinute,
    written: entry.written,
    carry: entry.carry,
    generator: entry.generator.saveState(),
  };
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

// Simple Log Service in localcloud: the data model, the REST service, the products that write
// logs, and their controls, assembled for startLocalCloud; kept under the data directory when
// there is one (persistence.ts), in memory otherwise.

import type { LocalClock } from '../core/clock';
import type { LocalRequest, LocalResponse } from '../core/contracts';
import { encodeLogGroup } from './codec';
import { handleSlsControl } from './control';
import { memoryStorage, type ShardQuotas, SlsModel } from './model';
import { openSlsPersistence } from './persistence';
import { ProductLogs } from './product-logs';
import type { ProductName } from './products';
import { createSlsService, type SlsService } from './service';

export type { LogContent, LogGroup, LogRecord } from './codec';
export {
  decodeLogGroup,
  decodeLogGroupList,
  encodeLogGroup,
  encodeLogGroupList,
} from './codec';
export { lz4CompressBlock, lz4DecompressBlock } from './lz4';
export type { ShardQuotas, ShardView } from './model';
export { DEFAULT_QUOTAS, LIMITS, SlsModel, shardView } from './model';
export type { ProductLogEntry } from './product-logs';
export { ProductLogs } from './product-logs';
export type { ProductName } from './products';
export { PRODUCTS, productLayout } from './products';
export type { SlsService } from './service';
export { parseSlsHost, SLS_API_VERSION } from './service';

/** What the function host's log trigger reads (structurally host/log-trigger's LogTriggerSource). */
export interface SlsTriggerSource {
  shards(
    region: string,
    project: string,
    logstore: string,
  ): Array<{ shardId: number; readonly: boolean }> | undefined;
  cursor(
    region: string,
    project: string,
    logstore: string,
    shardId: number,
    from: 'begin' | 'end',
  ): string;
  cursorTime(
    region: string,
    project: string,
    logstore: string,
    shardId: number,
    cursor: string,
  ): number;
  writeLog(region: string, project: string, logstore: string, record: Record<string, string>): void;
}

export interface LocalSls {
  service: SlsService;
  model: SlsModel;
  products: ProductLogs;
  /** For the function host's SLS triggers. */
  triggerSource: SlsTriggerSource;
  /** Answers /__localcloud/sls/<segments>. */
  control(req: LocalRequest, segments: string[]): LocalResponse;
  /** True when projects, Logstores, data and products came back from the data directory. */
  restored: boolean;
}

export interface LocalSlsOptions {
  clock: LocalClock;
  region: string;
  /** Seeds the product generators (the organization's seed: a demo run is reproducible). */
  seed: string;
  quotas?: Partial<ShardQuotas>;
  /** Absent = in memory. SLS keeps its data in `<dataDir>/sls`. */
  dataDir?: string;
  /** Segment and journal sizes under the data directory (tests make them small). */
  persistence?: { segmentBytes?: number; compactAfterBytes?: number };
  /** Products that log from the start (unless the data directory brought back its own): account
   *  id, product, rate. */
  products?: Array<{
    accountId: string;
    product: ProductName;
    logsPerMinute?: number;
    region?: string;
  }>;
}

export function createLocalSls(options: LocalSlsOptions): LocalSls {
  const persistence = options.dataDir
    ? openSlsPersistence({ dataDir: options.dataDir, ...options.persistence })
    : undefined;
  const model = new SlsModel(
    () => options.clock.now(),
    options.quotas,
    persistence?.storage ?? memoryStorage,
  );
  const products = new ProductLogs(model, () => options.clock.now(), options.seed, options.region);
  let restored = false;
  try {
    restored = persistence?.restore(model, products, options.seed) ?? false;
    if (!restored) {
      for (const entry of options.products ?? []) {
        products.enable(entry.accountId, entry.product, {
          ...(entry.logsPerMinute === undefined ? {} : { logsPerMinute: entry.logsPerMinute }),
          ...(entry.region === undefined ? {} : { region: entry.region }),
        });
      }
    }
  } catch (error) {
    persistence?.close();
    throw error;
  }
  const service = createSlsService({
    model,
    region: options.region,
    wallNow: () => options.clock.wallNow(),
  });
  const deps = { model, products, region: options.region };
  const control = (req: LocalRequest, segments: string[]) => handleSlsControl(deps, req, segments);
  const shardOf = (region: string, project: string, logstore: string, shardId: number) =>
    model.shard(model.logstore(model.project(region, project), logstore), shardId);
  const triggerSource: SlsTriggerSource = {
    shards(region, project, logstore) {
      const store = model.findProject(region, project)?.logstores.get(logstore);
      if (!store) return undefined;
      return model
        .shards(store)
        .map((shard) => ({ shardId: shard.id, readonly: shard.status === 'readonly' }));
    },
    cursor: (region, project, logstore, shardId, from) =>
      model.cursorFrom(shardOf(region, project, logstore, shardId), from),
    cursorTime: (region, project, logstore, shardId, cursor) =>
      model.cursorTime(shardOf(region, project, logstore, shardId), cursor),
    writeLog(region, project, logstore, record) {
      const target = model.findProject(region, project);
      const store = target?.logstores.get(logstore);
      if (!target || !store) return;
      const bytes = encodeLogGroup({
        logs: [
          {
            time: Math.floor(options.clock.now() / 1000),
            contents: Object.entries(record).map(([key, value]) => ({ key, value })),
          },
        ],
        topic: 'fc_trigger_log',
        tags: [],
      });
      model.append(
        target,
        store,
        model.writeShard(store),
        { bytes, logCount: 1 },
        { quota: false },
      );
    },
  };
  return {
    service: {
      ...service,
      control,
      close: async () => {
        products.stop();
        persistence?.close();
      },
    },
    model,
    products,
    triggerSource,
    control,
    restored,
  };
}

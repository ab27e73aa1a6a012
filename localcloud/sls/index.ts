// Simple Log Service in localcloud: the data model, the REST service, the products that write
// logs, and their controls, assembled for startLocalCloud.

import type { LocalClock } from '../core/clock';
import type { LocalRequest, LocalResponse } from '../core/contracts';
import { handleSlsControl } from './control';
import { type ShardQuotas, SlsModel } from './model';
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

export interface LocalSls {
  service: SlsService;
  model: SlsModel;
  products: ProductLogs;
  /** Answers /__localcloud/sls/<segments>. */
  control(req: LocalRequest, segments: string[]): LocalResponse;
}

export interface LocalSlsOptions {
  clock: LocalClock;
  region: string;
  /** Seeds the product generators (the organization's seed: a demo run is reproducible). */
  seed: string;
  quotas?: Partial<ShardQuotas>;
  /** Products that log from the start: account id, product, rate. */
  products?: Array<{
    accountId: string;
    product: ProductName;
    logsPerMinute?: number;
    region?: string;
  }>;
}

export function createLocalSls(options: LocalSlsOptions): LocalSls {
  const model = new SlsModel(() => options.clock.now(), options.quotas);
  const products = new ProductLogs(model, () => options.clock.now(), options.seed, options.region);
  for (const entry of options.products ?? []) {
    products.enable(entry.accountId, entry.product, {
      ...(entry.logsPerMinute === undefined ? {} : { logsPerMinute: entry.logsPerMinute }),
      ...(entry.region === undefined ? {} : { region: entry.region }),
    });
  }
  const service = createSlsService({
    model,
    region: options.region,
    wallNow: () => options.clock.wallNow(),
  });
  const deps = { model, products, region: options.region };
  const control = (req: LocalRequest, segments: string[]) => handleSlsControl(deps, req, segments);
  return {
    service: { ...service, control, close: async () => products.stop() },
    model,
    products,
    control,
  };
}

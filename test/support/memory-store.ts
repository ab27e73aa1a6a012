// Where the store's unit tests start: storeFixture on the in-memory Tablestore double with its
// hooks (so a test can fail one call), under the prefix `t_`, its clock at T0.

import type { Store } from '../../shared/store';
import { HookedTablestore } from './hooked-tablestore';
import type { ManualClock } from './manual-clock';
import { storeFixture } from './store-scenarios';

/** Where the clock starts: 2026-01-01T00:00:00Z. */
export const T0 = Date.UTC(2026, 0, 1);

export const iso = (ms: number): string => new Date(ms).toISOString();

export interface MemoryStore {
  client: HookedTablestore;
  clock: ManualClock;
  store: Store;
}

export async function memoryStore(): Promise<MemoryStore> {
  const client = new HookedTablestore();
  const { clock, store } = await storeFixture({ client, prefix: 't_' }, T0);
  return { client, clock, store };
}

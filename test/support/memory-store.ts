// Where the store's unit tests start: every table made under the prefix `t_` on the in-memory
// Tablestore double (with its hooks, so a test can fail one call), a manual clock at T0, and the
// store over both, as shared/wiring builds it over Tablestore.

import { createStore, type Store } from '../../shared/store';
import { ensureStoreTables } from '../../shared/store/tables';
import { HookedTablestore } from './hooked-tablestore';
import { ManualClock } from './manual-clock';

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
  await ensureStoreTables(client, { prefix: 't_' });
  const clock = new ManualClock(T0);
  return { client, clock, store: createStore({ client, tablePrefix: 't_', clock }) };
}

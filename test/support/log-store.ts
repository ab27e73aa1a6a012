// Log integration's store for unit tests: the real repositories (shared/store) over the in-memory
// Tablestore double, with a manual clock, and helpers to put managed members and scopes in place
// as onboarding would have. Every activity entry the capability appends is also kept in
// `appended`, for a test to read in order.

import type { NewActivity } from '../../shared/domain/activity';
import type { ShardCheckpoint } from '../../shared/logs/model';
import type { LogIntegrationStore, ShardRef } from '../../shared/logs/ports';
import type { ManagedMember } from '../../shared/onboarding/model';
import type { Store } from '../../shared/store';
import { logIntegrationStore } from '../../shared/wiring/logs';
import type { ManualClock } from './manual-clock';
import { MemoryTablestore } from './memory-tablestore';
import { storeFixture } from './store-scenarios';

export interface LogStoreFixture {
  store: Store;
  logs: LogIntegrationStore;
  clock: ManualClock;
  /** What `logs.activity.append` was given, oldest first. */
  appended: NewActivity[];
  /** A managed member covered by the scope(s) named. */
  member(accountId: string, scopeIds: string[], extra?: Partial<ManagedMember>): Promise<void>;
  /** An account scope (any kind works alike here) enabling `services`. */
  scope(id: string, services: string[]): Promise<void>;
}

export async function logStoreFixture(): Promise<LogStoreFixture> {
  const { store, clock } = await storeFixture({ client: new MemoryTablestore(), prefix: 'l_' });
  const logs = logIntegrationStore(store);
  const appended: NewActivity[] = [];
  return {
    store,
    logs: {
      ...logs,
      activity: {
        append: (entry) => {
          appended.push({ ...entry });
          return logs.activity.append(entry);
        },
      },
    },
    clock,
    appended,
    async member(accountId, scopeIds, extra = {}) {
      await store.members.create({
        accountId,
        displayName: `Member ${accountId.slice(-2)}`,
        status: 'managed',
        scopeIds,
        ...extra,
      });
    },
    async scope(id, services) {
      const [kind, targetId = ''] = id.split(':') as ['account' | 'folder' | 'directory', string];
      await store.scopes.create({ id, kind, targetId, services, createdBy: 'user:test' });
    },
  };
}

/** A checkpoint of `ref` with nothing forwarded, no failures and no gaps, under fence token 1. */
export function freshCheckpoint(
  ref: ShardRef,
  extra: Partial<ShardCheckpoint> = {},
): ShardCheckpoint {
  return {
    ...ref,
    generation: 1,
    pullCount: 100,
    finished: false,
    fenceToken: 1n,
    positionTime: 0,
    logsForwarded: 0,
    bytesForwarded: 0,
    window: [],
    failures: 0,
    gaps: [],
    ...extra,
  };
}

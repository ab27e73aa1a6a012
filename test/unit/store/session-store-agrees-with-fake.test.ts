// The session index's writes (TablestoreSessionIndex as a SessionEventStore) on the in-memory
// Tablestore double, side by side with InMemorySessionEventStore, the fake the session-index use
// case is unit-tested with: seeded plans deliver each range of forwarded Bastionhost groups one to
// three times in random order, and both stores must end with the same events and the same
// sessions as one in-order delivery. A fake that drifted from the store would let the use-case
// tests pass on behaviour the store does not have. (Searching needs a search index, which the
// double does not model: test/integration/sessions covers it against localcloud.)

import { describe, expect, it } from 'vitest';
import type { TablestoreSearchClient } from '../../../shared/cloud/tablestore';
import { silentLogger } from '../../../shared/runtime/logger';
import { indexLogGroups } from '../../../shared/sessions/ingest';
import type { SessionEventStore } from '../../../shared/sessions/ports';
import { createSessionIndex, ensureStoreTables } from '../../../shared/store';
import { forwardedGroups, generateSessions } from '../../support/bastionhost-sessions';
import { InMemorySessionEventStore } from '../../support/in-memory-sessions';
import { MemoryTablestore } from '../../support/memory-tablestore';
import { seededRandom } from '../../support/seeded-random';

const OWNERS = ['1000000000000001', '1000000000000002', '1000000000000003'];

const noSearch = (): TablestoreSearchClient => {
  const refuse = () => Promise.reject(new Error('the memory double has no search index'));
  return {
    createSearchIndex: refuse,
    describeSearchIndex: refuse,
    listSearchIndexes: refuse,
    updateSearchIndexTtl: refuse,
    deleteSearchIndex: refuse,
    search: refuse,
    computeSplits: refuse,
    parallelScan: refuse,
  };
};

async function tablestoreIndex() {
  const client = Object.assign(new MemoryTablestore(), noSearch());
  await ensureStoreTables(client, { prefix: 'u_' });
  return createSessionIndex({ client, tablePrefix: 'u_' });
}

describe('session writes: the Tablestore store and the in-memory fake agree', () => {
  it('end with the same events and sessions as one in-order delivery, whatever the plan', async () => {
    const sessions = generateSessions(8, 3, { owners: OWNERS, startSeconds: 1_700_000_000 });
    const groups = forwardedGroups(sessions, 4);
    const ranges = Array.from({ length: Math.ceil(groups.length / 3) }, (_, i) =>
      groups.slice(i * 3, i * 3 + 3),
    );
    const deps = (store: SessionEventStore) => ({ store, logger: silentLogger, concurrency: 4 });

    const reference = new InMemorySessionEventStore();
    await indexLogGroups(groups, deps(reference));
    const expected = reference.allSessions();
    expect(expected).toHaveLength(8);

    const random = seededRandom(17);
    for (let plan = 0; plan < 3; plan++) {
      const deliveries = ranges.flatMap((range) =>
        Array.from({ length: 1 + Math.floor(random() * 3) }, () => range),
      );
      deliveries.sort(() => random() - 0.5);
      const fake = new InMemorySessionEventStore();
      const table = await tablestoreIndex();
      for (const range of deliveries) {
        const [a, b] = await Promise.all([
          indexLogGroups(range, deps(fake)),
          indexLogGroups(range, deps(table)),
        ]);
        expect(b, `plan ${plan}`).toEqual(a);
      }
      for (const session of expected) {
        expect(await table.get(session), `plan ${plan}`).toEqual(session);
        expect(fake.session(session), `plan ${plan}`).toEqual(session);
        expect(await table.eventsOf(session)).toEqual(await fake.eventsOf(session));
      }
    }
  });
});

// createSessionIndex (shared/store/index.ts) picks the sessions search index version on the
// store's clock: while the declared version is still in its full phase it asks the service again
// once a minute of that clock has passed, not on every query and not by the wall clock. The rows
// are on the in-memory double; the search side is a few scripted answers (which indexes exist and
// their phase), since that is all the choice reads.

import { beforeEach, describe, expect, it } from 'vitest';
import type {
  SearchIndexDescription,
  SearchPage,
  SearchRequest,
  TablestoreSearchClient,
} from '../../../shared/cloud/tablestore';
import { createSessionIndex, sessionsSearchIndex, storeTables } from '../../../shared/store';
import { ensureStoreTables } from '../../../shared/store/tables';
import { ManualClock } from '../../support/manual-clock';
import { MemoryTablestore } from '../../support/memory-tablestore';

const declared = sessionsSearchIndex(storeTables('t_'));

class ScriptedSearch extends MemoryTablestore implements TablestoreSearchClient {
  phase: 'full' | 'incremental' = 'full';
  readonly asked: string[] = [];
  readonly searched: string[] = [];

  async listSearchIndexes(table?: string) {
    this.asked.push('ListSearchIndex');
    return table === declared.table ? [{ table, index: declared.name }] : [];
  }
  async describeSearchIndex(table: string, index: string): Promise<SearchIndexDescription> {
    this.asked.push('DescribeSearchIndex');
    return {
      table,
      name: index,
      fields: [],
      indexSort: [],
      timeToLiveSeconds: -1,
      syncPhase: this.phase,
      syncedToMs: undefined,
      rowCount: 0,
      storageBytes: 0,
      status: 'running',
    };
  }
  async search(request: SearchRequest): Promise<SearchPage> {
    this.searched.push(request.index);
    return { rows: [], totalCount: 0, nextToken: undefined, aggregations: {}, groupBys: {} };
  }
  createSearchIndex(): Promise<void> {
    throw new Error('not scripted');
  }
  updateSearchIndexTtl(): Promise<void> {
    throw new Error('not scripted');
  }
  deleteSearchIndex(): Promise<void> {
    throw new Error('not scripted');
  }
  computeSplits(): never {
    throw new Error('not scripted');
  }
  parallelScan(): never {
    throw new Error('not scripted');
  }
}

let client: ScriptedSearch;
let clock: ManualClock;

beforeEach(async () => {
  client = new ScriptedSearch();
  await ensureStoreTables(client, { prefix: 't_' });
  clock = new ManualClock(Date.UTC(2026, 0, 1));
});

describe('createSessionIndex', () => {
  it("asks again for a building index once a minute of the store's clock has passed", async () => {
    const index = createSessionIndex({ client, tablePrefix: 't_', clock });
    const lookups = () => client.asked.filter((a) => a === 'ListSearchIndex').length;
    await index.search({}, 'startTime', { limit: 1 });
    expect(client.searched).toEqual([declared.name]);
    expect(lookups()).toBe(1);
    await index.search({}, 'startTime', { limit: 1 });
    clock.advance(59_999);
    await index.summary('protocol', {});
    expect(lookups()).toBe(1);
    clock.advance(1);
    await index.search({}, 'startTime', { limit: 1 });
    expect(lookups()).toBe(2);
    // Synced now: the choice is final.
    client.phase = 'incremental';
    clock.advance(60_000);
    await index.search({}, 'startTime', { limit: 1 });
    clock.advance(600_000);
    await index.search({}, 'startTime', { limit: 1 });
    expect(lookups()).toBe(3);
    expect(client.searched).toHaveLength(6);
  });
});

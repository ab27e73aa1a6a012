// The session index over localcloud's Tablestore, as setup makes it: the store's tables (under a
// prefix of their own) and its search indexes, and the index the functions build over them.

import type { TablestoreClient, TablestoreSearchClient } from '../../shared/cloud/tablestore';
import {
  createSessionIndex,
  ensureStoreSearchIndexes,
  ensureStoreTables,
  type TablestoreSessionIndex,
} from '../../shared/store';

export async function setUpSessionIndex(
  client: TablestoreClient & TablestoreSearchClient,
  prefix: string,
): Promise<TablestoreSessionIndex> {
  await ensureStoreTables(client, { prefix });
  await ensureStoreSearchIndexes(client, { prefix });
  return createSessionIndex({ client, tablePrefix: prefix });
}

// The store of a local cloud as the functions see it: a Tablestore client of the management
// account (its admin keys, the SDK pointed at localcloud), with the store's tables created as
// s.yaml's post-deploy action creates them.

import type { LocalCloudEnv } from '../../localcloud/core/contracts';
import { DEFAULT_TABLESTORE_INSTANCE } from '../../localcloud/core/defaults';
import {
  createTablestoreClient,
  type TablestoreClient,
  type TablestoreSearchClient,
} from '../../shared/cloud/tablestore';
import { createStore, ensureStoreTables, type Store } from '../../shared/store';

export function managementTablestore(
  env: Pick<LocalCloudEnv, 'url' | 'accounts'>,
  instanceName: string = DEFAULT_TABLESTORE_INSTANCE,
): TablestoreClient & TablestoreSearchClient {
  const management = env.accounts.find((a) => a.kind === 'management');
  if (!management) throw new Error('localcloud published no management account');
  return createTablestoreClient({
    endpoint: env.url,
    instanceName,
    credentials: () => ({
      accessKeyId: management.accessKeyId,
      accessKeySecret: management.accessKeySecret,
    }),
  });
}

/** The management account's store with its tables in place. */
export async function managementStore(
  env: Pick<LocalCloudEnv, 'url' | 'accounts'>,
  instanceName?: string,
): Promise<{ client: TablestoreClient; store: Store }> {
  const client = managementTablestore(env, instanceName);
  await ensureStoreTables(client);
  return { client, store: createStore({ client }) };
}

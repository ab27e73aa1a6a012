// Starts localcloud (in memory, ephemeral port) and a Tablestore client for the management
// account, as the functions would have: the official SDK, pointed at localcloud by endpoint.

import { randomUUID } from 'node:crypto';
import { type LocalCloud, startLocalCloud } from '../../localcloud';
import {
  createTablestoreClient,
  type TablestoreClient,
  type TablestoreClientOptions,
  type TablestoreSearchClient,
} from '../../shared/cloud/tablestore';

export const INSTANCE = 'rdgtest';

export interface LocalTablestore {
  cloud: LocalCloud;
  /** A client of the instance INSTANCE of the management account. */
  client: TablestoreClient & TablestoreSearchClient;
  /** A table prefix unique to this run. */
  prefix: string;
  /**
   * A client of a fresh, empty instance of the management account: tests that create many
   * tables each get their own (an instance holds at most 64 tables, as in the cloud).
   */
  freshInstance(): Promise<TablestoreClient & TablestoreSearchClient>;
  stop(): Promise<void>;
}

export async function startLocalTablestore(
  options: Partial<TablestoreClientOptions> = {},
): Promise<LocalTablestore> {
  const cloud = await startLocalCloud({ port: 0 });
  const management = cloud.env.accounts.find((a) => a.kind === 'management');
  if (!management) throw new Error('localcloud published no management account');
  const clientOf = (instanceName: string) => {
    cloud.tablestore.createInstance(management.id, instanceName);
    return createTablestoreClient({
      endpoint: cloud.url,
      instanceName,
      credentials: () => ({
        accessKeyId: management.accessKeyId,
        accessKeySecret: management.accessKeySecret,
      }),
      ...options,
    });
  };
  const client = clientOf(INSTANCE);
  let instances = 0;
  return {
    cloud,
    client,
    prefix: `s${randomUUID().slice(0, 8)}_`,
    async freshInstance() {
      instances += 1;
      return clientOf(`${INSTANCE}-${instances}`);
    },
    stop: () => cloud.stop(),
  };
}

// The central Logstore every integrated log is forwarded to: in the functions' own account and
// region, its project and Logstore named by configuration, made idempotently by the post-deploy
// setup (npm run setup:logs) as the tables are, and by `npm start` the same way.

import type { LogstoreAddress } from './model';
import type { LogstoreAdministration } from './ports';

export interface CentralLogstoreSettings {
  /** Days logs are kept in a new central Logstore (an existing one keeps its own). */
  ttlDays: number;
  /** Shards of a new central Logstore: each takes 5 MB/s of writes. */
  shardCount: number;
}

export async function ensureCentralLogstore(
  admin: LogstoreAdministration,
  address: LogstoreAddress,
  settings: CentralLogstoreSettings,
): Promise<{ project: 'created' | 'exists'; logstore: 'created' | 'exists' }> {
  const project = await admin.createProject(
    address.project,
    'rd-governance: logs integrated from member accounts',
  );
  const logstore = await admin.createLogstore(address, settings);
  return { project, logstore };
}
